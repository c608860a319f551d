"""Gaussian expectations by quadrature (THEORY.md section 7).

``E[f(eta)]`` with ``eta ~ N(0, q)`` is written in the standard variable
``x = eta / sqrt(q)``. Plain Gauss-Hermite converges slowly once a gate or a
``tanh`` switches over a short stretch of ``x`` (its poles come close to the
real axis): at gain 1 a 32-node rule is off by 3e-6 for ``E[tanh^2]``, and
at gain 50 no number of nodes helps. We therefore use composite
Gauss-Legendre on ``[-L, L]`` times the Gaussian density, with panels graded
geometrically towards every point where a function of the integrand switches
(``slope * eta + offset = 0``), the classic remedy for near-singularities.

Multi-dimensional expectations are tensor products over the nodes an
integrand actually depends on; separable factors are integrated separately
(:mod:`gatefield.numerics.codegen` groups them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["Rule", "standard_rule", "node_rule", "tensor_rule", "sample_rule"]

#: Half-width of the integration range in standard units; the Gaussian mass
#: beyond it is 1.2e-15 (at 7 it was 2.6e-12, which showed in q at ~3e-12
#: while the order-raising error estimate could not see it).
L = 8.0
#: Base panel width in standard units. With 8 Legendre nodes per panel and
#: switches graded by factors of 3, the worst relative error over
#: tanh^2 / sigmoid^2 / polynomial-times-gate integrands with gains 0.3-500
#: was 2.5e-10 against scipy.integrate.quad (4 nodes: 2.5e-5, used to
#: bracket roots cheaply). A switch along a curve that no single node's
#: feature describes converges more slowly: for an LSTM with forget bias 3,
#: tanh(i g / (1 - f)) leaves M(lam) accurate to 2e-5 at order 8 and 8e-9 at
#: order 16 (benchmarks/README.md); pass a higher ``order`` there.
BASE_PANEL = 1.75
#: Growth factor of the graded panels around a switch.
GRADING = 3.0
#: Default Gauss-Legendre nodes per panel.
ORDER = 8
#: A switching point steeper than this (|slope| * sqrt(q), per standard unit)
#: gets graded panels; a gentler one is resolved by the base panels.
STEEP = 0.5


@dataclass(frozen=True)
class Rule:
    """Nodes ``eta`` and weights ``w`` with ``sum(w * f(eta)) ~ E[f(eta)]``."""

    points: np.ndarray
    weights: np.ndarray


@cache
def _legendre(n: int):
    return np.polynomial.legendre.leggauss(n)


def _panels(breaks, n):
    x, w = _legendre(n)
    a, b = breaks[:-1, None], breaks[1:, None]
    points = 0.5 * (b - a) * x + 0.5 * (a + b)
    weights = 0.5 * (b - a) * w
    return points.ravel(), weights.ravel()


def standard_rule(switches=(), order: int = ORDER) -> Rule:
    """A rule for ``E[f(x)]``, ``x ~ N(0, 1)``.

    Parameters
    ----------
    switches : sequence of (center, width)
        Points in standard units where the integrand switches, and the
        length scale of the switch (1 / steepness).
    order : int
        Gauss-Legendre nodes per panel.
    """
    breaks = [np.linspace(-L, L, int(round(2 * L / BASE_PANEL)) + 1)]
    for center, width in switches:
        if not (np.isfinite(center) and np.isfinite(width)) or abs(center) > L + 10 * width:
            continue
        # Panels growing geometrically away from the switch: each panel's
        # length is comparable to its distance from the nearby poles.
        offsets = width * GRADING ** np.arange(-1, 40)
        offsets = offsets[offsets < 2 * L]
        breaks.append(center + np.concatenate([-offsets, [0.0], offsets]))
    b = np.unique(np.clip(np.concatenate(breaks), -L, L))
    b = b[np.concatenate([[True], np.diff(b) > 1e-12])]
    x, w = _panels(b, order)
    w = w * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    keep = w > 1e-300
    return Rule(x[keep], w[keep] / w[keep].sum())


def node_rule(q: float, features=(), values=None, order: int = ORDER) -> Rule:
    """A rule for ``E[f(eta)]``, ``eta ~ N(0, q)``.

    Parameters
    ----------
    q : float
        The variance. ``q = 0`` gives the single point ``eta = 0``.
    features : sequence of GeneratedFunction
        Each returns ``(slope, offset)`` of an argument ``slope*eta + offset``
        at which the integrand switches (see ``CompiledCell.features``).
    values : mapping
        Parameter values by name, for the features.
    """
    if q <= 0.0:
        return Rule(np.zeros(1), np.ones(1))
    sd = np.sqrt(q)
    switches = []
    for feature in features:
        slope, offset = (float(v) for v in feature(values))
        steep = abs(slope) * sd
        if steep > STEEP:
            switches.append((-offset / (slope * sd), 1.0 / steep))
    rule = standard_rule(tuple(sorted(switches)), order)
    return Rule(sd * rule.points, rule.weights)


def tensor_rule(rules) -> tuple:
    """Tensor product of 1-D rules: (list of point arrays, weights), flattened."""
    if not rules:
        return [], np.ones(1)
    grids = np.meshgrid(*[r.points for r in rules], indexing="ij")
    weights = np.ones(1)
    for r in rules:
        weights = np.multiply.outer(weights, r.weights)
    return [g.ravel() for g in grids], weights.reshape(-1)


def sample_rule(q: float, n: int, rng: np.random.Generator) -> Rule:
    """Monte Carlo: ``n`` samples of ``N(0, q)`` with equal weights. The
    independent route the tests hold quadrature against."""
    return Rule(np.sqrt(max(q, 0.0)) * rng.standard_normal(n), np.full(n, 1.0 / n))
