"""The support of the Jacobian's spectrum (``docs/theory/4-support.md``).

With the per-unit coefficients drawn from the site distribution P,

    M(lam)_ab = E_P[ |T_ab(lam)|^2 / |D(lam)|^2 ],   S = { lam : rho(M(lam)) >= 1 }

with ``D(lam) = det(lam - A)`` and ``T_ab`` the polynomials of
:func:`gatefield.theory.support_matrix`. The moment view of a
:class:`~gatefield.numerics.spectrum.sites.SiteDistribution` holds each site's
``D`` coefficients and the second moments of ``T``'s coefficients, so ``M`` on
many ``lam`` is one matrix product, ``(1/|D|^2) @ moments``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import contourpy
import numpy as np

from ...errors import GatefieldError, SolverError
from .sites import SiteDistribution
from .views import MomentView

__all__ = [
    "Support",
    "support_values",
    "support_rho",
    "inside_support",
    "trace_support",
    "unit_eigenvalues",
    "bounding_grid",
]

# Largest number of (lam, site) pairs handled in one block (memory ~ 16 bytes each).
_BLOCK = 4_000_000
# A point where one site carries more than this share of M is a speck of
# that site, not part of the bulk (see support_values).
SPECK_SHARE = 0.5
#: An eigenvalue within this (relative) distance of an atom sits on it: an
#: atom's eigenvalues are exact at any N, and LAPACK resolves a semisimple
#: one to ~1e-13 (300 of 300 within 1e-8 for a gate-state cell's -1/tau).
ATOM_REACH = 1e-8
# |D|^2 below this counts as singular: lam sits on an eigenvalue of a unit's A.
_TINY = 1e-250


def _moments(sites) -> MomentView:
    if not isinstance(sites, SiteDistribution):
        raise GatefieldError(
            f"expected a SiteDistribution, got {type(sites).__name__}; build one with "
            "gatefield.sites.from_fixed_point, from_snapshot or from_dmft"
        )
    return sites.moments


def support_values(sites: SiteDistribution, lam, bulk: bool = False) -> np.ndarray:
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
    view = _moments(sites)
    lam = np.asarray(lam, dtype=complex)
    flat = lam.ravel()
    n, K, m = len(view.weights), view.K, view.m
    moments = view.moments.reshape(n, -1)
    drop = bulk and n > 1 and np.ptp(view.d, axis=0).max() > 0
    # (P, n) with P = (m+1)^2: each site's sum over entries, to rank sites
    totals = view.moments.sum(axis=1).reshape(n, -1).T.astype(complex)
    out = np.empty((flat.size, K * K))
    chunk = max(1, _BLOCK // max(n, 1))
    for start in range(0, flat.size, chunk):
        z = flat[start : start + chunk]
        powers = z[:, None] ** np.arange(m + 1)
        D = powers @ view.d.T
        W = view.weights / np.maximum(D.real**2 + D.imag**2, _TINY)
        pp = powers[:, :, None] * np.conj(powers)[:, None, :]
        mom = (W @ moments).reshape(len(z), K * K, m + 1, m + 1)
        if drop:
            # A matrix product (BLAS), not einsum: this is the hot loop of every support trace.
            score = W * (pp.reshape(len(z), -1) @ totals).real
            top = np.argmax(score, axis=1)
            rows = np.arange(len(z))
            # Only where one site holds most of M is lam a speck; elsewhere the
            # top site is one of many and keeping it keeps the edge exact.
            speck = score[rows, top] > SPECK_SHARE * score.sum(axis=1)
            mom = mom - (speck * W[rows, top])[:, None, None, None] * view.moments[top]
        out[start : start + chunk] = np.einsum("lgpq,lpq->lg", mom, pp).real
    return out.reshape(lam.shape + (K, K))


def support_rho(sites: SiteDistribution, lam, bulk: bool = False) -> np.ndarray:
    """Spectral radius of ``M(lam)``; ``lam`` is in the support where it is >= 1."""
    M = support_values(sites, lam, bulk)
    if sites.K == 1:
        return M[..., 0, 0]
    with np.errstate(all="ignore"):
        M = np.nan_to_num(M, nan=np.inf, posinf=1e300)
        return np.max(np.abs(np.linalg.eigvals(M)), axis=-1)


def inside_support(sites: SiteDistribution, lam, N: int | None = None) -> np.ndarray:
    """Whether each ``lam`` lies in the predicted support: the bulk
    (:func:`support_values` with ``bulk=True``), a real whisker
    (:func:`~gatefield.numerics.spectrum.whiskers.whiskers`) or an atom
    (:func:`~gatefield.numerics.spectrum.atoms.site_atoms`).

    Parameters
    ----------
    N : int, optional
        Judge the eigenvalues of an N-unit network: a finite network's own
        eigenvalue of a weakly coupled unit sits near the whisker, not on it
        (coupling moves it, and near the bulk's edge it pairs off the axis),
        so a ``lam`` within the bulk's finite-N edge scale ``edge_tolerance(r,
        N)`` of a whisker counts as on it. Without ``N``: on the axis only.
    """
    from ...validation.tolerances import edge_tolerance
    from .atoms import site_atoms
    from .whiskers import whiskers

    lam = np.asarray(lam, dtype=complex)
    inside = _in_bulk(sites, lam)
    on_axis = 1e-9 * np.maximum(1.0, np.abs(lam))
    reach = on_axis if N is None else np.maximum(on_axis, edge_tolerance(sites.support.bulk_radius, N))
    for w in whiskers(sites):
        inside |= (np.abs(lam.imag) <= reach) & (lam.real >= w.start - reach) & (lam.real <= w.end + reach)
    # The exact eigenvalues the network cannot see (site_atoms), wherever they
    # lie: at such a point the support's M is 0/0 and its test is round-off. A
    # finite network has them to round-off too, so only round-off is allowed.
    atoms = np.array([a.location for a in site_atoms(sites)], dtype=complex)
    if len(atoms) and len(lam):
        near = np.abs(lam.reshape(-1, 1) - atoms[None, :]).min(axis=1).reshape(lam.shape)
        inside |= near <= ATOM_REACH * np.maximum(1.0, np.abs(lam))
    return inside


def _in_bulk(sites, lam):
    return support_rho(sites, lam, bulk=True) >= 1.0


@dataclass(frozen=True)
class Support:
    """The predicted support of the Jacobian's spectrum (N = infinity).

    Attributes
    ----------
    boundary : complex array
        The longest component of the bulk's boundary, the level curve
        ``rho(M) = 1``.
    components : tuple of complex arrays
        Every component of that curve (the bulk may have several: an
        LSTM's disc around 0 and its lens of slow modes near ``f``).
    spectral_radius : float
        ``sup |lam|`` on the support: the bulk and the closure of its
        whiskers.
    rightmost_real : float
        ``sup Re lam`` on the support.
    bulk_radius, bulk_rightmost : float
        The same over the bulk alone.
    whiskers : tuple of Whisker
        The real segments of the units' own eigenvalues outside the bulk,
        with their mass (:mod:`~gatefield.numerics.spectrum.whiskers`).
    edge_points : complex array
        The outermost point of the bulk on each traced ray (rays that miss
        it left out): the bulk's far edge, from which
        :func:`~.whiskers.edge_prediction` reads its reach at a height.
    unit_radius, unit_rightmost : float
        The largest ``|mu|`` and ``Re mu`` a unit attains among the own
        eigenvalues outside the bulk (of the sampled site law): a whisker's
        end may be a limit no unit reaches (a gate shuts only in the limit).
    stable : bool
        Discrete time: the bulk and every attained own eigenvalue inside the
        unit disc; continuous time: inside the left half-plane.
    route : str
    """

    boundary: np.ndarray
    components: tuple
    spectral_radius: float
    rightmost_real: float
    bulk_radius: float
    bulk_rightmost: float
    whiskers: tuple
    edge_points: np.ndarray
    unit_radius: float
    unit_rightmost: float
    stable: bool
    time: str
    route: str

    def summary(self) -> str:
        """One line: the radius (and rightmost point in continuous time), the
        bulk's, the whiskers with their share, and the verdict."""
        if self.time == "discrete":
            head = f"spectral radius {self.spectral_radius:.4f} (bulk {self.bulk_radius:.4f})"
        else:
            # No bulk (every eigenvalue on a whisker) leaves bulk_rightmost at -inf: say so.
            bulk = f"bulk {self.bulk_rightmost:.4f}" if math.isfinite(self.bulk_rightmost) else "no bulk"
            head = f"rightmost real part {self.rightmost_real:.4f} ({bulk})"
        parts = [head]
        if self.whiskers:
            mass = sum(w.mass for w in self.whiskers)
            ends = ", ".join(f"[{w.start:.4f}, {w.end:.4f}]" for w in self.whiskers)
            parts.append(f"whiskers {ends} hold {mass:.2%} of eigenvalues")
        return "; ".join(parts) + f" -> {'stable' if self.stable else 'unstable'}"

    def to_json(self) -> dict:
        def points(curve):
            return [[float(z.real), float(z.imag)] for z in curve]

        return {
            "route": self.route,
            "spectral_radius": self.spectral_radius,
            "rightmost_real": self.rightmost_real,
            "bulk_radius": self.bulk_radius,
            "bulk_rightmost": self.bulk_rightmost,
            "stable": self.stable,
            "whiskers": [w.to_json() for w in self.whiskers],
            "unit_eigenvalues": {"max_abs": self.unit_radius, "max_real": self.unit_rightmost},
            "boundary": points(self.boundary),
            "boundary_components": [points(c) for c in self.components],
        }


def _weighted_quantile(values, weights, quantile):
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = min(np.searchsorted(cumulative, quantile * cumulative[-1]), len(values) - 1)
    return float(values[order][index])


def unit_eigenvalues(sites: SiteDistribution) -> np.ndarray:
    """Eigenvalues of each site's ``A`` (the roots of ``D``): (n, m) array."""
    view = _moments(sites)
    n, m = len(view.weights), view.m
    companion = np.zeros((n, m, m))
    companion[:, 0, :] = -view.d[:, m - 1 :: -1]  # monic D: lam^m + d_{m-1} lam^{m-1} + ...
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


#: Rays from the origin traced by default (:func:`trace_support`).
ANGLES = 256


def lowest_ray(angles: int = ANGLES) -> float:
    """The angle of the lowest ray :func:`trace_support` traces: half a step
    above the real axis. The axis itself carries the units' own eigenvalues,
    where a discrete site law has a pole per site; the bulk is resolved down
    to this ray, and what lies on the axis below it is whisker."""
    return 0.5 * np.pi / angles


#: How far past the lowest ray or line the bulk may continue along the real
#: axis, in units of ``r theta^2`` (``r`` the radius, ``theta`` the lowest
#: ray's angle, so the lowest probe passes at height ``h ~ r theta``): a tip
#: of curvature radius ``rho`` falls short at that height by at most ``h^2 /
#: (2 rho)``, within the reach for ``rho >= r / 8``, while a discrete site
#: law's poles further along the axis stay out.
TIP_REACH = 4.0


def _axis_tip(sites, start: float, sign: float, reach: float) -> float:
    """The bulk's crossing of the real axis next to ``start`` (a crossing of
    the lowest ray or line), walking outward in the direction ``sign``: the
    first exit, so that the units' own eigenvalues further out (poles of a
    discrete site law) do not count. ``start`` itself where the axis there is
    outside (``nan`` where ``start`` is)."""
    if not np.isfinite(start) or not _in_bulk(sites, np.array([complex(start)]))[0]:
        return start
    steps = start + sign * reach * np.linspace(0.0, 1.0, 17)
    inside = _in_bulk(sites, steps.astype(complex))
    if inside.all():
        return float(steps[-1])
    k = int(np.argmin(inside))
    lo, hi = steps[k - 1], steps[k]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _in_bulk(sites, np.array([complex(mid)]))[0]:
            lo = mid
        else:
            hi = mid
        if abs(hi - lo) <= 1e-12 * max(1.0, abs(hi)):
            break
    return float(lo)


def trace_support(sites: SiteDistribution, angles: int = ANGLES, radial: int = 128, grid: int = 201) -> Support:
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
    center = _moments(sites).center
    time = sites.time
    R = 1.0 + 2.0 * abs(center)
    ring = np.exp(1j * np.linspace(0.0, np.pi, 64))
    while np.any(_in_bulk(sites, R * ring)):
        R *= 2.0
        if R > 1e8:
            raise SolverError("the predicted support is unbounded; check the cell's gains")
    theta = lowest_ray(angles) + np.linspace(0.0, np.pi - 2 * lowest_ray(angles), angles)
    radial_hits = _outermost(sites, np.zeros(angles, complex), np.exp(1j * theta), R, radial)
    tips: list = []
    if np.all(np.isnan(radial_hits)):
        radius, rightmost, components = 0.0, -np.inf, ()
    else:
        radius = float(np.nanmax(radial_hits))
        heights = radius * np.linspace(lowest_ray(angles), 1.0, angles)
        line_hits = _outermost(
            sites, -radius - 1e-9 + 1j * heights, np.ones(angles, complex), 2 * radius + 2e-9, radial
        )
        rightmost = float(np.nanmax(-radius - 1e-9 + line_hits))
        # The bulk's tips on the real axis, continued from the lowest ray and line.
        reach = TIP_REACH * lowest_ray(angles) ** 2 * radius
        low_line = -radius - 1e-9 + line_hits[0]
        tips = [_axis_tip(sites, radial_hits[0], 1.0, reach), -_axis_tip(sites, -radial_hits[-1], -1.0, reach)]
        radius = max([radius] + [abs(t) for t in tips if np.isfinite(t)])
        rightmost = max(rightmost, _axis_tip(sites, low_line, 1.0, reach) if np.isfinite(low_line) else -np.inf)
        components = _contours(sites, 1.03 * radius + 1e-12, grid)
    boundary = max(components, key=len) if components else np.zeros(0, complex)
    from .whiskers import attained, whiskers

    found = _meet_tips(whiskers(sites), tips)
    unit_radius, unit_rightmost = attained(sites)
    spectral_radius = max([radius] + [max(abs(w.start), abs(w.end)) for w in found])
    rightmost_real = max([rightmost] + [w.end for w in found])
    if time == "discrete":
        stable = max(radius, unit_radius) < 1.0
    else:
        stable = max(rightmost, unit_rightmost) < 0.0
    return Support(
        boundary,
        components,
        spectral_radius,
        rightmost_real,
        radius,
        rightmost,
        found,
        (radial_hits * np.exp(1j * theta))[~np.isnan(radial_hits)],
        unit_radius,
        unit_rightmost,
        bool(stable),
        time,
        sites.route,
    )


def _meet_tips(found: tuple, tips: list) -> tuple:
    """Whiskers end on the bulk's real tips exactly (the whisker search
    locates the bulk on a grid of the axis)."""
    from .whiskers import Whisker

    out = []
    for w in found:
        start, end = w.start, w.end
        for tip in (t for t in tips if np.isfinite(t)):
            if start < tip < end:
                start, end = (tip, end) if tip - start < end - tip else (start, tip)
        out.append(Whisker(float(start), float(end), w.mass))
    return tuple(out)


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


def bounding_grid(support: Support, points: int) -> tuple:
    """``(x, y)``: a grid over the support's bounding box plus 5%, ``points``
    per side and an even number of rows, so that no row lies on the real axis
    (where the sites' own eigenvalues sit)."""
    curves = np.concatenate(support.components) if support.components else np.array([0j])
    pad = 0.05 * max(float(np.ptp(curves.real)), float(np.ptp(curves.imag)), 1e-3)
    x0, x1 = curves.real.min() - pad, curves.real.max() + pad
    reach = float(np.abs(curves.imag).max()) + pad
    return np.linspace(x0, x1, points), np.linspace(-reach, reach, points + (points % 2))
