"""The support of the Jacobian's spectrum (THEORY.md section 4).

The per-unit coefficients are treated as iid draws from a *site
distribution* P. Then

    M(lam)_ab = E_P[ |T_ab(lam)|^2 / |D(lam)|^2 ],   S = { lam : rho(M(lam)) >= 1 }

with ``D(lam) = det(lam - A)`` and ``T_ab`` the polynomials of
:func:`gatefield.theory.support_matrix`. A :class:`SiteTable` stores P as
weighted sites, each with the coefficients of ``D`` and the (conditional)
second moments ``E[t_abp t_abp' | site]`` of ``T``'s coefficients. At a fixed
point a site is a quadrature node of the nodes ``D`` depends on; the other
nodes are integrated out once, when the table is built. For the plug-in route
a site is one simulated unit. Evaluating ``M`` on many ``lam`` is then one
matrix product, ``(1/|D|^2) @ moments``.
"""

from __future__ import annotations

from dataclasses import dataclass

import contourpy
import numpy as np

from ..errors import SolverError
from .codegen import CompiledCell
from .quadrature import ORDER, node_rule, tensor_rule

__all__ = [
    "SiteTable",
    "Support",
    "fixed_point_sites",
    "plugin_sites",
    "fixed_states",
    "support_values",
    "support_rho",
    "inside_support",
    "trace_support",
    "unit_eigenvalues",
]

# Largest number of (lam, site) pairs handled in one block (memory ~ 16 bytes each).
_BLOCK = 4_000_000
# A point where one site carries more than this share of M is a speck of
# that site, not part of the bulk (see support_values).
SPECK_SHARE = 0.5
# |D|^2 below this counts as singular: lam sits on an eigenvalue of a unit's A.
_TINY = 1e-250


@dataclass(frozen=True)
class SiteTable:
    """A weighted site distribution P, reduced to what ``M(lam)`` needs.

    Attributes
    ----------
    weights : (n,) array, summing to 1
    d : (n, m+1) array
        Coefficients of ``D(lam) = det(lam - A)`` at each site (monic).
    moments : (n, K*K, m+1, m+1) array
        ``E[t_abp t_abp' | site]``.
    route : str
        "fixed-point" or "plug-in"; carried into every output.
    """

    weights: np.ndarray
    d: np.ndarray
    moments: np.ndarray
    K: int
    m: int
    route: str

    @property
    def center(self) -> complex:
        """The mean eigenvalue of the per-unit ``A``: the centroid of the
        spectrum, since ``E[tr Jac] / (N m) = E[tr A] / m``."""
        if self.m == 0:
            return 0.0
        return complex(-np.dot(self.weights, self.d[:, self.m - 1]) / self.m)


def fixed_states(compiled: CompiledCell, env: dict, iterations: int = 60) -> dict:
    """States ``s*(eta)`` at the node values in ``env``.

    Closed-form states come from the generated solution; states SymPy could
    not solve are found per point by Newton's method on the residual,
    started from the state reached by iterating the map from ``s = 0``
    (discrete time) or from ``s = 0`` (continuous time).
    """
    shape = np.broadcast_shapes(*(np.shape(env[n]) for n in compiled.nodes))
    env = dict(env)
    for name in compiled.states:
        env.setdefault(name, np.zeros(shape))
    if compiled.numeric_states:
        s = np.zeros((len(compiled.states),) + shape)
        for k, name in enumerate(compiled.states):
            env[name] = s[k]
        if compiled.cell.time == "discrete":
            for _ in range(iterations):
                s = np.array(compiled.update(env))
                for k, name in enumerate(compiled.states):
                    env[name] = s[k]
        m = len(compiled.states)
        for _ in range(iterations):
            out = compiled.residual(env)
            r = np.moveaxis(np.array(out[:m]), 0, -1)
            jac = np.moveaxis(np.array(out[m:]).reshape((m, m) + shape), (0, 1), (-2, -1))
            with np.errstate(all="ignore"):
                delta = np.linalg.solve(jac, r[..., None])[..., 0]
            delta = np.nan_to_num(delta)
            s = s - np.moveaxis(delta, -1, 0)
            for k, name in enumerate(compiled.states):
                env[name] = s[k]
            if np.max(np.abs(delta), initial=0.0) < 1e-13:
                break
    if compiled.fixed_state is not None:
        for name, value in zip(compiled.solved_states, compiled.fixed_state(env)):
            env[name] = value
    return {name: np.broadcast_to(env[name], shape) for name in compiled.states}


def _rules(compiled, values, q, order):
    return {n: node_rule(q[n], compiled.features.get(n, ()), values, order) for n in compiled.nodes}


def fixed_point_sites(compiled: CompiledCell, values: dict, q: dict, order: int = ORDER) -> SiteTable:
    """The site distribution at a mean-field fixed point.

    Parameters
    ----------
    values : dict
        Parameter values by name.
    q : dict
        Node variances by node name (``eta_a ~ N(0, q_a)``).

    Notes
    -----
    Sites are the tensor quadrature nodes of the nodes ``D(lam)`` depends on
    (``compiled.support_nodes[0]``); the other nodes are integrated out term
    by term (:class:`~gatefield.numerics.codegen.MomentPlan`), or on a full
    tensor grid when a state has no closed form.
    """
    m, K = len(compiled.states), len(compiled.nodes)
    outer, inner = compiled.support_nodes
    rules = _rules(compiled, values, q, order)
    outer_points, outer_w = tensor_rule([rules[n] for n in outer])
    n_out = len(outer_w)
    env = dict(values)
    for n in compiled.nodes:
        env[n] = np.zeros(1)
    for n, pts in zip(outer, outer_points):
        env[n] = pts
    env.update(fixed_states(compiled, env))
    coeffs = compiled.support(env)
    d = np.stack([np.broadcast_to(c, (n_out,)) for c in coeffs[: m + 1]], axis=1)
    plan = compiled.moment_plan
    if plan is None:
        moments = _dense_moments(compiled, values, rules, outer, outer_points, inner)
    else:
        moments = _planned_moments(plan, values, rules, outer, outer_points, m, K)
    return SiteTable(outer_w, d, moments, K, m, "fixed-point")


def _planned_moments(plan, values, rules, outer, outer_points, m, K):
    n_out = len(outer_points[0]) if outer_points else 1
    outer_at = dict(zip(outer, outer_points))
    group_values = []
    for names, fn in plan.groups:
        mine = [n for n in names if n not in outer_at]
        points, w = tensor_rule([rules[n] for n in mine])
        env = dict(values)
        env.update({n: outer_at[n][:, None] for n in names if n in outer_at})
        env.update({n: pts[None, :] for n, pts in zip(mine, points)})
        (value,) = fn(env)
        group_values.append(np.broadcast_to(value, (n_out, len(w))) @ w)
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


def _dense_moments(compiled, values, rules, outer, outer_points, inner):
    """Moments on the full outer x inner tensor grid (states found numerically)."""
    m, K = len(compiled.states), len(compiled.nodes)
    inner_points, inner_w = tensor_rule([rules[n] for n in inner])
    n_out = len(outer_points[0]) if outer_points else 1
    n_in = len(inner_w)
    moments = np.empty((n_out, K * K, m + 1, m + 1))
    chunk = max(1, _BLOCK // (8 * n_in * (m + 1)))
    for start in range(0, n_out, chunk):
        stop = min(n_out, start + chunk)
        env = dict(values)
        for n in compiled.nodes:
            env[n] = np.zeros((1, 1))
        for n, pts in zip(outer, outer_points):
            env[n] = pts[start:stop, None]
        for n, pts in zip(inner, inner_points):
            env[n] = pts[None, :]
        env.update(fixed_states(compiled, env))
        shape = (stop - start, n_in)
        coeffs = compiled.support(env)
        t = np.stack([np.broadcast_to(c, shape) for c in coeffs[m + 1 :]]).reshape(K * K, m + 1, *shape)
        moments[start:stop] = np.einsum("gpci,gqci,i->cgpq", t, t, inner_w)
    return moments


def plugin_sites(compiled: CompiledCell, values: dict, states: np.ndarray, nodes: np.ndarray) -> SiteTable:
    """The **plug-in** site distribution: one site per simulated unit.

    Parameters
    ----------
    states : (m, N) array
        Per-unit states at one time of a simulation.
    nodes : (K, N) array
        The node values ``eta_a`` of the same units at that time.
    """
    m, K = len(compiled.states), len(compiled.nodes)
    N = states.shape[1]
    env = dict(values)
    env.update({n: states[k] for k, n in enumerate(compiled.states)})
    env.update({n: nodes[k] for k, n in enumerate(compiled.nodes)})
    coeffs = [np.broadcast_to(c, (N,)) for c in compiled.support(env)]
    d = np.stack(coeffs[: m + 1], axis=1)
    t = np.stack(coeffs[m + 1 :]).reshape(K * K, m + 1, N)
    moments = np.einsum("gpi,gqi->igpq", t, t)
    return SiteTable(np.full(N, 1.0 / N), d, moments, K, m, "plug-in")


def support_values(sites: SiteTable, lam, bulk: bool = False) -> np.ndarray:
    """``M(lam)`` for every ``lam``: an array of shape ``lam.shape + (K, K)``.

    Parameters
    ----------
    bulk : bool
        Leave out, at each ``lam`` where one site holds more than
        ``SPECK_SHARE`` of ``M``, that site (when the sites' ``A`` differ). A
        discrete site distribution puts a speck of support around every
        site's own eigenvalues (``M ~ w / |lam - mu|^2``); in the bulk many
        sites contribute and nothing is dropped, while a speck vanishes. This
        makes radii and counts insensitive to the quadrature's tail nodes and
        to single simulated units.
    """
    lam = np.asarray(lam, dtype=complex)
    flat = lam.ravel()
    n, K, m = len(sites.weights), sites.K, sites.m
    moments = sites.moments.reshape(n, -1)
    drop = bulk and n > 1 and np.ptp(sites.d, axis=0).max() > 0
    totals = sites.moments.sum(axis=1)  # (n, m+1, m+1): sum over entries, to rank sites
    out = np.empty((flat.size, K * K))
    chunk = max(1, _BLOCK // max(n, 1))
    for start in range(0, flat.size, chunk):
        z = flat[start : start + chunk]
        powers = z[:, None] ** np.arange(m + 1)
        D = powers @ sites.d.T
        W = sites.weights / np.maximum(D.real**2 + D.imag**2, _TINY)
        pp = powers[:, :, None] * np.conj(powers)[:, None, :]
        mom = (W @ moments).reshape(len(z), K * K, m + 1, m + 1)
        if drop:
            score = W * np.einsum("lpq,kpq->lk", pp, totals).real
            top = np.argmax(score, axis=1)
            rows = np.arange(len(z))
            # Only where one site holds most of M is lam a speck; elsewhere the
            # top site is one of many and keeping it keeps the edge exact.
            speck = score[rows, top] > SPECK_SHARE * score.sum(axis=1)
            mom = mom - (speck * W[rows, top])[:, None, None, None] * sites.moments[top]
        out[start : start + chunk] = np.einsum("lgpq,lpq->lg", mom, pp).real
    return out.reshape(lam.shape + (K, K))


def support_rho(sites: SiteTable, lam, bulk: bool = False) -> np.ndarray:
    """Spectral radius of ``M(lam)``; ``lam`` is in the support where it is >= 1."""
    M = support_values(sites, lam, bulk)
    if sites.K == 1:
        return M[..., 0, 0]
    with np.errstate(all="ignore"):
        M = np.nan_to_num(M, nan=np.inf, posinf=1e300)
        return np.max(np.abs(np.linalg.eigvals(M)), axis=-1)


def inside_support(sites: SiteTable, lam) -> np.ndarray:
    """Whether each ``lam`` lies in the predicted support.

    The support is the bulk (:func:`support_values` with ``bulk=True``) and
    its real whiskers: ``M`` diverges on every per-unit eigenvalue of ``A``,
    so a real ``lam`` within the central ``UNIT_QUANTILE`` range of the real
    per-unit eigenvalues is inside, as are the real eigenvalues a finite
    network puts there (weakly coupled units keeping their own eigenvalue).
    """
    lam = np.asarray(lam, dtype=complex)
    inside = _in_bulk(sites, lam)
    mu = unit_eigenvalues(sites)
    real = np.abs(mu.imag) <= 1e-12 * np.maximum(1.0, np.abs(mu))
    if real.any():
        weights = np.repeat(sites.weights, sites.m).reshape(mu.shape)[real]
        lo = _weighted_quantile(mu.real[real], weights, 1.0 - UNIT_QUANTILE)
        hi = _weighted_quantile(mu.real[real], weights, UNIT_QUANTILE)
        on_axis = np.abs(lam.imag) <= 1e-9 * np.maximum(1.0, np.abs(lam))
        inside = inside | (on_axis & (lam.real >= lo) & (lam.real <= hi))
    return inside


def _in_bulk(sites, lam):
    return support_rho(sites, lam, bulk=True) >= 1.0


#: Quantile of the per-unit eigenvalues of ``A`` reported as the reach of the
#: spectrum's real whiskers: 1 unit in 1000 lies beyond it.
UNIT_QUANTILE = 0.999


@dataclass(frozen=True)
class Support:
    """The predicted support of the Jacobian's spectrum.

    Attributes
    ----------
    boundary : complex array
        The longest component of the level curve ``rho(M) = 1``.
    components : tuple of complex arrays
        Every component of that curve (the support may have several: an
        LSTM's bulk around 0 and its lens of slow modes near ``f``).
    spectral_radius : float
        ``max |lam|`` on the support.
    rightmost_real : float
        ``max Re lam`` on the support.
    unit_radius, unit_rightmost : float
        The ``UNIT_QUANTILE`` quantiles of ``|mu|`` and ``Re mu`` over the
        per-unit eigenvalues ``mu`` of ``A``. ``M`` diverges on the set of
        these values, so the support carries thin whiskers along them (where
        weakly coupled units, e.g. behind a nearly closed gate, keep their own
        eigenvalue); they hold a vanishing share of the density and a grid
        resolves them only partly.
    stable : bool
        Discrete time: support and whiskers inside the unit disc; continuous
        time: inside the left half-plane.
    route : str
    """

    boundary: np.ndarray
    components: tuple
    spectral_radius: float
    rightmost_real: float
    unit_radius: float
    unit_rightmost: float
    stable: bool
    time: str
    route: str

    def to_json(self) -> dict:
        def points(curve):
            return [[float(z.real), float(z.imag)] for z in curve]

        return {
            "route": self.route,
            "spectral_radius": self.spectral_radius,
            "rightmost_real": self.rightmost_real,
            "stable": self.stable,
            "unit_eigenvalues": {
                "quantile": UNIT_QUANTILE,
                "max_abs": self.unit_radius,
                "max_real": self.unit_rightmost,
            },
            "boundary": points(self.boundary),
            "boundary_components": [points(c) for c in self.components],
        }


def _weighted_quantile(values, weights, quantile):
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = min(np.searchsorted(cumulative, quantile * cumulative[-1]), len(values) - 1)
    return float(values[order][index])


def unit_eigenvalues(sites: SiteTable) -> np.ndarray:
    """Eigenvalues of each site's ``A`` (the roots of ``D``): (n, m) array."""
    n, m = len(sites.weights), sites.m
    companion = np.zeros((n, m, m))
    companion[:, 0, :] = -sites.d[:, m - 1 :: -1]  # monic D: lam^m + d_{m-1} lam^{m-1} + ...
    companion[:, 1:, :-1] += np.eye(m - 1)
    return np.linalg.eigvals(companion)


def _outermost(sites, origins, direction, reach, samples):
    """Largest ``r`` in ``[0, reach]`` with ``origins + r * direction`` in the
    support, per origin (``nan`` where none), bracketed on ``samples`` radii
    and bisected to 1e-10 relative."""
    radii = reach * np.arange(samples + 1) / samples
    inside = _in_bulk(sites, origins[:, None] + radii[None, :] * direction[:, None])
    hit = inside.any(axis=1)
    last = samples - np.argmax(inside[:, ::-1], axis=1)
    lo = radii[last]
    hi = radii[np.minimum(last + 1, samples)]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        now = _in_bulk(sites, origins + mid * direction)
        lo, hi = np.where(now, mid, lo), np.where(now, hi, mid)
        if np.all(hi - lo <= 1e-10 * np.maximum(1.0, hi)):
            break
    return np.where(hit, lo, np.nan)


def trace_support(
    sites: SiteTable, time: str, angles: int = 256, radial: int = 128, grid: int = 201
) -> Support:
    """Locate the support ``rho(M(lam)) >= 1``: its radius, rightmost point and boundary.

    Notes
    -----
    The spectrum of a real matrix is symmetric under conjugation, so only the
    upper half-plane is searched. The spectral radius is the outermost
    crossing along ``angles`` rays from the origin, and the rightmost point
    the outermost crossing along as many horizontal lines; both are
    bracketed on ``radial`` samples and bisected to 1e-10 relative, so they
    are exact up to the sampling and hold for any shape of support. The
    boundary is the level curve ``rho = 1`` on a ``grid x grid`` mesh
    (contourpy), which follows several components and holes.
    """
    R = 1.0 + 2.0 * abs(sites.center)
    ring = np.exp(1j * np.linspace(0.0, np.pi, 64))
    while np.any(_in_bulk(sites, R * ring)):
        R *= 2.0
        if R > 1e8:
            raise SolverError("the predicted support is unbounded; check the cell's gains")
    theta = np.linspace(0.0, np.pi, angles)
    radial_hits = _outermost(sites, np.zeros(angles, complex), np.exp(1j * theta), R, radial)
    if np.all(np.isnan(radial_hits)):
        radius, rightmost, components = 0.0, -np.inf, ()
    else:
        radius = float(np.nanmax(radial_hits))
        heights = np.linspace(0.0, radius, angles)
        line_hits = _outermost(
            sites, -radius - 1e-9 + 1j * heights, np.ones(angles, complex), 2 * radius + 2e-9, radial
        )
        rightmost = float(np.nanmax(-radius - 1e-9 + line_hits))
        components = _contours(sites, 1.03 * radius + 1e-12, grid)
    boundary = max(components, key=len) if components else np.zeros(0, complex)
    mu = unit_eigenvalues(sites)
    weights = np.repeat(sites.weights, sites.m)
    unit_radius = _weighted_quantile(np.abs(mu).ravel(), weights, UNIT_QUANTILE)
    unit_rightmost = _weighted_quantile(mu.real.ravel(), weights, UNIT_QUANTILE)
    if time == "discrete":
        stable = max(radius, unit_radius) < 1.0
    else:
        stable = max(rightmost, unit_rightmost) < 0.0
    return Support(
        boundary, components, radius, rightmost, unit_radius, unit_rightmost, bool(stable), time, sites.route
    )


def _contours(sites, extent, grid):
    """Closed components of ``rho = 1`` in the square of half-width ``extent``."""
    x = np.linspace(-extent, extent, grid)
    y = np.linspace(0.0, extent, grid // 2 + 1)
    lam = x[None, :] + 1j * y[:, None]
    with np.errstate(divide="ignore"):
        level = np.log(np.maximum(support_rho(sites, lam, bulk=True), 1e-300))
    level = np.concatenate([level[:0:-1], level])  # mirror into the lower half-plane
    y = np.concatenate([-y[:0:-1], y])
    lines = contourpy.contour_generator(x, y, level).lines(0.0)
    curves = [np.asarray(line[:, 0] + 1j * line[:, 1]) for line in lines if len(line) > 2]
    if curves:
        refined = _refine(sites, np.concatenate(curves), x[1] - x[0])
        curves = np.split(refined, np.cumsum([len(c) for c in curves])[:-1])
    return tuple(sorted(curves, key=len, reverse=True))


def _refine(sites, points, spacing):
    """Move contour vertices onto ``rho = 1``: bisection along the local
    normal within two grid cells (1e-12 of a cell); a vertex with no sign
    change there is kept as interpolated."""
    h = 1e-3 * spacing

    def f(z):
        with np.errstate(divide="ignore"):
            return np.log(np.maximum(support_rho(sites, z, bulk=True), 1e-300))

    normal = (f(points + h) - f(points - h)) + 1j * (f(points + 1j * h) - f(points - 1j * h))
    normal = normal / np.where(np.abs(normal) > 0, np.abs(normal), 1.0)
    lo, hi = points + 2 * spacing * normal, points - 2 * spacing * normal  # inside, outside
    f_lo, f_hi = f(lo), f(hi)
    ok = (f_lo >= 0) & (f_hi < 0) & (np.abs(normal) > 0)
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        inside = f(mid) >= 0
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    return np.where(ok, 0.5 * (lo + hi), points)
