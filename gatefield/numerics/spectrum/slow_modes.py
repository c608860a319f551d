"""Slow modes: eigenvalues near the slow point (``docs/theory/5-cavity.md#slow-modes``).

The slow point is 1 in discrete time and 0 in continuous time. This module
gives the share of eigenvalues within ``delta`` of it (the contour integral
of ``g``, atoms included), its accumulation law ``F(delta) ~ c delta^p``, the
signed distance of the support's edge from the slow point (:func:`edge_gap`,
zero at marginal stability) and the parameter windows where that distance
vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import GatefieldError
from .observables import share_inside
from .sites import SiteDistribution

__all__ = [
    "SLOW_POINTS",
    "AccumulationLaw",
    "slow_point",
    "slow_mode_rule",
    "slow_mode_fraction",
    "accumulation_law",
    "edge_gap",
    "marginal_window",
]

#: Where slow modes pile up: eigenvalue 1 of a map, 0 of a flow.
SLOW_POINTS = {"discrete": 1.0, "continuous": 0.0}
#: Default radii of :func:`accumulation_law`.
DELTAS = (0.02, 0.04, 0.08, 0.16)
#: Equal-weight quantile points on each whisker node in :func:`slow_mode_rule`:
#: the share's error is at most 1/(2 x 128) = 0.004 (the GRU share within
#: 0.1 of 1 at alpha_z = 16 changes by 1e-4 from 128 to 512 points).
SLOW_QUANTILE_POINTS = 128
#: Gauss points on the other nodes in :func:`slow_mode_rule`.
SLOW_OTHER_POINTS = 8
#: Most sites :func:`slow_mode_rule` builds (each share holds about 20k
#: (point, site) pairs in memory at once, so time grows linearly).
SLOW_MAX_SITES = 1 << 15
#: ``|edge_gap|`` at most this counts as touching the slow point. A sigmoid
#: gate never shuts, so at finite gain the edge approaches the slow point
#: exponentially in the gain (``1 - z_min`` with ``z_min ~ exp(-8.5 alpha
#: sqrt(q))`` over the quadrature's range) rather than reaching it.
MARGINAL_TOL = 1e-3


def slow_point(time: str) -> float:
    """1 for a discrete-time cell, 0 for a continuous-time one."""
    try:
        return SLOW_POINTS[time]
    except KeyError:
        raise GatefieldError(f"time must be 'discrete' or 'continuous', got {time!r}") from None


def _deltas(deltas) -> np.ndarray:
    d = np.atleast_1d(np.asarray(deltas, dtype=float))
    if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d) & (d > 0)):
        raise GatefieldError(f"delta must be positive numbers, got {deltas}")
    return d


def slow_mode_rule(sites: SiteDistribution) -> SiteDistribution:
    """The distribution discretized to resolve the slow point's whisker
    (:meth:`SiteDistribution.resolving_whiskers`)."""
    return sites.resolving_whiskers(SLOW_QUANTILE_POINTS, SLOW_OTHER_POINTS, SLOW_MAX_SITES)


def slow_mode_fraction(sites: SiteDistribution, deltas, points: int = 256) -> np.ndarray:
    """Share of eigenvalues within ``delta`` of the slow point, for each delta.

    The contour integral of ``g`` around ``|lam - slow| = delta``: exactly
    :func:`~gatefield.numerics.spectrum.observables.share_inside` of that disc
    (which resolves the whisker the circle crosses), so atoms inside the
    circle are counted. A circle through the support's edge converges like
    ``points^(-2)``.
    """
    center = slow_point(sites.time)
    return np.array([share_inside(sites, center, float(d), points=points) for d in _deltas(deltas)])


@dataclass(frozen=True)
class AccumulationLaw:
    """How eigenvalues accumulate at the slow point: ``F(delta) ~ c delta^p``.

    Attributes
    ----------
    deltas, fractions : arrays
        ``F(delta)``, the share within ``delta`` of the slow point.
    local_exponents : array
        ``d log F / d log delta`` at each delta (finite differences; 2 for
        a density that is finite and non-zero at the slow point, 1 for a
        finite density along a real whisker, 0 for an atom).
    exponent, prefactor : float
        Least-squares fit of ``log F = log c + p log delta`` (nan where
        ``F = 0`` somewhere).
    """

    deltas: np.ndarray
    fractions: np.ndarray
    local_exponents: np.ndarray
    exponent: float
    prefactor: float


def accumulation_law(sites: SiteDistribution, deltas=DELTAS, points: int = 256) -> AccumulationLaw:
    """The accumulation law of eigenvalues at the slow point (see :class:`AccumulationLaw`)."""
    d = np.sort(_deltas(deltas))
    if d.size < 2:
        raise GatefieldError("the accumulation law needs at least two radii delta")
    F = slow_mode_fraction(sites, d, points)
    if np.all(F > 0):
        logs = np.log(F)
        local = np.gradient(logs, np.log(d))
        p, logc = np.polyfit(np.log(d), logs, 1)
        return AccumulationLaw(d, F, local, float(p), float(np.exp(logc)))
    nan = np.full(d.size, np.nan)
    return AccumulationLaw(d, F, nan, float("nan"), float("nan"))


def edge_gap(support) -> float:
    """Distance from the support's edge to the slow point, signed.

    Discrete time: ``1 - spectral radius``; continuous time: ``-rightmost
    real part``. Positive: stable with that margin; zero: the edge touches
    the slow point (marginal stability); negative: unstable.
    """
    if support.time == "discrete":
        return 1.0 - support.spectral_radius
    return -support.rightmost_real


def marginal_window(values, gaps, tol: float = MARGINAL_TOL) -> list:
    """Parameter intervals where the support's edge touches the slow point.

    Parameters
    ----------
    values : 1-D array
        The swept parameter (increasing).
    gaps : 1-D array
        :func:`edge_gap` at each value (``nan`` where there was no solution).
    tol : float

    Returns
    -------
    list of (first, last)
        The first and last grid values of each run of ``|gap| <= tol``; the
        true window extends up to one grid step beyond each end.
    """
    v = np.asarray(values, dtype=float)
    g = np.asarray(gaps, dtype=float)
    if v.shape != g.shape or v.ndim != 1:
        raise GatefieldError("values and gaps must be 1-D arrays of the same length")
    touching = np.isfinite(g) & (np.abs(g) <= tol)
    out, start = [], None
    for k, flag in enumerate(touching):
        if flag and start is None:
            start = k
        if not flag and start is not None:
            out.append((float(v[start]), float(v[k - 1])))
            start = None
    if start is not None:
        out.append((float(v[start]), float(v[-1])))
    return out
