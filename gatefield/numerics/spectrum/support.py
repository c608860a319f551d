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
    "UNIT_QUANTILE",
    "bounding_grid",
]

# Largest number of (lam, site) pairs handled in one block (memory ~ 16 bytes each).
_BLOCK = 4_000_000
# A point where one site carries more than this share of M is a speck of
# that site, not part of the bulk (see support_values).
SPECK_SHARE = 0.5
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
    totals = view.moments.sum(axis=1)  # (n, m+1, m+1): sum over entries, to rank sites
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
            score = W * np.einsum("lpq,kpq->lk", pp, totals).real
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


def inside_support(sites: SiteDistribution, lam) -> np.ndarray:
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
        weights = np.repeat(_moments(sites).weights, sites.m).reshape(mu.shape)[real]
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


def trace_support(sites: SiteDistribution, angles: int = 256, radial: int = 128, grid: int = 201) -> Support:
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
    weights = np.repeat(_moments(sites).weights, sites.m)
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


def bounding_grid(support: Support, points: int) -> tuple:
    """``(x, y)``: a grid over the support's bounding box plus 5%, ``points``
    per side and an even number of rows, so that no row lies on the real axis
    (where the sites' own eigenvalues sit)."""
    curves = np.concatenate(support.components) if support.components else np.array([0j])
    pad = 0.05 * max(float(np.ptp(curves.real)), float(np.ptp(curves.imag)), 1e-3)
    x0, x1 = curves.real.min() - pad, curves.real.max() + pad
    reach = float(np.abs(curves.imag).max()) + pad
    return np.linspace(x0, x1, points), np.linspace(-reach, reach, points + (points % 2))
