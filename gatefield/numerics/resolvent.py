"""Density of the Jacobian's spectrum inside its support (THEORY.md section 5).

The Hermitized cavity equations of THEORY.md section 5 are solved for the
limiting resolvent ``g(lam) = lim (1/N) tr (lam - Jac)^(-1)``; the density is
``rho = (1/pi) dg/d conj(lam)`` and the share of eigenvalues inside a curve is
the contour integral of ``g``. The per-unit coefficients enter nonlinearly, so
a site distribution here keeps every site's full pencil ``(A, B, C, E)``
(:class:`PencilSites`), not the moments :class:`~gatefield.numerics.support.SiteTable`
reduces them to.

How the equations are solved (the reduction is exact; it is derived in the
Notes of :func:`resolvent`): at ``eps = 0`` a Woodbury identity collapses
each site's ``2k x 2k`` inverse to ``K x K`` Hermitian positive-definite
inverses of the matrix ``X = -(C (lam - A)^(-1) B + E)`` whose squared
moduli average to the support matrix ``M``; the unknowns become ``2K``
non-negative reals, solved by Newton's method with the analytic Jacobian.
With two active nodes (a GRU) every per-site quantity is a closed form in
four moduli, two cross products and ``|det X|^2`` (real arithmetic, no
matrix products). On a grid, rows start from the row before, moved to first
order along ``dx/d conj(lam)`` from the density's implicit differentiation;
points outside the support cost one ``M`` and no Newton iteration
(``benchmarks/bench_density.py`` times a 100 x 100 GRU grid). The literal
``2k x 2k`` equations at ``eps > 0`` are kept as an independent route
(``resolvent(..., eps=...)``), used by the tests to check the reduction.

Limits: ``lam`` must not coincide with an eigenvalue of a site's ``A``
(``(lam - A)^(-1)`` enters the reduced equations; e.g. ``lam = 0`` for a
product of Ginibre matrices or an LSTM, whose sites all have ``A``
singular); such a point raises :class:`SolverError`. Near the real axis
inside the bulk, discrete sites whose ``A`` is real limit the accuracy (see
:func:`fixed_point_pencil_sites`). The log-potential
``(1/N) log|det(lam - Jac)|`` is not provided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..errors import SolverError
from ..theory.derive import fixed_point, jacobian_pencil
from .codegen import CompiledCell
from .quadrature import ORDER, STEEP, node_rule
from .support import fixed_states

__all__ = [
    "PencilSites",
    "ResolventResult",
    "fixed_point_pencil_sites",
    "plugin_pencil_sites",
    "split_hermite_rule",
    "resolvent",
    "resolvent_grid",
    "density",
    "count_inside",
    "count_annulus",
]

#: Default size of the tensor grid of :func:`fixed_point_pencil_sites`: each
#: of the d nodes gets ``floor(MAX_SITES^(1/d))`` Gauss nodes (at most
#: ``MAX_POINTS``): 64 for one or two nodes, 16 for a GRU (3 nodes), 8 for
#: an LSTM (4 nodes; its eta_g is split in two, 7752 sites after pruning).
#: Measured accuracy of the density at these sizes: GRU (g_h = 1.6,
#: alpha_r = 2, beta_h = 0.4) about 1e-6 relative at |Im lam| >= 0.2
#: (against 32 nodes at 30 points of a 100 x 100 grid: median 7e-7, worst
#: 7e-6; 12 nodes: median 9e-6, worst 3e-5); LSTM (beta_f = 3, g_g = 1, beta_g = 1) about 2e-3 in the
#: bulk (10 nodes: 1e-3); vanilla map (g = 2) counts to 5e-12.
MAX_SITES = 4096
#: Most nodes per variable (per segment): the Stieltjes procedure on
#: ``FINE`` points stays accurate up to here.
MAX_POINTS = 64
#: A plain Gauss-Hermite rule whose relative error on the pencil's moments
#: along its node is below this is not split (see ``_node_rule``).
PROBE_TOL = 1e-7
#: Switch points closer than this (standard units) are merged.
SPLIT_GAP = 0.25
#: Half-width, in standard deviations, of the range split rules cover: the
#: Gaussian mass beyond 8.5 is 2e-17.
RANGE = 8.5
#: Gauss-Legendre nodes per segment of the fine discretization from which
#: split rules are built (the Stieltjes procedure reproduces Gauss-Hermite
#: from it to 1e-12 without switches).
FINE = 400
#: Sites whose weight is below this share of the total are dropped: they
#: change no expectation at the accuracy the solver reaches (1e-12).
NEGLIGIBLE_WEIGHT = 1e-14
#: Newton stops when ``max |Phi(x) - x| <= tol * max |x|``.
TOL = 1e-12
#: Newton iterations per point before giving up.
MAX_ITER = 60
#: The support is where the spectral radius of ``M`` exceeds 1; points within
#: this relative margin of 1 are treated as outside (the nontrivial solution
#: there is below the solver's tolerance anyway).
EDGE_MARGIN = 1e-12
#: A node whose column of ``B`` and ``E`` is below this (times the largest
#: entry) at every site is inert: its ``b`` and its share of ``M`` vanish
#: and its ``a`` feeds nothing back (a GRU's update gate at a fixed point,
#: where ``dF/deta_z = z (1 - z) (h_tilde - h) = 0``; at a simulated fixed
#: point it is the residual, ~1e-11). Its share of ``M`` is below 1e-14
#: (squared), far below the solver's tolerance, while keeping it makes the
#: Newton system nearly singular in that node's unknowns.
INERT = 1e-7
#: A warm start (a neighbour's solution) whose relative residual exceeds this
#: is compared with the bifurcating branch, and the better one is kept: deep
#: inside, predicted warm starts are within about 1e-4 and win; near the
#: edge, where the amplitude changes fastest, the branch can be closer.
RESTART = 1e-3
#: A contour point left at ``max_iter`` with a relative residual below this
#: still counts (see :func:`count_inside`): one such point of the default 256
#: moves the count by under 1e-8, far below any finite-N error. Seen: 4e-11
#: next to a GRU's support edge, 1.3e-6 on an LSTM's 2000 DMFT sites.
CONTOUR_ACCEPT = 1e-6
#: Largest number of (point, site) pairs held in memory at once.
BLOCK = 20_000


@dataclass(frozen=True, eq=False)
class PencilSites:
    """A weighted site distribution with every site's full pencil.

    Attributes
    ----------
    weights : (n,) array
        Probabilities, summing to 1.
    A : (n, m, m) array
        ``dF/ds`` at each site.
    B : (n, m, K) array
        ``dF/deta``.
    C : (n, K, m) array
        ``dv_a/ds``.
    E : (n, K, K) array
        ``dv_a/deta_b``, strictly lower triangular.
    route : str
        "fixed-point" or "plug-in"; carried into every output.

    Notes
    -----
    Compared by identity (arrays have no cheap value equality).
    """

    weights: np.ndarray
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    E: np.ndarray
    route: str

    def __post_init__(self):
        n = len(self.weights)
        m, K = self.B.shape[1], self.B.shape[2]
        shapes = {"A": (n, m, m), "B": (n, m, K), "C": (n, K, m), "E": (n, K, K)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise SolverError(
                    f"PencilSites.{name} must have shape {shape}, got {getattr(self, name).shape}"
                )
        if n == 0 or not np.isclose(float(np.sum(self.weights)), 1.0, rtol=1e-12, atol=0):
            raise SolverError("PencilSites.weights must be non-empty and sum to 1")
        for name in ("weights", "A", "B", "C", "E"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise SolverError(
                    f"PencilSites.{name} has non-finite entries; check the fixed point or the simulated state"
                )

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def K(self) -> int:
        return self.B.shape[2]

    @property
    def center(self) -> complex:
        """``E[tr A] / m``: the centroid of the spectrum."""
        return complex(np.dot(self.weights, np.trace(self.A, axis1=1, axis2=2)) / self.m)


def _unpack(coefficients, m: int, K: int, n: int) -> tuple:
    """``compiled.pencil`` outputs (row-major blocks) as (n, ., .) arrays."""
    flat = np.stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in coefficients], axis=1)
    o = 0
    blocks = []
    for rows, cols in ((m, m), (m, K), (K, m), (K, K)):
        blocks.append(flat[:, o : o + rows * cols].reshape(n, rows, cols).copy())
        o += rows * cols
    return tuple(blocks)


def _pencil_nodes(compiled: CompiledCell) -> tuple:
    """Nodes the pencil depends on at a fixed point (every node if a state
    has no closed form)."""
    if compiled.numeric_states:
        return compiled.nodes
    cell = compiled.cell
    fp = fixed_point(cell)
    pen = jacobian_pencil(cell)
    entries = [fp.substitute(e) for M in (pen.A, pen.B, pen.C, pen.E) for e in M]
    return tuple(n.name for n in cell.nodes if any(e.has(n) for e in entries))


def _gauss_from_discrete(x, w, p):
    """Gauss rule with ``p`` nodes for the discrete measure ``(x, w)``, by the
    discretized Stieltjes procedure and Golub-Welsch."""
    p = min(p, len(x))
    alpha, beta = np.zeros(p), np.zeros(p)
    q_prev, q = np.zeros_like(x), np.full_like(x, 1.0 / np.sqrt(w.sum()))
    b = 0.0
    for k in range(p):
        alpha[k] = np.sum(w * x * q * q)
        r = (x - alpha[k]) * q - b * q_prev
        r -= q * np.sum(w * r * q)  # one step of reorthogonalization
        b = np.sqrt(np.sum(w * r * r))
        if k + 1 < p:
            beta[k + 1] = b
        q_prev, q = q, r / b
    jacobi = np.diag(alpha) + np.diag(beta[1:], 1) + np.diag(beta[1:], -1)
    nodes, vectors = np.linalg.eigh(jacobi)
    return nodes, w.sum() * vectors[0] ** 2


def _switches(features, values, sd):
    """Switch points (standard units) of the steep features of one node, as
    :func:`~gatefield.numerics.quadrature.node_rule` grades them."""
    out = []
    for feature in features:
        slope, offset = (float(v) for v in feature(values))
        if abs(slope) * sd > STEEP:
            x = -offset / (slope * sd)
            if abs(x) < RANGE - 0.5:
                out.append(x)
    out = np.unique(np.round(np.sort(out), 6))
    return out[np.concatenate([[True], np.diff(out) > SPLIT_GAP])] if len(out) else out


def split_hermite_rule(q: float, switches=(), points: int = 16) -> tuple:
    """Nodes and weights for ``E[f(eta)]``, ``eta ~ N(0, q)``: a Gauss rule
    with ``points`` nodes on each segment between the switch points.

    Parameters
    ----------
    q : float
        Variance (0 gives the single node 0).
    switches : sequence of float
        Switch points in standard units. None gives plain Gauss-Hermite.
    points : int
        Nodes per segment, at most ``MAX_POINTS`` when split.

    Notes
    -----
    Without switches this is the probabilists' Gauss-Hermite rule. With
    switches, each segment ``(c_j, c_(j+1))`` of the standard normal
    (truncated at ``RANGE`` standard deviations, mass beyond 1e-15) gets the
    Gauss rule of the normal restricted to it, computed by the discretized
    Stieltjes procedure on ``FINE`` Gauss-Legendre nodes: a function that
    switches steeply at ``c_j`` is smooth on either side, and the Gauss
    nodes cluster towards the segment's ends.
    """
    if points < 1:
        raise SolverError(f"points must be a positive integer, got {points}")
    if q <= 0:
        return np.zeros(1), np.ones(1)
    sd = np.sqrt(q)
    if len(switches) == 0:
        x, w = np.polynomial.hermite_e.hermegauss(points)
        return sd * x, w / w.sum()
    if points > MAX_POINTS:
        raise SolverError(f"a split rule has at most {MAX_POINTS} nodes per segment, got {points}")
    edges = np.concatenate([[-RANGE], np.sort(switches), [RANGE]])
    xl, wl = np.polynomial.legendre.leggauss(FINE)
    nodes, weights = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        x = 0.5 * (hi - lo) * xl + 0.5 * (hi + lo)
        w = 0.5 * (hi - lo) * wl * np.exp(-0.5 * x * x)
        xs, ws = _gauss_from_discrete(x, w, points)
        nodes.append(xs)
        weights.append(ws)
    w = np.concatenate(weights)
    return sd * np.concatenate(nodes), w / w.sum()


def _node_rule(compiled, values, name, var, points):
    """The rule for one node: plain Gauss-Hermite, or split at the node's
    switch points where that integrates the pencil markedly better.

    The probe: the pencil coefficients and their squares along this node
    (the other nodes at 0, states at the fixed point), integrated with both
    candidates and with the accurate panel rule
    (:func:`~gatefield.numerics.quadrature.node_rule`, 8 nodes per panel).
    Plain wins if its relative error is below ``PROBE_TOL``, or if the split
    rule is not more accurate than plain Gauss-Hermite with as many nodes.
    """
    if var <= 0:
        return np.zeros(1), np.ones(1)
    features = compiled.features.get(name, ())
    switches = _switches(features, values, np.sqrt(var))
    plain = split_hermite_rule(var, (), points)
    if len(switches) == 0:
        return plain
    fine = node_rule(var, features, values, ORDER)

    def integrate(x, w):
        env = dict(values)
        for node in compiled.nodes:
            env[node] = np.zeros(len(x))
        env[name] = x
        env.update(fixed_states(compiled, env))
        coefficients = np.array([np.broadcast_to(c, (len(x),)) for c in compiled.pencil(env)])
        return np.concatenate([coefficients @ w, (coefficients**2) @ w])

    reference = integrate(fine.points, fine.weights)
    scale = np.maximum(np.abs(reference), 1.0)
    error_plain = np.max(np.abs(integrate(*plain) - reference) / scale)
    if error_plain <= PROBE_TOL:
        return plain
    split = split_hermite_rule(var, switches, points)
    error_split = np.max(np.abs(integrate(*split) - reference) / scale)
    # Splitting multiplies the nodes: it must beat plain Gauss-Hermite with
    # as many nodes.
    error_same = np.max(np.abs(integrate(*split_hermite_rule(var, (), len(split[0]))) - reference) / scale)
    return split if error_split < min(error_plain, error_same) else plain


def quantile_rule(var: float, points: int) -> tuple:
    """``points`` equal-weight nodes at the midpoint quantiles of N(0, var).

    For indicator-like integrands (a count whose region boundary crosses
    the real whisker of sites' own eigenvalues) its error is at most half a
    node's weight, ``1 / (2 points)``, where a Gauss rule's is a whole
    node's weight (several percent); smooth integrands converge like
    ``points^-2``.
    """
    k = np.arange(points)
    return np.sqrt(var) * ndtri((k + 0.5) / points), np.full(points, 1.0 / points)


def fixed_point_pencil_sites(
    compiled: CompiledCell, values: dict, q: dict, points=None, quantile: dict | None = None
) -> PencilSites:
    """The site distribution at a mean-field fixed point, with full pencils.

    Parameters
    ----------
    compiled : CompiledCell
    values : dict
        Parameter values by name (``cell.resolve(...)``).
    q : dict
        Node variances by node name (``eta_a ~ N(0, q_a)``).
    points : int, dict or None
        Gauss nodes per node variable (per segment for a node split at a
        steep switch; at most ``MAX_POINTS``), or a dict by node name.
        None, or a node missing from the dict:
        ``floor(MAX_SITES^(1/d))`` for d random nodes (see ``MAX_SITES``).
    quantile : dict, optional
        Node name -> number of nodes of an equal-weight :func:`quantile_rule`
        replacing that node's Gauss rule (for counts across a whisker, e.g.
        the slow-mode share near a gate's slow point).

    Notes
    -----
    Sites are the tensor product of one rule per node the pencil depends on
    at the fixed point, each site with the fixed-point states ``s*(eta)``
    of :func:`~gatefield.numerics.support.fixed_states`. A node's rule is
    Gauss-Hermite, or :func:`split_hermite_rule` at the switch points of its
    steep features where that integrates the pencil better (see
    ``_node_rule``). Sites with weight below ``NEGLIGIBLE_WEIGHT`` of the
    total are dropped. The resolvent is a nonlinear function of the
    coefficients, so no moment reduction applies: a GRU has about
    ``points^3`` sites, an LSTM ``points^4``.

    Why not the graded panels of :mod:`~gatefield.numerics.quadrature`: they
    spend 16 or more nodes per variable even at the lowest order, too many
    for a 4-dimensional tensor grid. Gauss rules put the nodes where the
    Gaussian mass is; splitting handles steep switches that plain
    Gauss-Hermite does not (an LSTM's ``tanh(i g / (1 - f))`` switches with
    ``g`` over a fraction of a standard deviation: plain Gauss-Hermite with
    2 x 8 nodes on ``eta_g`` errs by 1e-2 on its moments, split 8 + 8 by
    1e-3). Measured accuracy of the density against much finer rules, GRU
    (``g_h = 1.6, alpha_r = 2, beta_h = 0.4``, 16 nodes): about 1e-6
    relative at ``|Im lam| >= 0.2`` (median 7e-7, worst 7e-6 of 30 points
    against 32 nodes), 2e-5 at 0.05 to 0.1 away from the
    bulk's middle. Within ``|Im lam| < 0.1`` of the real axis, where every
    site's ``A`` is real, the error grows like that of a Riemann sum of a
    peak of width ``|Im lam|`` (1e-3 at 0.1 above the bulk's middle, 1e-2
    at 0.02): raise the points of the nodes ``A`` depends on
    (``compiled.support_nodes[0]``) there.
    """
    m, K = len(compiled.states), len(compiled.nodes)
    used = _pencil_nodes(compiled)
    for name in used:
        var = float(q[name])
        if not var >= 0:
            raise SolverError(f"the variance of {name} must be non-negative, got {var}")
    random = [name for name in used if float(q[name]) > 0]
    default = min(MAX_POINTS, int(np.floor(MAX_SITES ** (1.0 / max(len(random), 1)) + 1e-9)))
    if points is None:
        per_node = {}
    elif isinstance(points, dict):
        per_node = dict(points)
    else:
        per_node = {name: points for name in used}
    rules = []
    quantile = dict(quantile or {})
    for name in used:
        if name in quantile and float(q[name]) > 0:
            n_q = quantile[name]
            if isinstance(n_q, bool) or int(n_q) != n_q or n_q < 1:
                raise SolverError(f"quantile points must be positive integers, got {n_q!r} for {name}")
            rules.append(quantile_rule(float(q[name]), int(n_q)))
            continue
        p = per_node.get(name, default)
        if isinstance(p, bool) or int(p) != p or not 1 <= p <= MAX_POINTS:
            raise SolverError(f"points must be integers from 1 to {MAX_POINTS}, got {p!r} for {name}")
        rules.append(_node_rule(compiled, values, name, float(q[name]), int(p)))
    if rules:
        grids = [g.reshape(-1) for g in np.meshgrid(*[x for x, _ in rules], indexing="ij")]
        total = np.ones(1)
        for _, w in rules:
            total = np.multiply.outer(total, w).reshape(-1)
    else:
        grids, total = [], np.ones(1)
    keep = total >= NEGLIGIBLE_WEIGHT * total.sum()
    total = total[keep] / total[keep].sum()
    n = len(total)
    env = dict(values)
    for name in compiled.nodes:
        env[name] = np.zeros(n)
    for name, g in zip(used, grids):
        env[name] = g[keep]
    env.update(fixed_states(compiled, env))
    A, B, C, E = _unpack(compiled.pencil(env), m, K, n)
    return PencilSites(total, A, B, C, E, "fixed-point")


def plugin_pencil_sites(
    compiled: CompiledCell, values: dict, states: np.ndarray, nodes: np.ndarray
) -> PencilSites:
    """The **plug-in** site distribution: one site per simulated unit.

    Parameters
    ----------
    states : (m, N) array
        Per-unit states at one time of a simulation (e.g. a fixed point).
    nodes : (K, N) array
        The node values of the same units.
    """
    m, K = len(compiled.states), len(compiled.nodes)
    states = np.asarray(states, dtype=float)
    nodes = np.asarray(nodes, dtype=float)
    if states.ndim != 2 or states.shape[0] != m or nodes.shape != (K, states.shape[1]):
        raise SolverError(
            f"plug-in sites need states of shape (m, N) = ({m}, N) and nodes of "
            f"shape (K, N) = ({K}, N); got {states.shape} and {nodes.shape}"
        )
    N = states.shape[1]
    env = dict(values)
    env.update({name: states[k] for k, name in enumerate(compiled.states)})
    env.update({name: nodes[k] for k, name in enumerate(compiled.nodes)})
    A, B, C, E = _unpack(compiled.pencil(env), m, K, N)
    return PencilSites(np.full(N, 1.0 / N), A, B, C, E, "plug-in")


# -- small-matrix algebra over (point, site) batches ---------------------------------------
#
# Per-site matrices are stored as arrays of shape (rows, cols, P, n): P points,
# n sites. Products of these tiny matrices are written out entry by entry, so
# that every numpy call works on long contiguous vectors (several times faster
# than numpy's batched matmul and inverse on 2 x 2 or 3 x 3 matrices).


def _mm(A, B):
    """Matrix product over the two leading axes."""
    out = np.empty(
        (A.shape[0], B.shape[1]) + np.broadcast_shapes(A.shape[2:], B.shape[2:]), dtype=np.result_type(A, B)
    )
    for i in range(A.shape[0]):
        acc = A[i, 0][None] * B[0]
        for j in range(1, A.shape[1]):
            acc += A[i, j][None] * B[j]
        out[i] = acc
    return out


def _mm_hermitian(A, B):
    """``A @ B`` for a product known to be Hermitian: the upper triangle is
    computed and the lower one mirrored."""
    K = A.shape[0]
    shape = np.broadcast_shapes(A.shape[2:], B.shape[2:])
    out = np.empty((K, K) + shape, dtype=np.result_type(A, B))
    for i in range(K):
        for j in range(i, K):
            acc = A[i, 0] * B[0, j]
            for k in range(1, A.shape[1]):
                acc += A[i, k] * B[k, j]
            out[i, j] = acc
            if j > i:
                out[j, i] = np.conj(acc)
    return out


def _h(A):
    """Conjugate transpose over the two leading axes."""
    return np.conj(np.swapaxes(A, 0, 1))


def _eye(K):
    return np.eye(K)[:, :, None, None]


def _trace_product(A, B):
    """``tr(A B)`` over the leading axes."""
    return sum(A[i, j] * B[j, i] for i in range(A.shape[0]) for j in range(A.shape[1]))


def _abs2(A):
    """``|A|^2`` entrywise, without the square root of ``np.abs``."""
    return A.real * A.real + A.imag * A.imag


def _diag(A):
    return np.stack([A[i, i] for i in range(A.shape[0])])


def _inv(S):
    """Inverse of Hermitian positive-definite matrices with eigenvalues >= 1
    (``I + Y^H Y``): Gauss-Jordan elimination needs no pivoting there."""
    K = S.shape[0]
    if K == 1:
        return 1.0 / S
    if K == 2:
        det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
        return np.stack([np.stack([S[1, 1], -S[0, 1]]), np.stack([-S[1, 0], S[0, 0]])]) / det
    M = S.copy()
    inv = np.broadcast_to(_eye(K), S.shape).astype(S.dtype)
    for i in range(K):
        pivot = 1.0 / M[i, i]
        M[i] *= pivot[None]
        inv[i] *= pivot[None]
        for j in range(K):
            if j != i:
                f = M[j, i].copy()
                M[j] -= f[None] * M[i]
                inv[j] -= f[None] * inv[i]
    return inv


def _resolvents(A, lams):
    """``(lam - A)^(-1)``: A is (m, m, 1, n), lams (P,); out (m, m, P, n)."""
    m = A.shape[0]
    lam = lams[:, None]
    if m == 1:
        return (1.0 / (lam - A[0, 0]))[None, None]
    if m == 2:
        a, b, c, d = A[0, 0], A[0, 1], A[1, 0], A[1, 1]
        det = (lam - a) * (lam - d) - b * c
        return np.stack(
            [np.stack([(lam - d) / det, b / det + 0j * lam]), np.stack([c / det + 0j * lam, (lam - a) / det])]
        )
    shifted = lam[..., None, None] * np.eye(m) - np.moveaxis(A, (0, 1), (-2, -1))
    return np.moveaxis(np.linalg.inv(shifted), (-2, -1), (0, 1))


# -- closed forms for two active nodes --------------------------------------------------
#
# With K = 2 every quantity Newton's method needs is a closed form in the
# per-site scalars |X_jk|^2, c_j = conj(X_j1) X_j2, e_k = X_1k conj(X_2k) and
# |det X|^2, computed once per point: with Q = X^H D_b X, P = X D_a X^H
# (det Q = b1 b2 |det X|^2, det P = a1 a2 |det X|^2) and
# det = det(I + D_a Q) = det(I + D_b P) = 1 + a1 Q11 + a2 Q22 + a1 a2 det Q,
#
#     Gamma_a = P (I + D_b P)^(-1):  diag (P11 + b2 det P, P22 + b1 det P) / det,  off-diagonal P12 / det
#     Gamma_b = Q (I + D_a Q)^(-1):  diag (Q11 + a2 det Q, Q22 + a1 det Q) / det,  off-diagonal Q12 / det
#
# and the Jacobian's |(X (I + D_a Q)^(-1))_jc|^2 and |(X^H (I + D_b P)^(-1))_jc|^2
# follow from the adjugates of the 2 x 2 matrices. Everything is real
# arithmetic on (points, sites) arrays: several times fewer operations than
# the general 2 x 2 complex products.

_PAIR_ROWS = 13


def _pair_scalars(X) -> np.ndarray:
    """(13, P, n) real: ``|X_jk|^2`` (11, 12, 21, 22), ``c_1, c_2`` and
    ``e_1, e_2`` (real and imaginary parts each) and ``|det X|^2``."""
    x11, x12, x21, x22 = X[0, 0], X[0, 1], X[1, 0], X[1, 1]
    c1, c2 = np.conj(x11) * x12, np.conj(x21) * x22
    e1, e2 = x11 * np.conj(x21), x12 * np.conj(x22)
    return np.stack(
        [
            _abs2(x11),
            _abs2(x12),
            _abs2(x21),
            _abs2(x22),
            c1.real,
            c1.imag,
            c2.real,
            c2.imag,
            e1.real,
            e1.imag,
            e2.real,
            e2.imag,
            _abs2(x11 * x22 - x12 * x21),
        ]
    )


def _pair_evaluate(mean, pair, x) -> tuple:
    """``Phi(x)`` for K = 2 (see the block comment above) and the state the
    Jacobian reuses."""
    a1, a2, b1, b2 = (np.maximum(x[:, i], 0.0)[:, None] for i in range(4))
    p11, p12, p21, p22, D = pair[0], pair[1], pair[2], pair[3], pair[12]
    Q11, Q22 = b1 * p11 + b2 * p21, b1 * p12 + b2 * p22
    P11, P22 = a1 * p11 + a2 * p12, a1 * p21 + a2 * p22
    aaD, bbD = (a1 * a2) * D, (b1 * b2) * D
    state = np.empty((9,) + D.shape)  # Gamma_a11, a22, Gamma_b11, b22, 1 / det, Q11, Q22, P11, P22
    idet = np.divide(1.0, 1.0 + a1 * Q11 + a2 * Q22 + b1 * b2 * aaD, out=state[4])
    np.multiply(P11 + b2 * aaD, idet, out=state[0])
    np.multiply(P22 + b1 * aaD, idet, out=state[1])
    np.multiply(Q11 + a2 * bbD, idet, out=state[2])
    np.multiply(Q22 + a1 * bbD, idet, out=state[3])
    state[5], state[6], state[7], state[8] = Q11, Q22, P11, P22
    phi = mean(state[:4]).T
    return phi, {"pair": pair, "x": np.stack([a1[:, 0], a2[:, 0], b1[:, 0], b2[:, 0]]), "state": state}


def _pair_jacobian(mean, parts) -> np.ndarray:
    """``d Phi / d x`` for K = 2: the entries of :meth:`_Problem.jacobian` in
    closed form."""
    a1, a2, b1, b2 = (v[:, None] for v in parts["x"])
    p11, p12, p21, p22, cr1, ci1, cr2, ci2, er1, ei1, er2, ei2, _ = parts["pair"]
    Ga11, Ga22, Gb11, Gb22, idet, Q11, Q22, P11, P22 = parts["state"]
    Qr, Qi = b1 * cr1 + b2 * cr2, b1 * ci1 + b2 * ci2  # Q12
    Pr, Pi = a1 * er1 + a2 * er2, a1 * ei1 + a2 * ei2  # P12
    q2, pq2 = Qr * Qr + Qi * Qi, Pr * Pr + Pi * Pi
    r1, r2 = cr1 * Qr + ci1 * Qi, cr2 * Qr + ci2 * Qi  # Re conj(c_j) Q12
    s1, s2 = er1 * Pr + ei1 * Pi, er2 * Pr + ei2 * Pi  # Re conj(e_j) P12
    i2 = idet * idet
    S11, S22 = 1.0 + a1 * Q11, 1.0 + a2 * Q22
    T11, T22 = 1.0 + b1 * P11, 1.0 + b2 * P22
    A1, A2, B1, B2 = (a1 * a1) * q2, (a2 * a2) * q2, (b1 * b1) * pq2, (b2 * b2) * pq2
    u1, u2 = (2.0 * a1) * S11, (2.0 * a2) * S22
    v1, v2 = (2.0 * b1) * T11, (2.0 * b2) * T22
    S11, S22, T11, T22 = S11 * S11, S22 * S22, T11 * T11, T22 * T22
    entries = np.empty((14,) + i2.shape)
    for k, value in enumerate(
        (
            p11 * S22 + p12 * A2 - u2 * r1,
            p11 * A1 + p12 * S11 - u1 * r1,  # det^2 |La_1c|^2
            p21 * S22 + p22 * A2 - u2 * r2,
            p21 * A1 + p22 * S11 - u1 * r2,  # det^2 |La_2c|^2
            p11 * T22 + p21 * B2 - v2 * s1,
            p11 * B1 + p21 * T11 - v1 * s1,  # det^2 |Lb_1c|^2
            p12 * T22 + p22 * B2 - v2 * s2,
            p12 * B1 + p22 * T11 - v1 * s2,  # det^2 |Lb_2c|^2
            Ga11,
            pq2,
            Ga22,
            Gb11,
            q2,
            Gb22,
        )
    ):
        np.multiply(value, value if k in (8, 10, 11, 13) else i2, out=entries[k])
    E = np.moveaxis(mean(entries), -1, 0)  # (P, 14)
    J = np.empty((E.shape[0], 4, 4))
    J[:, :2, :2] = E[:, 0:4].reshape(-1, 2, 2)
    J[:, 2:, 2:] = E[:, 4:8].reshape(-1, 2, 2)
    J[:, :2, 2:] = -E[:, [8, 9, 9, 10]].reshape(-1, 2, 2)
    J[:, 2:, :2] = -E[:, [11, 12, 12, 13]].reshape(-1, 2, 2)
    return J


def _pair_resolvent(mean, prep, parts, derivative=False):
    """For K = 2 at a solution: ``g`` and, with ``derivative``, what
    :meth:`_Problem.derivatives` returns, in closed form.

    With ``X' = dX/dlam`` (``prep["dX"]``) and ``Y = X^H D_b X'``,
    ``g = E tr(lam - A)^(-1) + E h`` with ``h = tr F_a Y = N / det``,
    ``N = a1 S22 Y11 + a2 S11 Y22 - a1 a2 (Q12 Y21 + Q21 Y12)``,
    ``S_jj = 1 + a_j Q_jj`` (``tr Z F_a X^H D_b V`` of :meth:`evaluate`,
    since ``V Z = X'``). Its partial derivatives in ``x`` follow from
    ``Q``, ``Y`` and ``det`` being linear in ``b``; those in ``conj(lam)``
    at fixed ``x`` from ``conj(X)`` moving by ``conj(X')`` alone (``X`` and
    ``X'`` are analytic in ``lam``), ``Q21`` moving apart from ``conj(Q12)``.
    ``Phi`` depends on ``X`` only through ``|X_jk|^2`` and ``|det X|^2``,
    which gives ``dPhi/d conj(lam)``.
    """
    a1, a2, b1, b2 = (v[:, None] for v in parts["x"])
    p11, p12, p21, p22, cr1, ci1, cr2, ci2, _, _, _, _, D = parts["pair"]
    Ga11, Ga22, Gb11, Gb22, idet, Q11, Q22, _, _ = parts["state"]
    X, W = prep["X"], prep["dX"]
    cX = np.conj(X)
    c1, c2 = cr1 + 1j * ci1, cr2 + 1j * ci2
    Q12 = b1 * c1 + b2 * c2
    Q21 = np.conj(Q12)
    Y1 = [[cX[0, k] * W[0, l] for l in range(2)] for k in range(2)]  # Y^(1)_kl = conj(X_1k) X'_1l
    Y2 = [[cX[1, k] * W[1, l] for l in range(2)] for k in range(2)]
    Y = [[b1 * Y1[k][l] + b2 * Y2[k][l] for l in range(2)] for k in range(2)]
    S11, S22 = 1.0 + a1 * Q11, 1.0 + a2 * Q22
    aa = a1 * a2
    cross = Q12 * Y[1][0] + Q21 * Y[0][1]
    h = (a1 * S22 * Y[0][0] + a2 * S11 * Y[1][1] - aa * cross) * idet
    g = prep["g0"] + mean(h)
    if not derivative:
        return g
    detQ = (b1 * b2) * D
    grad = [
        (S22 * Y[0][0] + a2 * Q11 * Y[1][1] - a2 * cross - h * (Q11 + a2 * detQ)) * idet,
        (a1 * Q22 * Y[0][0] + S11 * Y[1][1] - a1 * cross - h * (Q22 + a1 * detQ)) * idet,
    ]
    for pj1, pj2, cj, Yj, other in ((p11, p12, c1, Y1, b2), (p21, p22, c2, Y2, b1)):
        dN = (
            aa * pj2 * Y[0][0]
            + a1 * S22 * Yj[0][0]
            + aa * pj1 * Y[1][1]
            + a2 * S11 * Yj[1][1]
            - aa * (cj * Y[1][0] + Q12 * Yj[1][0] + np.conj(cj) * Y[0][1] + Q21 * Yj[0][1])
        )
        grad.append((dN - h * (a1 * pj1 + a2 * pj2 + aa * other * D)) * idet)
    # d / d conj(lam) at fixed x
    cW = np.conj(W)
    dp = X * cW  # d|X_jk|^2
    detX = X[0, 0] * X[1, 1] - X[0, 1] * X[1, 0]
    ddetX = W[0, 0] * X[1, 1] + X[0, 0] * W[1, 1] - W[0, 1] * X[1, 0] - X[0, 1] * W[1, 0]
    dD = detX * np.conj(ddetX)
    dQ11, dQ22 = b1 * dp[0, 0] + b2 * dp[1, 0], b1 * dp[0, 1] + b2 * dp[1, 1]
    dQ12 = b1 * cW[0, 0] * X[0, 1] + b2 * cW[1, 0] * X[1, 1]
    dQ21 = b1 * cW[0, 1] * X[0, 0] + b2 * cW[1, 1] * X[1, 0]
    dY = [[b1 * cW[0, k] * W[0, l] + b2 * cW[1, k] * W[1, l] for l in range(2)] for k in range(2)]
    abD = aa * (b1 * b2) * dD
    ddet = a1 * dQ11 + a2 * dQ22 + abD
    dN = (
        aa * dQ22 * Y[0][0]
        + a1 * S22 * dY[0][0]
        + aa * dQ11 * Y[1][1]
        + a2 * S11 * dY[1][1]
        - aa * (dQ12 * Y[1][0] + Q12 * dY[1][0] + dQ21 * Y[0][1] + Q21 * dY[0][1])
    )
    dh = (dN - h * ddet) * idet
    aaD, bbD = aa * dD, (b1 * b2) * dD
    dphi = np.stack(
        [
            (a1 * dp[0, 0] + a2 * dp[0, 1] + b2 * aaD - Ga11 * ddet) * idet,
            (a1 * dp[1, 0] + a2 * dp[1, 1] + b1 * aaD - Ga22 * ddet) * idet,
            (b1 * dp[0, 0] + b2 * dp[1, 0] + a2 * bbD - Gb11 * ddet) * idet,
            (b1 * dp[0, 1] + b2 * dp[1, 1] + a1 * bbD - Gb22 * ddet) * idet,
        ]
    )
    return g, {"grad": mean(np.stack(grad)).T, "dphi": mean(dphi).T, "dg": mean(dh), "g": g}


# -- the reduced equations at eps = 0 -------------------------------------------------


class _Problem:
    """Site data laid out for the solver, inert nodes removed.

    ``active`` lists the nodes kept (``K`` of them). The unknowns are
    ``x = (a, b)`` in ``R^(2K)``, ``u = -i a``, ``w = -i b``.
    """

    def __init__(self, sites: PencilSites):
        self.sites = sites
        self.w = np.asarray(sites.weights, dtype=float)
        B, E = sites.B, sites.E
        scale = max(float(np.max(np.abs(B), initial=0.0)), float(np.max(np.abs(E), initial=0.0)), 1e-300)
        column = np.maximum(np.max(np.abs(B), axis=(0, 1)), np.max(np.abs(E), axis=(0, 1)))
        self.active = np.flatnonzero(column > INERT * scale)
        self.K = len(self.active)
        self.m = sites.m

        def layout(M):
            return np.moveaxis(M, 0, -1)[:, :, None, :]

        self.A = layout(sites.A)
        self.B = layout(sites.B[:, :, self.active])
        self.C = layout(sites.C)
        self.E = layout(sites.E[:, :, self.active])

    def mean(self, T):
        """``E_P`` over the site axis (last).

        Complex arrays are reduced as real and imaginary parts: numpy hands a
        complex ``T @ w`` with more than a few rows to a threaded ``zgemv``
        that stalls on a loaded machine (measured 900 ns per entry on 2 busy
        cores, against 5 ns this way)."""
        if np.iscomplexobj(T):
            return T.real @ self.w + 1j * (T.imag @ self.w)
        return T @ self.w

    def prepare(self, lams) -> dict:
        """Per point and site, what deciding the support needs: ``R = (lam -
        A)^(-1)``, ``V_all = C R``, ``X = -(C R B + E)`` on the active nodes
        and its rows for every node (``X_rows``), ``g0 = E tr R``. What only
        points inside the support use is added by :meth:`extend`."""
        lams = np.asarray(lams, dtype=complex)
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                R = _resolvents(self.A, lams)
        except np.linalg.LinAlgError:
            R = np.full((self.m, self.m, len(lams), 1), np.nan)
        if not np.all(np.isfinite(R)):
            bad = lams[~np.all(np.isfinite(R), axis=(0, 1, 3))]
            raise SolverError(
                f"lam = {bad[0]} is an eigenvalue of a site's A (an atom of the spectrum "
                "or a point of the site distribution); move it off that value"
            )
        V_all = _mm(self.C, R)
        X_rows = -(_mm(V_all, self.B) + self.E)
        return {
            "R": R,
            "V_all": V_all,
            "X_rows": X_rows,
            "X": X_rows[self.active],
            "g0": self.mean(sum(R[i, i] for i in range(self.m))),
        }

    def extend(self, prep, derivative=False) -> dict:
        """``prep`` with ``X^H``, ``Z = R B`` and ``V = C R`` (active rows)
        added, and ``dX = dX/dlam = C R^2 B`` for the density: computed once
        per point, for the points inside the support only."""
        out = dict(prep)
        out["Xh"] = _h(prep["X"])
        out["Z"] = _mm(prep["R"], self.B)
        out["V"] = prep["V_all"][self.active]
        if derivative or self.K == 2:
            out["dX"] = _mm(out["V"], out["Z"])
        if self.K == 2:
            out["pair"] = _pair_scalars(prep["X"])
        return out

    def support_matrix(self, prep):
        """``M = E |X|^2`` on the active nodes: (P, K, K)."""
        return np.moveaxis(self.mean(_abs2(prep["X"])), -1, 0)

    def evaluate(self, prep, x, general=False) -> tuple:
        """``Phi(x)`` at every point (x is (P, 2K)), and the intermediates
        that :meth:`jacobian`, :meth:`derivatives` and :meth:`resolvent_value`
        reuse (``prep`` needs ``X`` and ``Xh``).

        With ``Q = X^H D_b X`` and ``F_a = (I + D_a Q)^(-1) D_a =
        D_a^(1/2) (I + D_a^(1/2) Q D_a^(1/2))^(-1) D_a^(1/2)``::

            Gamma_a = X F_a X^H,   Gamma_b = X^H F_b X = Q - Q F_a Q   (Woodbury)
            a' = E diag Gamma_a,   b' = E diag Gamma_b

        With two active nodes (``prep`` has ``pair``) the closed forms of
        ``_pair_evaluate`` are used unless ``general``; their intermediates
        serve :meth:`jacobian` only.
        """
        if "pair" in prep and not general:
            return _pair_evaluate(self.mean, prep["pair"], x)
        K = self.K
        X, Xh = prep["X"], prep["Xh"]
        a = np.maximum(x[:, :K], 0.0).T  # (K, P)
        b = np.maximum(x[:, K:], 0.0).T
        sa = np.sqrt(a)
        rows_sa, cols_sa = sa[:, None, :, None], sa[None, :, :, None]
        Q = _mm_hermitian(Xh, b[:, None, :, None] * X)
        Fa = rows_sa * _inv(_eye(K) + rows_sa * Q * cols_sa) * cols_sa
        FaQ = _mm(Fa, Q)
        Gb = Q - _mm_hermitian(_h(FaQ), Q)
        FaXh = _mm(Fa, Xh)
        Ga = _mm_hermitian(X, FaXh)
        phi = np.concatenate([self.mean(_diag(Ga).real), self.mean(_diag(Gb).real)]).T
        return phi, {
            "a": a,
            "b": b,
            "X": X,
            "Xh": Xh,
            "Q": Q,
            "Fa": Fa,
            "FaQ": FaQ,
            "FaXh": FaXh,
            "Ga": Ga,
            "Gb": Gb,
        }

    def resolvent_value(self, prep, parts) -> np.ndarray:
        """``g = E tr (lam - A)^(-1) + E tr Z F_a X^H D_b V`` at the points
        of ``parts`` (``prep`` from :meth:`extend`)."""
        if "pair" in parts:
            return _pair_resolvent(self.mean, prep, parts)
        bV = parts["b"][:, None, :, None] * prep["V"]
        return prep["g0"] + self.mean(_trace_product(prep["Z"], _mm(parts["FaXh"], bV)))

    def jacobian(self, parts) -> np.ndarray:
        """``d Phi / d x``: (P, 2K, 2K).

        With ``Gamma_a = X F_a X^H``, ``Gamma_b = X^H F_b X``::

            d a'_j / d a_c = E |(X (I + D_a Q)^(-1))_jc|^2,   d a'_j / d b_c = -E |Gamma_a,jc|^2
            d b'_j / d b_c = E |(X^H (I + D_b P)^(-1))_jc|^2, d b'_j / d a_c = -E |Gamma_b,jc|^2

        ``Q = X^H D_b X``, ``P = X D_a X^H`` (from ``d(I + D Q)^(-1) D =
        (I + D Q)^(-1) dD (I + Q D)^(-1)`` and ``dF = -F dQ F``), and
        ``(I + D_a Q)^(-1) = I - F_a Q``, ``X^H (I + D_b P)^(-1) = X^H -
        Gamma_b D_a X^H``.
        """
        if "pair" in parts:
            return _pair_jacobian(self.mean, parts)
        K = self.K
        a, X, Xh, FaQ, Ga, Gb = (parts[k] for k in ("a", "X", "Xh", "FaQ", "Ga", "Gb"))
        La = X - _mm(X, FaQ)
        Lb = Xh - _mm(Gb, a[:, None, :, None] * Xh)
        J = np.empty((X.shape[2], 2 * K, 2 * K))
        J[:, :K, :K] = np.moveaxis(self.mean(_abs2(La)), -1, 0)
        J[:, :K, K:] = -np.moveaxis(self.mean(_abs2(Ga)), -1, 0)
        J[:, K:, K:] = np.moveaxis(self.mean(_abs2(Lb)), -1, 0)
        J[:, K:, :K] = -np.moveaxis(self.mean(_abs2(Gb)), -1, 0)
        return J

    def derivatives(self, prep, parts) -> dict:
        """What implicit differentiation in ``conj(lam)`` needs, at fixed x:
        ``dPhi/d conj(lam)`` (P, 2K), ``dg/d conj(lam)`` (P,) and
        ``dg/dx`` (P, 2K); and ``g`` itself.

        Only ``X^H`` depends on ``conj(lam)``, with ``X' = dX/dlam =
        C (lam - A)^(-2) B``::

            da'/d conj(lam) = E diag X F_a X'^H (I - D_b Gamma_a)
            db'/d conj(lam) = E diag (I - Gamma_b D_a) X'^H F_b X
            dg/d conj(lam)  = E tr Z F_a X'^H D_b (I - Gamma_a D_b) V
            dg/da_c = E [(I + Q D_a)^(-1) X^H D_b V Z (I + D_a Q)^(-1)]_cc
            dg/db_c = E [(I - Gamma_a D_b) V Z F_a X^H]_cc

        with ``F_b X = D_b X (I + D_a Q)^(-1)``. For K = 2 the closed forms
        of ``_pair_resolvent``.
        """
        if "pair" in parts:
            return _pair_resolvent(self.mean, prep, parts, derivative=True)[1]
        g = self.resolvent_value(prep, parts)
        K = self.K
        X, Xh, Fa, FaQ, FaXh, Ga, Gb, a, b = (
            parts[k] for k in ("X", "Xh", "Fa", "FaQ", "FaXh", "Ga", "Gb", "a", "b")
        )
        I = _eye(K)
        Z, V = prep["Z"], prep["V"]
        rows_b = b[:, None, :, None]
        VZ = _mm(V, Z)
        right = I - FaQ  # (I + D_a Q)^(-1)
        left = _h(right)  # (I + Q D_a)^(-1)
        grad_a = self.mean(_diag(_mm(_mm(left, Xh), _mm(rows_b * VZ, right))))
        IGD = I - Ga * b[None, :, :, None]  # I - Gamma_a D_b
        grad_b = self.mean(_diag(_mm(_mm(IGD, VZ), FaXh)))
        dXh = _h(prep["dX"])
        IDG = _h(IGD)  # I - D_b Gamma_a
        IGDa = I - Gb * a[None, :, :, None]  # I - Gamma_b D_a
        FbX = rows_b * _mm(X, right)
        dphi_a = self.mean(_diag(_mm(_mm(X, Fa), _mm(dXh, IDG))))
        dphi_b = self.mean(_diag(_mm(_mm(IGDa, dXh), FbX)))
        core = _mm(_mm(Fa, dXh), rows_b * _mm(IGD, V))
        dg = self.mean(_trace_product(Z, core))
        return {
            "grad": np.concatenate([grad_a, grad_b]).T,
            "dphi": np.concatenate([dphi_a, dphi_b]).T,
            "dg": dg,
            "g": g,
        }

    def inert_a(self, prep, parts) -> np.ndarray:
        """``a`` of every node (P, K_all): ``E (X F_a X^H)_cc`` with the full
        rows of ``X`` (inert nodes' ``a`` feeds nothing back)."""
        rows = prep["X_rows"]
        return self.mean(_diag(_mm(rows, _mm(parts["Fa"], _h(rows)))).real).T


def _point_axis(v) -> int:
    """The point axis of a solver array: (P,), (K, P), (rows, P, n) or
    (rows, cols, P, n)."""
    return {1: 0, 2: 1, 3: 1, 4: 2}[v.ndim]


#: What :meth:`_Problem.evaluate` and :meth:`_Problem.jacobian` read.
_EVALUATE_KEYS = ("X", "Xh", "pair")
_JACOBIAN_KEYS = ("a", "X", "Xh", "FaQ", "Ga", "Gb", "pair", "x", "state")


def _take(data: dict, index, keys=None) -> dict:
    """The points ``index`` of a ``prep`` or ``parts`` dict (``keys`` only, if given)."""
    return {k: np.take(v, index, axis=_point_axis(v)) for k, v in data.items() if keys is None or k in keys}


def _put(data: dict, index, source: dict, source_index) -> None:
    """``data[index] = source[source_index]`` along the point axis, every key."""
    for k, v in data.items():
        lead = (slice(None),) * _point_axis(v)
        v[lead + (index,)] = source[k][lead + (source_index,)]


def _balance(x, K):
    """Move ``x = (a, b)`` along the gauge orbit ``(c a, b / c)`` to equal sums."""
    sa = x[:, :K].sum(axis=1)
    sb = x[:, K:].sum(axis=1)
    ok = (sa > 0) & (sb > 0)
    c = np.where(ok, np.sqrt(np.where(ok, sb, 1.0) / np.where(ok, sa, 1.0)), 1.0)
    return np.concatenate([x[:, :K] * c[:, None], x[:, K:] / c[:, None]], axis=1)


def _perron_start(problem: _Problem, prep: dict, M, rho):
    """The bifurcating branch: ``a = t v``, ``b = t l`` with ``v``, ``l`` the
    right and left Perron vectors of ``M`` and ``t`` from the cubic term of
    the map, scaled so that it is exact for a Ginibre matrix."""
    vals, vecs = np.linalg.eig(M)
    top = np.argmax(vals.real, axis=1)
    v = np.abs(np.take_along_axis(vecs, top[:, None, None], axis=2)[..., 0])
    valsT, vecsT = np.linalg.eig(np.swapaxes(M, 1, 2))
    topT = np.argmax(valsT.real, axis=1)
    l = np.abs(np.take_along_axis(vecsT, topT[:, None, None], axis=2)[..., 0])
    v = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
    l = l / np.maximum(l.sum(axis=1, keepdims=True), 1e-300)
    X = prep["X"]
    T1 = _mm(X * v.T[None, :, :, None], _h(X))  # X D_v X^H
    cubic = np.einsum("jkp,kp->pj", problem.mean(_abs2(T1)), l.T)
    lv = np.einsum("pj,pj->p", l, v)
    lc = np.einsum("pj,pj->p", l, cubic)
    t2 = (rho - 1.0) * rho * lv / np.maximum(lc, 1e-300)
    t = np.sqrt(np.maximum(t2, 0.0))
    return np.concatenate([t[:, None] * v, t[:, None] * l], axis=1)


def _relative_residual(phi, x):
    return np.max(np.abs(phi - x), axis=1) / np.maximum(np.max(np.abs(x), axis=1), 1e-300)


def _newton(problem: _Problem, prep: dict, x0, tol: float, max_iter: int, finish, warm=None, fallback=None):
    """Newton's method on ``Phi(x) = x`` at every point at once, the gauge
    fixed by ``sum(a) = sum(b)`` (a bordered least-squares step).

    ``prep`` needs ``X`` and ``Xh``. ``finish(points, parts)`` is called
    once for every point, with the evaluation at its last iterate (the
    converged one, or the last at ``max_iter``), so that ``g`` and the
    density reuse it. Points flagged in ``warm`` started from a neighbour's
    solution; where that start's relative residual exceeds ``RESTART``,
    ``fallback(points)`` (the bifurcating branch) is tried too and the start
    closer to solving the equations is kept.

    Returns x, converged, iterations and the relative residual, per point.
    """
    P, K = x0.shape[0], problem.K
    x = _balance(x0, K)
    res = np.full(P, np.inf)
    iters = np.zeros(P, dtype=int)
    done = np.zeros(P, dtype=bool)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    eye = np.eye(2 * K)
    todo = np.arange(P)
    picard = np.zeros(P, dtype=bool)
    for it in range(max_iter):
        sub = prep if todo.size == P else _take(prep, todo, _EVALUATE_KEYS)
        phi, parts = problem.evaluate(sub, x[todo])
        rel = _relative_residual(phi, x[todo])
        if it == 0 and warm is not None:
            retry = np.flatnonzero(warm & (rel > RESTART))
            if retry.size:
                alt = _balance(fallback(retry), K)
                alt_phi, alt_parts = problem.evaluate(_take(sub, retry, _EVALUATE_KEYS), alt)
                alt_rel = _relative_residual(alt_phi, alt)
                better = np.flatnonzero(alt_rel < rel[retry])
                if better.size:
                    sel = retry[better]
                    x[sel], phi[sel], rel[sel] = alt[better], alt_phi[better], alt_rel[better]
                    _put(parts, sel, alt_parts, better)
        scale = np.max(np.abs(x[todo]), axis=1)
        res[todo] = rel
        iters[todo] = it + 1
        conv = (rel <= tol) & (scale > 0)
        done[todo[conv]] = True
        stop = conv | (it == max_iter - 1)
        if stop.all():
            finish(todo, parts)
        elif stop.any():
            finish(todo[stop], _take(parts, np.flatnonzero(stop)))
        keep = np.flatnonzero(~stop)
        if keep.size == 0:
            break
        xt, r = x[todo[keep]], phi[keep] - x[todo[keep]]
        J = problem.jacobian(_take(parts, keep, _JACOBIAN_KEYS)) - eye
        border = np.broadcast_to(gauge, (len(keep), 1, 2 * K))
        system = np.concatenate([J, border], axis=1)
        rhs = np.concatenate([-r, -(xt @ gauge)[:, None]], axis=1)
        step = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]
        new = np.maximum(xt + step, 0.0)
        # x = 0 always solves the equations and Newton can jump there from
        # far away; a point that loses most of its amplitude takes plain
        # iteration steps instead (inside the support the nontrivial branch
        # attracts them), then Newton again.
        collapse = np.max(new, axis=1) < 0.1 * np.max(xt, axis=1)
        plain = collapse | picard[todo[keep]]
        if plain.any():
            new[plain] = _balance(phi[keep][plain], K)
        picard[todo[keep]] = collapse
        x[todo[keep]] = new
        todo = todo[keep]
    return x, done, iters, res


@dataclass(frozen=True)
class _Solution:
    x: np.ndarray  # (P, 2K) on the active nodes
    g: np.ndarray
    inside: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    density: np.ndarray | None = None
    slope: np.ndarray | None = None  # (P, 2K): dx / d conj(lam), with the density
    a_all: np.ndarray | None = None


def _solve(
    problem: _Problem,
    lams,
    starts=None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    derivative: bool = False,
    all_nodes: bool = False,
) -> _Solution:
    """Solve at every ``lam`` of a 1-D array, from ``starts`` (rows of x;
    rows with a non-finite entry or a non-positive sum are ignored) or the
    bifurcating branch.

    Points outside the support (``spectral_radius(M) <= 1``) cost one
    ``M``: their solution ``x = 0`` is exact and their density is 0.
    """
    lams = np.asarray(lams, dtype=complex).ravel()
    P, K = len(lams), problem.K
    x = np.zeros((P, 2 * K))
    g = np.empty(P, dtype=complex)
    inside = np.zeros(P, dtype=bool)
    converged = np.ones(P, dtype=bool)
    iterations = np.zeros(P, dtype=int)
    residual = np.zeros(P)
    dens = np.zeros(P) if derivative else None
    slope = np.full((P, 2 * K), np.nan, dtype=complex) if derivative else None
    a_all = np.zeros((P, problem.sites.K)) if all_nodes else None
    chunk = max(1, BLOCK // problem.sites.n)
    for lo in range(0, P, chunk):
        sl = slice(lo, min(P, lo + chunk))
        prep = problem.prepare(lams[sl])
        g[sl] = prep["g0"]
        if K == 0:
            continue
        M = problem.support_matrix(prep)
        rho = np.max(np.abs(np.linalg.eigvals(M)), axis=1)
        idx = np.flatnonzero(rho > 1.0 + EDGE_MARGIN)
        if idx.size == 0:
            continue
        pos = lo + idx
        sub = problem.extend(_take(prep, idx), derivative)

        def perron(points, sub=sub, M=M[idx], rho=rho[idx]):
            return _perron_start(problem, _take(sub, points, ("X",)), M[points], rho[points])

        warm = np.zeros(len(idx), dtype=bool)
        x0 = np.empty((len(idx), 2 * K))
        if starts is not None:
            given = starts[pos]
            warm = np.all(np.isfinite(given), axis=1) & (np.sum(given, axis=1) > 0)
            x0[warm] = given[warm]
        cold = np.flatnonzero(~warm)
        if cold.size:
            x0[cold] = perron(cold)

        def finish(points, parts, sub=sub, pos=pos):
            at = sub if len(points) == len(pos) else _take(sub, points)
            if all_nodes and "pair" in parts:  # inert_a needs the matrices the closed forms skip
                _, parts = problem.evaluate(at, parts["x"].T, general=True)
            if derivative:
                g[pos[points]], dens[pos[points]], slope[pos[points]] = _implicit_density(problem, at, parts)
            else:
                g[pos[points]] = problem.resolvent_value(at, parts)
            if all_nodes:
                a_all[pos[points]] = problem.inert_a(at, parts)

        xs, ok, it, rs = _newton(problem, sub, x0, tol, max_iter, finish, warm, perron)
        inside[pos] = True
        x[pos], converged[pos], iterations[pos], residual[pos] = xs, ok, it, rs
    return _Solution(x, g, inside, converged, iterations, residual, dens, slope, a_all)


def _implicit_density(problem: _Problem, prep: dict, parts: dict) -> tuple:
    """``(1/pi) dg/d conj(lam)`` at a solution, by implicit differentiation:
    ``(dPhi/dx - I) xi = -dPhi/d conj(lam)`` (gauge-bordered), then
    ``dg/d conj(lam) = dg/d conj(lam)|_x + dg/dx . xi``. Returns ``g``, the
    density and ``xi = dx/d conj(lam)``."""
    K = problem.K
    P = len(prep["g0"])
    d = problem.derivatives(prep, parts)
    J = problem.jacobian(parts) - np.eye(2 * K)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    system = np.concatenate([J, np.broadcast_to(gauge, (P, 1, 2 * K))], axis=1)
    rhs = np.concatenate([-d["dphi"], np.zeros((P, 1))], axis=1)
    xi = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]
    return d["g"], (d["dg"] + np.einsum("pj,pj->p", d["grad"], xi)).real / np.pi, xi


def _solve_rows(problem: _Problem, lams2d, tol, max_iter, derivative=False, progress=None):
    """Row by row, each row warm-started from the row before (same column).

    With the density, the start is predicted to first order: ``x`` is real,
    so ``dx = 2 Re(xi conj(dlam))`` with ``xi = dx/d conj(lam)`` from the
    implicit differentiation, and the start is off by ``O(|dlam|^2)``
    instead of ``O(|dlam|)``, which saves one or two Newton iterations.
    """
    rows, cols = lams2d.shape
    out = []
    previous = None
    for i in range(rows):
        sol = _solve(problem, lams2d[i], starts=previous, tol=tol, max_iter=max_iter, derivative=derivative)
        previous = np.where(sol.inside[:, None], sol.x, np.nan)
        if derivative and i + 1 < rows:
            step = np.conj(lams2d[i + 1] - lams2d[i])
            previous = np.maximum(previous + 2 * np.real(sol.slope * step[:, None]), 0.0)
        out.append(sol)
        if progress is not None:
            progress(i + 1, rows)
    return out


def _check(converged, residual, what, raise_on_failure):
    if raise_on_failure and not np.all(converged):
        bad = int(np.sum(~converged))
        raise SolverError(
            f"the cavity equations did not converge at {bad} of {converged.size} points "
            f"{what} (worst residual {np.max(residual[~converged]):.2e}); try a larger "
            "max_iter or a looser tol, or move the points off the support's edge"
        )


# -- the literal Hermitized equations at eps > 0 ---------------------------------------


def _hermitized_map(sites: PencilSites, lam: complex, eps: float, u, w):
    """One application of THEORY.md section 5 as written: the 2k x 2k block
    ``H_i`` of every site, ``G_i = H_i^(-1)``, and the new ``(u, w)`` and ``g``."""
    n, m, K = sites.n, sites.m, sites.K
    k = m + K
    R = np.concatenate([sites.C, sites.E], axis=2)  # (n, K, k): rows R_a
    Lam = np.zeros((n, k, k), dtype=complex)
    Lam[:, :m, :m] = lam * np.eye(m) - sites.A
    Lam[:, :m, m:] = -sites.B
    Lam[:, m:, m:] = np.eye(K)
    H = np.zeros((n, 2 * k, 2 * k), dtype=complex)
    H[:, :k, :k] = 1j * eps * np.eye(k)
    H[:, m + np.arange(K), m + np.arange(K)] -= u
    H[:, :k, k:] = -Lam
    H[:, k:, :k] = -np.conj(np.swapaxes(Lam, 1, 2))
    H[:, k:, k:] = 1j * eps * np.eye(k) - np.einsum("nak,a,nal->nkl", R, w, R)
    G = np.linalg.inv(H)
    wt = sites.weights
    w_new = np.einsum("na,n->a", G[:, m + np.arange(K), m + np.arange(K)], wt)
    u_new = np.einsum("nak,nkl,nal,n->a", R, G[:, k:, k:], R, wt)
    g = -np.einsum("nii,n->", G[:, k : k + m, :m], wt)
    return u_new, w_new, g


def _hermitized_solve(sites: PencilSites, lam: complex, eps: float, tol: float, max_iter: int, start=None):
    """Newton's method on the literal equations (holomorphic in ``(u, w)``, so
    the Jacobian is taken by complex finite differences), continued in eps
    from 0.1 down by factors of 10."""
    K = sites.K
    z = np.concatenate(start) if start is not None else -1j * np.ones(2 * K)
    levels = [eps] if eps >= 0.1 else list(np.geomspace(0.1, eps, int(np.ceil(np.log10(0.1 / eps))) + 1))
    total = 0
    for level in levels:
        for _ in range(max_iter):
            u_new, w_new, g = _hermitized_map(sites, lam, level, z[:K], z[K:])
            F = np.concatenate([u_new, w_new]) - z
            total += 1
            size = np.max(np.abs(z), initial=0.0)
            res = float(np.max(np.abs(F))) / max(size, 1e-300) if size > 0 else float(np.max(np.abs(F)))
            if res <= tol:
                break
            delta = 1e-7 * max(size, 1e-3)
            J = np.empty((2 * K, 2 * K), dtype=complex)
            for j in range(2 * K):
                zj = z.copy()
                zj[j] += delta
                uj, wj, _ = _hermitized_map(sites, lam, level, zj[:K], zj[K:])
                J[:, j] = (np.concatenate([uj, wj]) - zj - F) / delta
            z = z - np.linalg.lstsq(J, F, rcond=None)[0]
    return z[:K], z[K:], complex(g), bool(res <= tol), total, float(res)


# -- public entry points --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ResolventResult:
    """The solution of the cavity equations at one ``lam``.

    Attributes
    ----------
    g : complex
        ``lim (1/N) tr (lam - Jac)^(-1)`` (per unit: ``(1/2 pi i)`` times its
        integral around the whole spectrum is ``m``).
    u, w : (K,) complex arrays
        The cavity unknowns of THEORY.md section 5, one per node. At
        ``eps = 0`` they are ``u = -i a``, ``w = -i b`` with ``a, b >= 0``,
        determined only up to ``(c u, w / c)``, ``c > 0`` (``g`` does not
        depend on ``c``); they are reported with ``sum(a) = sum(b)`` over
        the nodes that take part. Zero outside the support.
    status : str
        "converged" or "max_iter".
    iterations : int
        Newton iterations (0 outside the support, where the solution
        ``u = w = 0`` is exact).
    residual : float
        ``max |Phi(x) - x| / max |x|`` at the end.
    eps : float
        The regularization the equations were solved at (0: the exact limit).
    inside : bool
        Whether ``lam`` is in the support (``spectral_radius(M) > 1``).
    route : str
        The site distribution's route ("fixed-point" or "plug-in").
    """

    g: complex
    u: np.ndarray
    w: np.ndarray
    status: str
    iterations: int
    residual: float
    eps: float
    inside: bool
    route: str


def resolvent(
    sites: PencilSites,
    lam: complex,
    eps: float = 0.0,
    tol: float = TOL,
    start: ResolventResult | None = None,
    max_iter: int = MAX_ITER,
    raise_on_failure: bool = True,
) -> ResolventResult:
    """Solve the Hermitized cavity equations at one point ``lam``.

    Parameters
    ----------
    sites : PencilSites
    lam : complex
    eps : float
        0 (default) solves the exact ``eps -> 0+`` limit in reduced form;
        ``eps > 0`` solves the literal ``2k x 2k`` equations at that
        regularization (slower; continued in eps from 0.1).
    tol : float
        Relative residual at which Newton's method stops.
    start : ResolventResult, optional
        A solution at a nearby point to start from.
    max_iter : int
    raise_on_failure : bool
        Raise :class:`SolverError` if the solve does not converge; otherwise
        return the last iterate with status "max_iter".

    Returns
    -------
    ResolventResult

    Notes
    -----
    THEORY.md section 5: with ``Lambda_i``, ``R_a`` and ``H_i`` as there,
    ``w_a = E_P[(G_i)_11 (m+a, m+a)]``, ``u_a = E_P[R_a (G_i)_22 R_a^H]``
    and ``g = -E_P[tr_s (G_i)_21]``.

    *Reduction at eps = 0.* Write ``H_i = H0_i - F S F'`` with
    ``S = diag(u, w)``, ``F`` the node columns of block 1 and the ``R_a^H``
    of block 2. Since ``H0_i^(-1) = [[0, -Lambda^(-H)], [-Lambda^(-1), 0]]``
    at ``eps = 0`` and ``R_a Lambda^(-1) e_(m+b) = C_a (lam - A)^(-1) B_b +
    E_ab``, the Woodbury identity gives, per site, with
    ``X = -(C (lam - A)^(-1) B + E)`` (K x K; ``E|X_ab|^2`` is the support
    matrix ``M`` of section 4), ``u = -i a``, ``w = -i b``,
    ``D_a = diag(a)``, ``D_b = diag(b)``::

        a = diag E_P[ X (I + D_a X^H D_b X)^(-1) D_a X^H ]
        b = diag E_P[ X^H (I + D_b X D_a X^H)^(-1) D_b X ]
        g = E_P[tr (lam - A)^(-1)]
            + E_P[ tr Z (I + D_a X^H D_b X)^(-1) D_a X^H D_b V ]

    with ``Z = (lam - A)^(-1) B`` and ``V = C (lam - A)^(-1)``; ``a`` and
    ``b`` are real and non-negative (the diagonal of ``G`` is
    ``-i eps (eps^2 + L L^H)^(-1)``-like, negative imaginary). The
    linearization at ``a = b = 0`` is ``M`` (and ``M^T``), so the nontrivial
    solution exists exactly where ``spectral_radius(M) > 1``: the support of
    section 4. Outside, ``g = E_P[tr (lam - A)^(-1)]``. The equations are
    invariant under ``(a, b) -> (c a, b / c)``; the limit ``eps -> 0+``
    picks one ``c`` but ``g`` is the same for all, so the gauge is fixed by
    ``sum(a) = sum(b)``. Each site costs ``K x K`` Hermitian
    positive-definite inverses (eigenvalues >= 1, no pivoting needed)
    instead of a ``2k x 2k`` general one.

    *Solver.* Newton's method with the analytic Jacobian (see
    ``_Problem.jacobian``) and a gauge-bordered least-squares step, started
    from the bifurcating branch ``a ~ v``, ``b ~ l`` (right and left Perron
    vectors of ``M``, amplitude from the cubic term; exact for Ginibre) or
    from ``start``. Converges quadratically, typically in 3 to 7 iterations.
    The reduction was checked against the literal equations at
    ``eps = 1e-7`` (difference O(eps)) in the tests.
    """
    lam = complex(lam)
    _check_settings(tol, max_iter)
    if not np.isfinite(lam):
        raise SolverError(f"lam must be a finite complex number, got {lam}")
    if eps < 0 or not np.isfinite(eps):
        raise SolverError(f"eps must be a finite non-negative number, got {eps}")
    if eps > 0:
        init = None if start is None else (np.asarray(start.u, complex), np.asarray(start.w, complex))
        u, w, g, ok, iters, res = _hermitized_solve(sites, lam, float(eps), tol, max_iter, init)
        _check(np.array([ok]), np.array([res]), f"at lam = {lam} (eps = {eps})", raise_on_failure)
        inside = bool(_inside(_Problem(sites), lam))
        return ResolventResult(
            g, u, w, "converged" if ok else "max_iter", iters, res, float(eps), inside, sites.route
        )
    problem = _Problem(sites)
    starts = None
    if start is not None and start.inside:
        a = -np.asarray(start.u).imag[problem.active]
        b = -np.asarray(start.w).imag[problem.active]
        starts = np.concatenate([a, b])[None]
    sol = _solve(problem, np.array([lam]), starts=starts, tol=tol, max_iter=max_iter, all_nodes=True)
    _check(sol.converged, sol.residual, f"at lam = {lam}", raise_on_failure)
    K = sites.K
    u = np.zeros(K, dtype=complex)
    w = np.zeros(K, dtype=complex)
    if sol.inside[0]:
        u = -1j * sol.a_all[0]
        w[problem.active] = -1j * sol.x[0, problem.K :]
    return ResolventResult(
        complex(sol.g[0]),
        u,
        w,
        "converged" if sol.converged[0] else "max_iter",
        int(sol.iterations[0]),
        float(sol.residual[0]),
        0.0,
        bool(sol.inside[0]),
        sites.route,
    )


def _inside(problem: _Problem, lam: complex) -> bool:
    """``spectral_radius(M(lam)) > 1``, the support of THEORY.md section 4."""
    if problem.K == 0:
        return False
    M = problem.support_matrix(problem.prepare(np.array([lam])))
    return bool(np.max(np.abs(np.linalg.eigvals(M))) > 1.0 + EDGE_MARGIN)


def _check_settings(tol, max_iter):
    if not (np.isfinite(tol) and tol > 0):
        raise SolverError(f"tol must be a positive number, got {tol}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise SolverError(f"max_iter must be a positive integer, got {max_iter}")


def _as_grid(lams):
    lams = np.asarray(lams, dtype=complex)
    if not np.all(np.isfinite(lams)):
        raise SolverError("every lam must be a finite complex number")
    return lams


def resolvent_grid(
    sites: PencilSites,
    lams,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    progress=None,
    raise_on_failure: bool = True,
) -> tuple:
    """``g`` on a grid of points, warm-started along it.

    Parameters
    ----------
    sites : PencilSites
    lams : 2-D complex array
        Rows are solved in order, every point of a row at once (vectorized),
        each starting from the solution at the same column of the row before
        (or from the bifurcating branch where that one was outside).
    progress : callable, optional
        Called as ``progress(rows_done, rows)``.

    Returns
    -------
    g : complex array, the shape of ``lams``
    info : dict
        ``inside`` (bool array), ``converged`` (bool array), ``iterations``
        (int array), ``residual`` (float array), ``route`` (str).
    """
    lams = _as_grid(lams)
    _check_settings(tol, max_iter)
    grid = lams.reshape(1, -1) if lams.ndim < 2 else lams.reshape(lams.shape[0], -1)
    problem = _Problem(sites)
    sols = _solve_rows(problem, grid, tol, max_iter, progress=progress)
    info = {
        key: np.concatenate([getattr(s, key) for s in sols]).reshape(lams.shape)
        for key in ("inside", "converged", "iterations", "residual")
    }
    _check(info["converged"], info["residual"], "of the grid", raise_on_failure)
    info["route"] = sites.route
    g = np.concatenate([s.g for s in sols]).reshape(lams.shape)
    return g, info


def density(
    sites: PencilSites,
    lam,
    method: str = "implicit",
    h: float = 1e-4,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    progress=None,
    raise_on_failure: bool = True,
):
    """The eigenvalue density ``rho(lam) = (1/pi) dg / d conj(lam)``.

    Parameters
    ----------
    sites : PencilSites
    lam : complex or array of complex
        A 2-D array is treated as a grid (rows warm-started as in
        :func:`resolvent_grid`).
    method : {"implicit", "difference"}
        "implicit" (default): exact derivative of the solution by implicit
        differentiation, one extra linear solve per point. "difference":
        central differences of ``g`` with step ``h``,
        ``d/d conj(lam) = (d/dx + i d/dy) / 2``, truncation error
        ``O(h^2 |g'''|)`` plus ``O(tol |g| / h)`` from the solves.
    h : float
        Step of the "difference" method.

    Returns
    -------
    float or float array of ``lam``'s shape
        Eigenvalues per unit and per unit area: it integrates to ``m`` over
        the plane (divide by ``m`` for a probability density). Zero outside
        the support.

    Notes
    -----
    Implicit differentiation: at fixed ``x = (a, b)`` only ``X^H`` depends
    on ``conj(lam)``, with ``d X^H / d conj(lam) = (C (lam - A)^(-2) B)^H``;
    the solution's derivative ``xi = dx / d conj(lam)`` solves
    ``(dPhi/dx - I) xi = -dPhi/d conj(lam)`` with the gauge row
    ``sum(xi_a) = sum(xi_b)`` (``g`` is gauge invariant, so the gauge
    chosen does not matter), and ``dg/d conj(lam) = dg/d conj(lam)|_x +
    (dg/dx) xi``. All partial derivatives are analytic (see
    ``_Problem.derivatives``).
    """
    lams = _as_grid(lam)
    _check_settings(tol, max_iter)
    scalar = lams.ndim == 0
    grid = lams.reshape(1, -1) if lams.ndim < 2 else lams.reshape(lams.shape[0], -1)
    problem = _Problem(sites)
    if method == "implicit":
        sols = _solve_rows(problem, grid, tol, max_iter, derivative=True, progress=progress)
        conv = np.concatenate([s.converged for s in sols])
        res = np.concatenate([s.residual for s in sols])
        _check(conv, res, "for the density", raise_on_failure)
        out = np.concatenate([s.density for s in sols]).reshape(lams.shape)
    elif method == "difference":
        if not h > 0:
            raise SolverError(f"the difference step h must be positive, got {h}")
        shifted = np.stack([grid + h, grid - h, grid + 1j * h, grid - 1j * h], axis=1)
        flat = shifted.reshape(grid.shape[0], -1)
        sols = _solve_rows(problem, flat, tol, max_iter, progress=progress)
        conv = np.concatenate([s.converged for s in sols])
        res = np.concatenate([s.residual for s in sols])
        _check(conv, res, "for the density", raise_on_failure)
        g = np.stack([s.g for s in sols]).reshape(shifted.shape)
        dbar = 0.5 * ((g[:, 0] - g[:, 1]) / (2 * h) + 1j * (g[:, 2] - g[:, 3]) / (2 * h))
        out = (dbar.real / np.pi).reshape(lams.shape)
    else:
        raise SolverError(f"unknown density method {method!r}; use 'implicit' or 'difference'")
    return float(out) if scalar else out


def count_inside(
    sites: PencilSites,
    center: complex,
    radius: float,
    points: int = 256,
    segments: int = 16,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    raise_on_failure: bool = True,
) -> float:
    """Fraction of the eigenvalues inside the circle ``|lam - center| < radius``.

    Parameters
    ----------
    points : int
        Nodes of the trapezoid rule on the circle.
    segments : int
        The circle is cut into this many arcs solved side by side; along each
        arc every point starts from its neighbour's solution.

    Returns
    -------
    float
        ``(1 / (2 pi i m)) * contour integral of g``: the share of the ``N m``
        eigenvalues enclosed.

    Notes
    -----
    With ``lam_j = center + r exp(i theta_j)``, ``theta_j = 2 pi (j + 1/2) /
    points`` (no node on the real axis when ``center`` is real, where a
    site's own eigenvalue may sit), the rule is
    ``mean_j g(lam_j) (lam_j - center) / m``. It converges geometrically
    when ``g`` is smooth along the circle; ``g`` is continuous but not
    smooth across the support's edge, so a circle crossing the edge
    converges like ``points^(-2)``.
    """
    _check_settings(tol, max_iter)
    if not radius > 0:
        raise SolverError(f"the radius must be positive, got {radius}")
    if points < 4 or points % segments:
        raise SolverError(f"points ({points}) must be at least 4 and a multiple of segments ({segments})")
    theta = 2 * np.pi * (np.arange(points) + 0.5) / points
    z = complex(center) + radius * np.exp(1j * theta)
    grid = z.reshape(segments, -1).T  # row j: the j-th point of every arc
    problem = _Problem(sites)
    sols = _solve_rows(problem, grid, tol, max_iter)
    conv = np.stack([s.converged for s in sols])
    res = np.stack([s.residual for s in sols])
    # At the support's edge the solution bifurcates from zero and Newton's
    # method slows to linear convergence; a residual below CONTOUR_ACCEPT
    # there moves the count by less than that (g is Lipschitz in x).
    _check(conv | (res <= CONTOUR_ACCEPT), res, "on the contour", raise_on_failure)
    g = np.stack([s.g for s in sols]).T.reshape(-1)
    return float(np.mean(g * (z - complex(center))).real) / sites.m


def count_annulus(
    sites: PencilSites, center: complex, r_in: float, r_out: float, points: int = 256, **kwargs
) -> float:
    """Fraction of the eigenvalues with ``r_in < |lam - center| < r_out``:
    the difference of two :func:`count_inside`."""
    if not 0 < r_in < r_out:
        raise SolverError(f"an annulus needs 0 < r_in < r_out, got r_in={r_in}, r_out={r_out}")
    return count_inside(sites, center, r_out, points, **kwargs) - count_inside(
        sites, center, r_in, points, **kwargs
    )
