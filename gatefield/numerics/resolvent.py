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
The literal ``2k x 2k`` equations at ``eps > 0`` are kept as an independent
route (``resolvent(..., eps=...)``), used by the tests to check the
reduction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SolverError
from ..theory.derive import fixed_point, jacobian_pencil
from .codegen import CompiledCell
from .support import fixed_states

__all__ = [
    "PencilSites",
    "ResolventResult",
    "fixed_point_pencil_sites",
    "plugin_pencil_sites",
    "resolvent",
    "resolvent_grid",
    "density",
    "density_grid",
    "count_inside",
    "count_annulus",
]

#: Gauss-Hermite nodes per node variable in :func:`fixed_point_pencil_sites`.
#: Measured on the GRU (g_h = 1.6, alpha_r = 2, beta_h = 0.4; LSTM beta_f = 3,
#: g_g = 1, beta_g = 1) against 32 nodes: see the module's tests for the
#: numbers; 16 nodes give the density to better than 1e-5 relative at
#: |Im lam| >= 0.1 inside the bulk.
HERMITE_POINTS = 16
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
#: A node whose column of ``X`` is below this (times the largest entry) at
#: every site is inert: its ``b`` is zero and its ``a`` feeds nothing back
#: (a GRU's update gate at a fixed point, where ``dF/deta_z = 0``).
INERT = 1e-14
#: Largest number of (point, site) pairs held in memory at once.
BLOCK = 200_000


@dataclass(frozen=True)
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
                raise SolverError(f"PencilSites.{name} must have shape {shape}, "
                                  f"got {getattr(self, name).shape}")
        if n == 0 or not np.isclose(float(np.sum(self.weights)), 1.0, rtol=1e-12, atol=0):
            raise SolverError("PencilSites.weights must be non-empty and sum to 1")
        for name in ("weights", "A", "B", "C", "E"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise SolverError(f"PencilSites.{name} has non-finite entries; "
                                  "check the fixed point or the simulated state")

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
        blocks.append(flat[:, o:o + rows * cols].reshape(n, rows, cols).copy())
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


def fixed_point_pencil_sites(compiled: CompiledCell, values: dict, q: dict,
                             points: int = HERMITE_POINTS) -> PencilSites:
    """The site distribution at a mean-field fixed point, with full pencils.

    Parameters
    ----------
    compiled : CompiledCell
    values : dict
        Parameter values by name (``cell.resolve(...)``).
    q : dict
        Node variances by node name (``eta_a ~ N(0, q_a)``).
    points : int
        Gauss-Hermite nodes per node variable.

    Notes
    -----
    Sites are the tensor Gauss-Hermite nodes of the nodes the pencil depends
    on at the fixed point (``eta_b = sqrt(q_b) x``, probabilists' rule), each
    with the fixed-point states ``s*(eta)`` of
    :func:`~gatefield.numerics.support.fixed_states`. Sites with weight below
    ``NEGLIGIBLE_WEIGHT`` of the total are dropped. The resolvent is a
    nonlinear function of the coefficients, so no moment reduction applies:
    a GRU has ``points^3`` sites before pruning, an LSTM ``points^4``.

    Why Gauss-Hermite rather than the graded panels of
    :mod:`~gatefield.numerics.quadrature`: inside the bulk the per-site
    integrands are analytic in ``eta`` with singularities at a distance set
    by the solution itself, and at the moderate gains of a stable fixed point
    the Gaussian is narrow against the gates' switching scale, so the plain
    rule converges geometrically with few nodes per dimension, which keeps
    the tensor grid small. Steep gates (gain times ``sqrt(q)`` above a few)
    need more points.
    """
    if points < 1:
        raise SolverError(f"points must be a positive integer, got {points}")
    m, K = len(compiled.states), len(compiled.nodes)
    used = _pencil_nodes(compiled)
    x, w = np.polynomial.hermite_e.hermegauss(points)
    w = w / w.sum()
    axes, weights = [], []
    for name in used:
        var = float(q[name])
        if var < 0:
            raise SolverError(f"the variance of {name} must be non-negative, got {var}")
        if var == 0.0:
            axes.append(np.zeros(1))
            weights.append(np.ones(1))
        else:
            axes.append(np.sqrt(var) * x)
            weights.append(w)
    if axes:
        grids = np.meshgrid(*axes, indexing="ij")
        total = np.ones(1)
        for wk in weights:
            total = np.multiply.outer(total, wk)
        total = total.reshape(-1)
        grids = [g.reshape(-1) for g in grids]
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


def plugin_pencil_sites(compiled: CompiledCell, values: dict, states: np.ndarray,
                        nodes: np.ndarray) -> PencilSites:
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
        raise SolverError(f"plug-in sites need states of shape (m, N) = ({m}, N) and nodes of "
                          f"shape (K, N) = ({K}, N); got {states.shape} and {nodes.shape}")
    N = states.shape[1]
    env = dict(values)
    env.update({name: states[k] for k, name in enumerate(compiled.states)})
    env.update({name: nodes[k] for k, name in enumerate(compiled.nodes)})
    A, B, C, E = _unpack(compiled.pencil(env), m, K, N)
    return PencilSites(np.full(N, 1.0 / N), A, B, C, E, "plug-in")


# -- the reduced equations at eps = 0 -------------------------------------------------


def _herm(M):
    return np.conj(np.swapaxes(M, -1, -2))


def _diag(M):
    return np.diagonal(M, axis1=-2, axis2=-1)


class _Problem:
    """Site data prepared for the solver: inert nodes removed.

    ``active`` lists the nodes kept; ``X`` and friends are computed per
    block of points by :meth:`prepare`.
    """

    def __init__(self, sites: PencilSites):
        self.sites = sites
        self.w = sites.weights
        B, E = sites.B, sites.E
        scale = max(float(np.max(np.abs(B), initial=0.0)), float(np.max(np.abs(E), initial=0.0)), 1e-300)
        column = np.maximum(np.max(np.abs(B), axis=(0, 1)), np.max(np.abs(E), axis=(0, 1)))
        self.active = np.flatnonzero(column > INERT * scale)
        self.K = len(self.active)
        self.m = sites.m

    def resolvents(self, lams):
        """``(lam - A)^(-1)`` for every point and site: (P, n, m, m)."""
        A = self.sites.A
        m = self.m
        lam = lams[:, None, None, None]
        if m == 1:
            return 1.0 / (lam - A[None])
        if m == 2:
            a, b, c, d = (A[None, :, i, j][..., None, None] for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
            L = lams[:, None, None, None]
            det = (L - a) * (L - d) - b * c
            R = np.empty((len(lams), A.shape[0], 2, 2), dtype=complex)
            R[..., 0, 0] = ((L - d) / det)[..., 0, 0]
            R[..., 0, 1] = (b / det)[..., 0, 0]
            R[..., 1, 0] = (c / det)[..., 0, 0]
            R[..., 1, 1] = ((L - a) / det)[..., 0, 0]
            return R
        return np.linalg.inv(lam * np.eye(m) - A[None])

    def prepare(self, lams, derivative=False) -> dict:
        """Per point and site: ``X``, ``Z = R B``, ``V = C R`` on the active
        nodes, the full ``X`` rows of inert nodes, and ``g0 = E tr R``."""
        s = self.sites
        lams = np.asarray(lams, dtype=complex)
        R = self.resolvents(lams)
        act = self.active
        Bact = s.B[None][..., act]
        Z = R @ Bact  # (P, n, m, K')
        V = s.C[None] @ R  # (P, n, K, m), every node
        X_full = -(V @ Bact + s.E[None][..., act])  # (P, n, K, K'): rows all nodes
        out = {
            "lams": lams,
            "X": X_full[:, :, act, :],
            "X_rows": X_full,
            "Z": Z,
            "V": V[:, :, act, :],
            "g0": np.einsum("pnii,n->p", R, self.w),
        }
        if derivative:
            # dX/dlam = C R^2 B (R = (lam - A)^(-1), dR/dlam = -R^2).
            out["dX"] = (V[:, :, act, :] @ Z)
        return out

    def support_matrix(self, prep):
        """``M = E |X|^2`` on the active nodes: (P, K', K')."""
        return np.einsum("pnab,n->pab", np.abs(prep["X"]) ** 2, self.w)

    def evaluate(self, prep, x, jacobian=False, gradient=False, dbar=False):
        """The map ``x -> Phi(x)`` at every point, and what Newton and the
        density need.

        ``x`` is (P, 2K') = (a, b), with ``u = -i a`` and ``w = -i b``.
        """
        K = self.K
        w = self.w
        X = prep["X"]
        a = np.maximum(x[:, :K], 0.0)
        b = np.maximum(x[:, K:], 0.0)
        sa = np.sqrt(a)[:, None, None, :]
        sb = np.sqrt(b)[:, None, :, None]
        eye = np.eye(K)
        Y = sb * X * sa  # D_b^(1/2) X D_a^(1/2)
        Yh = _herm(Y)
        Sa = np.linalg.inv(eye + Yh @ Y)
        Sb = np.linalg.inv(eye + Y @ Yh)
        Fa = np.sqrt(a)[:, None, :, None] * Sa * sa  # (I + D_a Q)^(-1) D_a
        Fb = np.sqrt(b)[:, None, :, None] * Sb * np.sqrt(b)[:, None, None, :]
        Xh = _herm(X)
        Ga = X @ Fa @ Xh
        Gb = Xh @ Fb @ X
        phi = np.concatenate([np.einsum("pna,n->pa", _diag(Ga).real, w),
                              np.einsum("pna,n->pa", _diag(Gb).real, w)], axis=1)
        Db = b[:, None, :, None]  # multiplies rows
        Da = a[:, None, :, None]
        VZ_term = Fa @ Xh @ (Db * prep["V"])  # F_a X^H D_b V: (P, n, K, m)
        g = prep["g0"] + np.einsum("pnij,pnji,n->p", prep["Z"], VZ_term, w)
        out = {"phi": phi, "g": g}
        if jacobian:
            La = X - Ga @ (Db * X)  # X (I + D_a Q)^(-1)
            Lb = Xh - Gb @ (Da * Xh)  # X^H (I + D_b P)^(-1)
            J = np.empty((len(x), 2 * K, 2 * K))
            J[:, :K, :K] = np.einsum("pnjc,n->pjc", np.abs(La) ** 2, w)
            J[:, :K, K:] = -np.einsum("pnjc,n->pjc", np.abs(Ga) ** 2, w)
            J[:, K:, K:] = np.einsum("pnjc,n->pjc", np.abs(Lb) ** 2, w)
            J[:, K:, :K] = -np.einsum("pnjc,n->pjc", np.abs(Gb) ** 2, w)
            out["jacobian"] = J
        if gradient or dbar:
            eyeK = np.eye(K)
            Q = Xh @ (Db * X)
            VZ = prep["V"] @ prep["Z"]  # (P, n, K, K)
            left = (eyeK - Q @ Fa) @ Xh @ (Db * VZ)  # (I + Q D_a)^(-1) X^H D_b V Z
            right = eyeK - Fa @ Q  # (I + D_a Q)^(-1)
            grad_a = np.einsum("pncc,n->pc", left @ right, w)
            IGD = eyeK - Ga * b[:, None, None, :]  # I - Gamma_a D_b
            grad_b = np.einsum("pncc,n->pc", IGD @ VZ @ Fa @ Xh, w)
            out["grad"] = np.concatenate([grad_a, grad_b], axis=1)
            if dbar:
                dXh = _herm(prep["dX"])
                IDG = eyeK - Db * Ga  # I - D_b Gamma_a
                IGDa = eyeK - Gb * a[:, None, None, :]  # I - Gamma_b D_a
                dphi_a = np.einsum("pnaa,n->pa", X @ Fa @ dXh @ IDG, w)
                dphi_b = np.einsum("pnaa,n->pa", IGDa @ dXh @ Fb @ X, w)
                out["dphi"] = np.concatenate([dphi_a, dphi_b], axis=1)
                core = Fa @ dXh @ (Db * (IGD @ prep["V"]))  # F_a X'^H D_b (I - Gamma_a D_b) V
                out["dg"] = np.einsum("pnij,pnji,n->p", prep["Z"], core, w)
        return out


def _take(prep: dict, index) -> dict:
    return {key: value[index] for key, value in prep.items()}


def _balance(x, K):
    """Move ``x = (a, b)`` along the gauge orbit ``(c a, b / c)`` to equal sums."""
    sa = x[:, :K].sum(axis=1)
    sb = x[:, K:].sum(axis=1)
    c = np.where((sa > 0) & (sb > 0), np.sqrt(sb / np.where(sa > 0, sa, 1.0)), 1.0)
    return np.concatenate([x[:, :K] * c[:, None], x[:, K:] / c[:, None]], axis=1)


def _perron_start(problem: _Problem, prep: dict, M, rho):
    """The bifurcating branch: ``a = t v``, ``b = t l`` with ``v``, ``l`` the
    right and left Perron vectors of ``M`` and ``t`` from the cubic term of
    the map, corrected so that it is exact for a Ginibre matrix."""
    K = problem.K
    vals, vecs = np.linalg.eig(M)
    top = np.argmax(vals.real, axis=1)
    v = np.abs(np.take_along_axis(vecs, top[:, None, None], axis=2)[..., 0])
    valsT, vecsT = np.linalg.eig(np.swapaxes(M, 1, 2))
    topT = np.argmax(valsT.real, axis=1)
    l = np.abs(np.take_along_axis(vecsT, topT[:, None, None], axis=2)[..., 0])
    v = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
    l = l / np.maximum(l.sum(axis=1, keepdims=True), 1e-300)
    X = prep["X"]
    T1 = (X * v[:, None, None, :]) @ _herm(X)  # X D_v X^H
    cubic = np.einsum("pnjk,pk,n->pj", np.abs(T1) ** 2, l, problem.w)
    lv = np.einsum("pj,pj->p", l, v)
    lc = np.einsum("pj,pj->p", l, cubic)
    t2 = (rho - 1.0) * rho * lv / np.maximum(lc, 1e-300)
    t = np.sqrt(np.maximum(t2, 0.0))
    return np.concatenate([t[:, None] * v, t[:, None] * l], axis=1)


@dataclass(frozen=True)
class _Solution:
    x: np.ndarray  # (P, 2K') on the active nodes
    g: np.ndarray
    inside: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    extra: dict = field(default_factory=dict)


def _newton(problem: _Problem, prep: dict, x0, tol: float, max_iter: int):
    """Newton's method on ``Phi(x) = x`` for every point at once, the gauge
    fixed by ``sum(a) = sum(b)`` (a bordered least-squares step)."""
    P, K = x0.shape[0], problem.K
    x = _balance(x0, K)
    g = np.full(P, np.nan, dtype=complex)
    res = np.full(P, np.inf)
    iters = np.zeros(P, dtype=int)
    done = np.zeros(P, dtype=bool)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    eye = np.eye(2 * K)
    todo = np.arange(P)
    picard = np.zeros(P, dtype=bool)
    for it in range(max_iter):
        ev = problem.evaluate(_take(prep, todo), x[todo], jacobian=True)
        r = ev["phi"] - x[todo]
        scale = np.max(np.abs(x[todo]), axis=1)
        rel = np.max(np.abs(r), axis=1) / np.maximum(scale, 1e-300)
        g[todo] = ev["g"]
        res[todo] = rel
        iters[todo] = it + 1
        conv = (rel <= tol) & (scale > 0)
        done[todo[conv]] = True
        keep = ~conv
        if not keep.any():
            break
        todo, r = todo[keep], r[keep]
        xt = x[todo]
        J = ev["jacobian"][keep] - eye
        border = np.broadcast_to(gauge, (len(todo), 1, 2 * K))
        system = np.concatenate([J, border], axis=1)
        rhs = np.concatenate([-r, -(xt @ gauge)[:, None]], axis=1)
        step = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]
        new = np.maximum(xt + step, 0.0)
        # Newton can jump to the trivial solution x = 0, which always solves
        # the equations; a point that loses most of its amplitude takes a
        # plain iteration step instead (the nontrivial branch attracts it).
        collapse = np.max(new, axis=1) < 0.1 * np.max(xt, axis=1)
        slow = picard[todo]
        use_picard = collapse | slow
        if use_picard.any():
            phi = ev["phi"][keep]
            new[use_picard] = _balance(phi[use_picard], K)
            picard[todo[collapse]] = True
        x[todo] = new
    status = np.where(done, "converged", "max_iter")
    return x, g, status, iters, res


def _solve(problem: _Problem, lams, starts=None, tol: float = TOL, max_iter: int = MAX_ITER,
           derivative: bool = False):
    """Solve at every ``lam`` (1-D), optionally from given starts (rows of
    ``x``, ``nan`` for none)."""
    lams = np.asarray(lams, dtype=complex).ravel()
    P, K = len(lams), problem.K
    x = np.zeros((P, 2 * K))
    g = np.empty(P, dtype=complex)
    inside = np.zeros(P, dtype=bool)
    status = np.full(P, "converged", dtype=object)
    iterations = np.zeros(P, dtype=int)
    residual = np.zeros(P)
    dens = np.zeros(P) if derivative else None
    chunk = max(1, BLOCK // problem.sites.n)
    for lo in range(0, P, chunk):
        sl = slice(lo, min(P, lo + chunk))
        prep = problem.prepare(lams[sl], derivative=derivative)
        if K == 0:
            inside[sl] = False
            g[sl] = prep["g0"]
            continue
        M = problem.support_matrix(prep)
        rho = np.max(np.abs(np.linalg.eigvals(M)), axis=1)
        ins = rho > 1.0 + EDGE_MARGIN
        inside[sl] = ins
        g[sl] = prep["g0"]
        idx = np.flatnonzero(ins)
        if idx.size == 0:
            continue
        sub = _take(prep, idx)
        x0 = _perron_start(problem, sub, M[idx], rho[idx])
        if starts is not None:
            warm = starts[sl][idx]
            usable = np.all(np.isfinite(warm), axis=1) & (np.max(warm, axis=1) > 0)
            x0[usable] = warm[usable]
        xs, gs, st, it, rs = _newton(problem, sub, x0, tol, max_iter)
        pos = lo + idx
        x[pos], g[pos], status[pos], iterations[pos], residual[pos] = xs, gs, st, it, rs
        if derivative:
            dens[pos] = _implicit_density(problem, sub, xs)
    extra = {"density": dens} if derivative else {}
    return _Solution(x, g, inside, status, iterations, residual, extra)


def _implicit_density(problem: _Problem, prep: dict, x):
    """``(1/pi) dg/d conj(lam)`` at converged ``x`` by implicit differentiation."""
    K = problem.K
    ev = problem.evaluate(prep, x, jacobian=True, gradient=True, dbar=True)
    J = ev["jacobian"] - np.eye(2 * K)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    system = np.concatenate([J, np.broadcast_to(gauge, (len(x), 1, 2 * K))], axis=1).astype(complex)
    rhs = np.concatenate([-ev["dphi"], np.zeros((len(x), 1))], axis=1)
    xi = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]  # d x / d conj(lam)
    dg = ev["dg"] + np.einsum("pj,pj->p", ev["grad"], xi)
    return dg.real / np.pi
