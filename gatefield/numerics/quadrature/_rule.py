"""The one rule type, and the options of the graded rules."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ... import _checks
from ...errors import GatefieldError

__all__ = ["Rule", "Quadrature", "tensor"]


@dataclass(frozen=True, eq=False)
class Rule:
    """Points and weights with ``sum(weights * f(points)) ~ E[f]``.

    Attributes
    ----------
    points : array
        ``(n,)`` for a rule in one variable; ``(d, n)`` for a tensor rule in
        ``d`` variables (row ``j`` holds the points of variable ``j``).
    weights : (n,) array
        Non-negative, summing to 1.
    """

    points: np.ndarray
    weights: np.ndarray

    def scaled(self, sd: float, mean: float = 0.0) -> Rule:
        """The rule of ``mean + sd * x`` (a standard rule turned into one for
        ``N(mean, sd^2)``)."""
        return Rule(mean + sd * self.points, self.weights)

    def expect(self, values) -> float:
        """``sum(weights * values)``, values broadcast to the points."""
        return float(np.broadcast_to(values, self.weights.shape) @ self.weights)


def tensor(rules) -> Rule:
    """The tensor product of one-variable rules: points ``(d, n)``, flattened
    in C order (the last rule varies fastest). No rules give the one point of
    a zero-dimensional integral."""
    rules = list(rules)
    if not rules:
        return Rule(np.zeros((0, 1)), np.ones(1))
    grids = np.meshgrid(*[r.points for r in rules], indexing="ij")
    weights = np.ones(1)
    for r in rules:
        weights = np.multiply.outer(weights, r.weights)
    return Rule(np.stack([g.ravel() for g in grids]), weights.reshape(-1))


@dataclass(frozen=True)
class Quadrature:
    """Options of the graded Gauss-Legendre rules (:func:`node_rule`).

    Attributes
    ----------
    order : int
        Gauss-Legendre points per panel. With 8, the worst relative error
        over ``tanh^2`` / ``sigmoid^2`` / polynomial-times-gate integrands
        with gains 0.3-500 is 2.5e-10 against ``scipy.integrate.quad``; 4
        gives 2.5e-5 and is used only to bracket roots. A switch along a curve
        that no single node's feature describes converges more slowly (an
        LSTM's ``tanh(i g / (1 - f))``): raise the order there.
    half_width : float
        Integration range ``[-half_width, half_width]`` in standard units;
        the Gaussian mass beyond 8 is 1.2e-15.
    panel : float
        Base panel width in standard units.
    grading : float
        Growth factor of the panels graded around a switch point.
    steep : float
        A switch steeper than this (``|slope| * sd`` per standard unit) gets
        graded panels; a gentler one is resolved by the base panels.
    """

    order: int = 8
    half_width: float = 8.0
    panel: float = 1.75
    grading: float = 3.0
    steep: float = 0.5

    def __post_init__(self):
        _checks.count(self.order, "the quadrature order", 1, 64)
        for name in ("half_width", "panel", "steep"):
            _checks.positive(getattr(self, name), f"the quadrature's {name}")
        if not _checks.positive(self.grading, "the quadrature's grading") > 1:
            raise GatefieldError(f"the quadrature's grading must exceed 1, got {self.grading}")

    def with_order(self, order: int) -> Quadrature:
        return replace(self, order=order)


#: The default options.
DEFAULT = Quadrature()
