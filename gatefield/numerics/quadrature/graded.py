"""Graded composite Gauss-Legendre rules for Gaussian expectations.

``E[f(eta)]`` with ``eta ~ N(0, q)`` is written in the standard variable
``x = eta / sqrt(q)``. Plain Gauss-Hermite converges slowly once a gate or a
``tanh`` switches over a short stretch of ``x`` (its poles come close to the
real axis): at gain 1 a 32-point rule is off by 3e-6 for ``E[tanh^2]``, and
at gain 50 no number of points helps. These rules are composite
Gauss-Legendre on ``[-L, L]`` times the Gaussian density, with panels graded
geometrically towards every point where a function of the integrand
switches, the classic remedy for near-singularities
(``docs/theory/8-numerics.md#quadrature``).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ._rule import DEFAULT, Quadrature, Rule
from .switches import switch_points

__all__ = ["standard_rule", "node_rule"]


@cache
def _legendre(n: int):
    return np.polynomial.legendre.leggauss(n)


def _panels(breaks, n):
    x, w = _legendre(n)
    a, b = breaks[:-1, None], breaks[1:, None]
    points = 0.5 * (b - a) * x + 0.5 * (a + b)
    weights = 0.5 * (b - a) * w
    return points.ravel(), weights.ravel()


def standard_rule(switches=(), quadrature: Quadrature = DEFAULT) -> Rule:
    """A rule for ``E[f(x)]``, ``x ~ N(0, 1)``.

    Parameters
    ----------
    switches : sequence of (center, width)
        Points in standard units where the integrand switches, and the
        length scale of each switch (1 / steepness).
    quadrature : Quadrature
        Points per panel, range, panel width and grading.
    """
    L = quadrature.half_width
    breaks = [np.linspace(-L, L, int(round(2 * L / quadrature.panel)) + 1)]
    for center, width in switches:
        if not (np.isfinite(center) and np.isfinite(width)) or abs(center) > L + 10 * width:
            continue
        # Panels growing geometrically away from the switch: each panel's
        # length is comparable to its distance from the nearby poles.
        offsets = width * quadrature.grading ** np.arange(-1, 40)
        offsets = offsets[offsets < 2 * L]
        breaks.append(center + np.concatenate([-offsets, [0.0], offsets]))
    b = np.unique(np.clip(np.concatenate(breaks), -L, L))
    b = b[np.concatenate([[True], np.diff(b) > 1e-12])]
    x, w = _panels(b, quadrature.order)
    w = w * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    keep = w > 1e-300
    return Rule(x[keep], w[keep] / w[keep].sum())


def node_rule(q: float, features=(), values=None, quadrature: Quadrature = DEFAULT) -> Rule:
    """A rule for ``E[f(eta)]``, ``eta ~ N(0, q)``.

    Parameters
    ----------
    q : float
        The variance. ``q = 0`` gives the single point ``eta = 0``.
    features : sequence of GeneratedFunction
        Each returns ``(slope, offset)`` of an argument ``slope*eta + offset``
        at which the integrand switches (``CompiledCell.features``).
    values : mapping
        Parameter values by name, for the features.
    quadrature : Quadrature
    """
    if q <= 0.0:
        return Rule(np.zeros(1), np.ones(1))
    sd = float(np.sqrt(q))
    switches = switch_points(features, values, sd, quadrature.steep)
    return standard_rule(tuple(switches), quadrature).scaled(sd)
