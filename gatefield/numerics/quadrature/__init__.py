"""Gaussian expectations: one :class:`Rule` type and the rules that build it.

- :func:`node_rule` / :func:`standard_rule`: graded composite Gauss-Legendre,
  accurate to about 1e-10 for steep gates (mean field, support moments);
- :func:`split_hermite_rule`, :func:`quantile_rule`: few-point Gauss and
  quantile rules for tensor grids of full-pencil sites;
- :func:`sample_rule`: Monte Carlo, the independent route;
- :func:`tensor`: products over several nodes.

Every rule finds where an integrand switches with one detector
(:mod:`.switches`).
"""

from ._rule import DEFAULT, Quadrature, Rule, tensor
from .gauss import quantile_rule, split_hermite_rule
from .graded import node_rule, standard_rule
from .sampling import sample_rule
from .switches import affine_switches, switch_points

__all__ = [
    "Rule",
    "Quadrature",
    "DEFAULT",
    "tensor",
    "node_rule",
    "standard_rule",
    "split_hermite_rule",
    "quantile_rule",
    "sample_rule",
    "switch_points",
    "affine_switches",
]
