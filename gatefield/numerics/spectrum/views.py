"""The two views of a site distribution the spectral engine computes with.

A site distribution P (``docs/theory/4-support.md#site-distribution``) is
used in two reduced forms:

- :class:`PencilView`: every site's full pencil ``(A, B, C, E)`` with its
  weight, for the resolvent, the density and counts (they depend on the
  coefficients nonlinearly);
- :class:`MomentView`: every site's ``D(lam) = det(lam - A)`` coefficients and
  the second moments of the support polynomials ``T``, for the support
  ``M(lam)`` (a quadratic form in the coefficients, so inner nodes can be
  integrated out once).

:class:`~gatefield.numerics.spectrum.sites.SiteDistribution` computes both
lazily; this module builds them from samples (one site per simulated unit or
DMFT path) or from a Gaussian fixed point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import GatefieldError, SolverError
from ..codegen import CompiledCell
from ..quadrature import Rule, node_rule, quantile_rule, split_hermite_rule, tensor
from ..quadrature.gauss import MAX_POINTS, RANGE
from ..quadrature.switches import merged_centers, switch_points
from ..states import fixed_states

__all__ = ["PencilView", "MomentView", "SiteRule"]

# Largest number of (point, site) pairs handled in one block (memory ~ 16 bytes each).
_BLOCK = 4_000_000


@dataclass(frozen=True, eq=False)
class PencilView:
    """Weighted sites with their full pencils.

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
    """

    weights: np.ndarray
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    E: np.ndarray

    def __post_init__(self):
        n = len(self.weights)
        m, K = self.B.shape[1], self.B.shape[2]
        shapes = {"A": (n, m, m), "B": (n, m, K), "C": (n, K, m), "E": (n, K, K)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise GatefieldError(f"PencilView.{name} must have shape {shape}, got {getattr(self, name).shape}")
        if n == 0 or not np.isclose(float(np.sum(self.weights)), 1.0, rtol=1e-12, atol=0):
            raise GatefieldError("PencilView.weights must be non-empty and sum to 1")
        for name in ("weights", "A", "B", "C", "E"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise GatefieldError(
                    f"PencilView.{name} has non-finite entries; check the fixed point or the simulated state"
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


@dataclass(frozen=True, eq=False)
class MomentView:
    """Weighted sites reduced to what ``M(lam)`` needs.

    Attributes
    ----------
    weights : (n,) array, summing to 1
    d : (n, m+1) array
        Coefficients of ``D(lam) = det(lam - A)`` at each site (monic).
    moments : (n, K*K, m+1, m+1) array
        ``E[t_abp t_abp' | site]``.
    """

    weights: np.ndarray
    d: np.ndarray
    moments: np.ndarray
    K: int
    m: int

    @property
    def center(self) -> complex:
        """The mean eigenvalue of the per-unit ``A``: the centroid of the
        spectrum, since ``E[tr Jac] / (N m) = E[tr A] / m``."""
        return complex(-np.dot(self.weights, self.d[:, self.m - 1]) / self.m)


@dataclass(frozen=True)
class SiteRule:
    """How a Gaussian fixed point is discretized into full-pencil sites.

    Attributes
    ----------
    points : int, dict or None
        Gauss points per node (per segment for a node split at a steep
        switch; at most 64), or a dict by coupling name. None (or a coupling
        missing from the dict): ``floor(max_sites^(1/d))`` for ``d`` random
        nodes, at most 64.
    quantile : dict or None
        Coupling name -> points of an equal-weight quantile rule replacing
        that node's Gauss rule (counts across a whisker, ``slow_mode_rule``).
    max_sites : int
        The site budget of the default rule: 4096 gives 64 points for one or
        two nodes, 16 for a GRU's three, 8 for an LSTM's four.
    probe_tol : float
        A plain Gauss-Hermite rule whose relative error on the pencil's
        moments along its node is below this is not split.
    split_gap : float
        Switch points closer than this (standard units) are merged.
    negligible : float
        Sites whose weight is below this share of the total are dropped:
        they change no expectation at the solver's accuracy (1e-12).
    """

    points: int | dict | None = None
    quantile: dict | None = None
    max_sites: int = 4096
    probe_tol: float = 1e-7
    split_gap: float = 0.25
    negligible: float = 1e-14


def _unpack(coefficients, m: int, K: int, n: int) -> tuple:
    """``compiled.pencil`` outputs (row-major blocks) as (n, ., .) arrays."""
    flat = np.stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in coefficients], axis=1)
    o = 0
    blocks = []
    for rows, cols in ((m, m), (m, K), (K, m), (K, K)):
        blocks.append(flat[:, o : o + rows * cols].reshape(n, rows, cols).copy())
        o += rows * cols
    return tuple(blocks)


# -- from samples -------------------------------------------------------------------------


def check_samples(compiled: CompiledCell, states, nodes) -> tuple:
    m, K = len(compiled.states), len(compiled.nodes)
    states = np.asarray(states, dtype=float)
    nodes = np.asarray(nodes, dtype=float)
    if states.ndim != 2 or states.shape[0] != m or nodes.shape != (K, states.shape[1]):
        raise GatefieldError(
            f"sampled sites need states of shape (m, N) = ({m}, N) and nodes of shape (K, N) = "
            f"({K}, N); got {states.shape} and {nodes.shape}"
        )
    return states, nodes


def _sample_env(compiled, values, states, nodes) -> dict:
    env = dict(values)
    env.update({n: states[k] for k, n in enumerate(compiled.states)})
    env.update({n: nodes[k] for k, n in enumerate(compiled.nodes)})
    return env


def pencils_from_samples(compiled: CompiledCell, values: dict, states, nodes) -> PencilView:
    """One site per sample (a simulated unit or a DMFT path at one time)."""
    m, K = len(compiled.states), len(compiled.nodes)
    N = states.shape[1]
    A, B, C, E = _unpack(compiled.pencil(_sample_env(compiled, values, states, nodes)), m, K, N)
    return PencilView(np.full(N, 1.0 / N), A, B, C, E)


def moments_from_samples(compiled: CompiledCell, values: dict, states, nodes) -> MomentView:
    """One site per sample; its moments are the products of its own coefficients."""
    m, K = len(compiled.states), len(compiled.nodes)
    N = states.shape[1]
    coeffs = [np.broadcast_to(c, (N,)) for c in compiled.support(_sample_env(compiled, values, states, nodes))]
    d = np.stack(coeffs[: m + 1], axis=1)
    t = np.stack(coeffs[m + 1 :]).reshape(K * K, m + 1, N)
    with np.errstate(all="ignore"):
        moments = np.einsum("gpi,gqi->igpq", t, t)
    return _finite(compiled, MomentView(np.full(N, 1.0 / N), d, moments, K, m), "sampled states")


def _finite(compiled: CompiledCell, view: MomentView, where: str) -> MomentView:
    """``view`` if its coefficients and moments are finite, else a SolverError.

    A moment integrand that overflows (``exp`` of ``exp``, a huge gain times a
    saturated derivative: ``inf * 0``) is not finite at some sites; dropping
    those sites or reading them as 0 gave wrong supports (a radius 0.0 for
    0.0327), so the spectrum is refused instead.
    """
    if np.all(np.isfinite(view.d)) and np.all(np.isfinite(view.moments)):
        return view
    raise SolverError(
        f"the spectral moments of cell '{compiled.cell.name}' are not finite at some {where}: an exponential "
        "or power overflows, or a huge gain meets a saturated derivative (inf * 0); write the cell in a bounded "
        "form (sigmoid or tanh instead of exp) or use smaller gains"
    )


# -- at a Gaussian fixed point: the moment view ------------------------------------------------


def moments_at_fixed_point(compiled: CompiledCell, values: dict, variances: dict, quadrature) -> MomentView:
    """Sites are the tensor quadrature points of the nodes ``D(lam)`` depends
    on (``compiled.support_nodes[0]``); the other nodes are integrated out
    term by term (:class:`~gatefield.numerics.codegen.MomentPlan`), or on a
    full tensor grid when a state has no closed form.

    ``variances`` are by node name (``eta_a ~ N(0, q_a)``).

    Raises
    ------
    SolverError
        If a coefficient or moment is not finite at some site (an overflow).
    """
    with np.errstate(all="ignore"):
        view = _moments_at_fixed_point(compiled, values, variances, quadrature)
    return _finite(compiled, view, "quadrature points of the fixed point")


def _moments_at_fixed_point(compiled: CompiledCell, values: dict, variances: dict, quadrature) -> MomentView:
    m, K = len(compiled.states), len(compiled.nodes)
    outer, inner = compiled.support_nodes
    rules = {n: node_rule(variances[n], compiled.features.get(n, ()), values, quadrature) for n in compiled.nodes}
    outer_rule = tensor([rules[n] for n in outer])
    n_out = len(outer_rule.weights)
    env = dict(values)
    for n in compiled.nodes:
        env[n] = np.zeros(1)
    for n, pts in zip(outer, outer_rule.points):
        env[n] = pts
    env.update(fixed_states(compiled, env))
    coeffs = compiled.support(env)
    d = np.stack([np.broadcast_to(c, (n_out,)) for c in coeffs[: m + 1]], axis=1)
    outer_at = dict(zip(outer, outer_rule.points))
    if compiled.moment_plan is None:
        moments = _dense_moments(compiled, values, rules, outer_at, n_out, inner)
    else:
        moments = _planned_moments(compiled.moment_plan, values, rules, outer_at, n_out, m)
    return MomentView(outer_rule.weights, d, moments, K, m)


def _planned_moments(plan, values, rules, outer_at, n_out, m):
    group_values = []
    for names, fn in plan.groups:
        mine = [n for n in names if n not in outer_at]
        rule = tensor([rules[n] for n in mine])
        env = dict(values)
        env.update({n: outer_at[n][:, None] for n in names if n in outer_at})
        env.update({n: pts[None, :] for n, pts in zip(mine, rule.points)})
        (value,) = fn(env)
        group_values.append(np.broadcast_to(value, (n_out, len(rule.weights))) @ rule.weights)
    unique = np.zeros((n_out, max(plan.entry_of) + 1, m + 1, m + 1))
    for (e, p, pp), terms in zip(plan.slots, plan.terms):
        total = np.zeros(n_out)
        for ids in terms:
            term = np.ones(n_out)
            for i in ids:
                term = term * group_values[i]
            total += term
        unique[:, e, p, pp] = unique[:, e, pp, p] = total
    return unique[:, list(plan.entry_of)]


def _dense_moments(compiled, values, rules, outer_at, n_out, inner):
    """Moments on the full outer x inner tensor grid (states found numerically)."""
    m, K = len(compiled.states), len(compiled.nodes)
    inner_rule = tensor([rules[n] for n in inner])
    n_in = len(inner_rule.weights)
    moments = np.empty((n_out, K * K, m + 1, m + 1))
    chunk = max(1, _BLOCK // (8 * n_in * (m + 1)))
    for start in range(0, n_out, chunk):
        stop = min(n_out, start + chunk)
        env = dict(values)
        for n in compiled.nodes:
            env[n] = np.zeros((1, 1))
        for n, pts in outer_at.items():
            env[n] = pts[start:stop, None]
        for n, pts in zip(inner, inner_rule.points):
            env[n] = pts[None, :]
        env.update(fixed_states(compiled, env))
        shape = (stop - start, n_in)
        coeffs = compiled.support(env)
        t = np.stack([np.broadcast_to(c, shape) for c in coeffs[m + 1 :]]).reshape(K * K, m + 1, *shape)
        moments[start:stop] = np.einsum("gpci,gqci,i->cgpq", t, t, inner_rule.weights)
    return moments


# -- at a Gaussian fixed point: the pencil view ------------------------------------------------


def _probe_rule(compiled, values, name, var, points, rule: SiteRule) -> Rule:
    """The rule for one node: plain Gauss-Hermite, or split at the node's
    switch points where that integrates the pencil markedly better.

    The probe: the pencil coefficients and their squares along this node
    (the other nodes at 0, states at the fixed point), integrated with both
    candidates and with the accurate graded rule. Plain wins if its relative
    error is below ``rule.probe_tol``, or if the split rule is not more
    accurate than plain Gauss-Hermite with as many points.
    """
    if var <= 0:
        return Rule(np.zeros(1), np.ones(1))
    from ..quadrature import DEFAULT

    features = compiled.features.get(name, ())
    cuts = merged_centers(switch_points(features, values, np.sqrt(var), DEFAULT.steep), RANGE - 0.5, rule.split_gap)
    plain = split_hermite_rule(var, (), points)
    if len(cuts) == 0:
        return plain
    fine = node_rule(var, features, values, DEFAULT)

    def integrate(r: Rule):
        env = dict(values)
        for node in compiled.nodes:
            env[node] = np.zeros(len(r.points))
        env[name] = r.points
        env.update(fixed_states(compiled, env))
        coefficients = np.array([np.broadcast_to(c, (len(r.points),)) for c in compiled.pencil(env)])
        return np.concatenate([coefficients @ r.weights, (coefficients**2) @ r.weights])

    reference = integrate(fine)
    scale = np.maximum(np.abs(reference), 1.0)

    def error(r):
        return np.max(np.abs(integrate(r) - reference) / scale)

    error_plain = error(plain)
    if error_plain <= rule.probe_tol:
        return plain
    split = split_hermite_rule(var, cuts, points)
    # Splitting multiplies the points: it must beat plain Gauss-Hermite with as many.
    error_same = error(split_hermite_rule(var, (), len(split.points)))
    return split if error(split) < min(error_plain, error_same) else plain


def pencils_at_fixed_point(compiled: CompiledCell, values: dict, variances: dict, rule: SiteRule) -> PencilView:
    """The tensor product of one rule per node the pencil depends on at the
    fixed point (Gauss-Hermite, split Gauss or quantile), each site carrying
    the fixed-point states ``s*(eta)`` (``docs/theory/5-cavity.md#site-rules``).

    ``variances`` are by node name. The resolvent is nonlinear in the
    coefficients, so no moment reduction applies: a GRU has about
    ``points^3`` sites, an LSTM ``points^4``. Within ``|Im lam| < 0.1`` of the
    real axis, where every site's ``A`` is real, the density's error grows like
    that of a Riemann sum of a peak of width ``|Im lam|``: raise the points of
    the nodes ``A`` depends on there.
    """
    m, K = len(compiled.states), len(compiled.nodes)
    used = compiled.pencil_nodes
    coupling = dict(zip(compiled.nodes, compiled.couplings))
    for name in used:
        if not float(variances[name]) >= 0:
            raise GatefieldError(f"the variance of {name} must be non-negative, got {variances[name]}")
    random = [name for name in used if float(variances[name]) > 0]
    default = min(MAX_POINTS, int(np.floor(rule.max_sites ** (1.0 / max(len(random), 1)) + 1e-9)))
    if rule.points is None:
        per_node = {}
    elif isinstance(rule.points, dict):
        per_node = dict(rule.points)
    else:
        per_node = {coupling[name]: rule.points for name in used}
    quantile = dict(rule.quantile or {})
    rules = []
    for name in used:
        var = float(variances[name])
        if coupling[name] in quantile and var > 0:
            n_q = quantile[coupling[name]]
            if isinstance(n_q, bool) or int(n_q) != n_q or n_q < 1:
                raise GatefieldError(f"quantile points must be positive integers, got {n_q!r} for {name}")
            rules.append(quantile_rule(var, int(n_q)))
            continue
        p = per_node.get(coupling[name], default)
        if isinstance(p, bool) or int(p) != p or not 1 <= p <= MAX_POINTS:
            raise GatefieldError(f"points must be integers from 1 to {MAX_POINTS}, got {p!r} for {name}")
        rules.append(_probe_rule(compiled, values, name, var, int(p), rule))
    grid = tensor(rules)
    total = grid.weights
    keep = total >= rule.negligible * total.sum()
    total = total[keep] / total[keep].sum()
    n = len(total)
    env = dict(values)
    for name in compiled.nodes:
        env[name] = np.zeros(n)
    for name, g in zip(used, grid.points):
        env[name] = g[keep]
    env.update(fixed_states(compiled, env))
    A, B, C, E = _unpack(compiled.pencil(env), m, K, n)
    return PencilView(total, A, B, C, E)
