"""Monte Carlo rules: the independent route the tests hold quadrature against."""

from __future__ import annotations

import numpy as np

from ._rule import Rule

__all__ = ["sample_rule"]


def sample_rule(q: float, n: int, rng: np.random.Generator) -> Rule:
    """``n`` samples of ``N(0, q)`` with equal weights."""
    return Rule(np.sqrt(max(q, 0.0)) * rng.standard_normal(n), np.full(n, 1.0 / n))
