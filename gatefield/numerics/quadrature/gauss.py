"""Gauss rules that put few points where the Gaussian mass is.

For the full-pencil site distributions (:mod:`gatefield.numerics.spectrum`)
every node gets a rule of a few points (a tensor grid of 4 nodes has
``points^4`` sites), so graded panels are too expensive there. These rules
are Gauss-Hermite, or Gauss rules of the normal restricted to the segments
between the switch points of a steep gate (a function that switches steeply
at a cut is smooth on either side), or equal-weight quantile rules for
indicator-like integrands (``docs/theory/5-cavity.md#site-rules``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from ...errors import GatefieldError
from ._rule import Rule

__all__ = ["split_hermite_rule", "quantile_rule", "RANGE", "MAX_POINTS"]

#: Most points per segment of a split rule: the Stieltjes procedure on
#: ``FINE`` points stays accurate up to here.
MAX_POINTS = 64
#: Half-width, in standard deviations, of the range split rules cover: the
#: Gaussian mass beyond 8.5 is 2e-17.
RANGE = 8.5
#: Gauss-Legendre points per segment of the fine discretization from which
#: split rules are built (the Stieltjes procedure reproduces Gauss-Hermite
#: from it to 1e-12 without switches).
FINE = 400


def _gauss_from_discrete(x, w, p):
    """Gauss rule with ``p`` points for the discrete measure ``(x, w)``, by the
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


def split_hermite_rule(q: float, switches=(), points: int = 16) -> Rule:
    """A rule for ``E[f(eta)]``, ``eta ~ N(0, q)``: a Gauss rule with
    ``points`` points on each segment between the switch points.

    Parameters
    ----------
    q : float
        Variance (0 gives the single point 0).
    switches : sequence of float
        Cut points in standard units. Empty gives plain Gauss-Hermite.
    points : int
        Points per segment, at most ``MAX_POINTS`` when split.

    Notes
    -----
    Without cuts this is the probabilists' Gauss-Hermite rule. With cuts,
    each segment ``(c_j, c_(j+1))`` of the standard normal (truncated at
    ``RANGE`` standard deviations) gets the Gauss rule of the normal
    restricted to it, computed by the discretized Stieltjes procedure on
    ``FINE`` Gauss-Legendre points; its points cluster towards the segment's
    ends.
    """
    if points < 1:
        raise GatefieldError(f"points must be a positive integer, got {points}")
    if q <= 0:
        return Rule(np.zeros(1), np.ones(1))
    sd = np.sqrt(q)
    if len(switches) == 0:
        x, w = np.polynomial.hermite_e.hermegauss(points)
        return Rule(sd * x, w / w.sum())
    if points > MAX_POINTS:
        raise GatefieldError(f"a split rule has at most {MAX_POINTS} points per segment, got {points}")
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
    return Rule(sd * np.concatenate(nodes), w / w.sum())


def quantile_rule(q: float, points: int) -> Rule:
    """``points`` equal-weight points at the midpoint quantiles of N(0, q).

    For indicator-like integrands (a count whose region boundary crosses the
    real whisker of the sites' own eigenvalues) its error is at most half a
    point's weight, ``1 / (2 points)``, where a Gauss rule's is a whole
    point's weight (several percent); smooth integrands converge like
    ``points^-2``.
    """
    k = np.arange(points)
    return Rule(np.sqrt(q) * ndtri((k + 0.5) / points), np.full(points, 1.0 / points))
