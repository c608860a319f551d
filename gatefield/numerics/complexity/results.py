"""The complexity problem and its results: saddles of the action, the
untilted lower bound, and the solution that holds them
(:mod:`.saddles` finds them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..problems import Problem
from ..solution import Solution

__all__ = ["Complexity", "Saddle", "Typical", "ComplexitySolution"]


@dataclass(frozen=True, eq=False)
class Complexity(Problem):
    """The annealed fixed-point complexity of a cell.

    Form: ``Sigma = lim (1/N) log E[# fixed points] = sup_q inf_qhat
    extr_{a,b} S`` (module docstring), K-dimensional integrals over the
    active nodes. Solved by :class:`Saddles`.

    Raises
    ------
    UnsupportedCellError
        At construction, when the per-unit fixed point has no closed form.
    """

    def __post_init__(self):
        super().__post_init__()
        from ._compiled import compile_kac_rice

        compile_kac_rice(self.cell)  # an unsupported cell fails here, with its reason

    def default_solver(self):
        from .saddles import Saddles  # the solver module imports this one

        return Saddles()


@dataclass(frozen=True)
class Saddle:
    """One stationary point of ``S`` with ``(a, b) != 0``.

    Attributes
    ----------
    sigma : float
        ``S`` there: the exponential growth rate this saddle contributes.
    order_parameters, multipliers : dict
        ``q_g`` and ``qhat_g`` keyed by the coupling of the group's first node.
    a, b : dict
        The Hermitized unknowns by coupling (gauge: ``a_c = b_c`` on one node).
    radius : float
        ``sqrt(rho(M))`` of the support matrix ``M_ab = <T_ab^2>`` under the
        tilted measure: > 1 on a non-trivial saddle.
    residual : float
        Largest scaled residual of the stationarity equations.
    quadrature_error : float
        ``|S|`` change when the rule's order is raised by 4 per panel.
    """

    sigma: float
    order_parameters: dict
    multipliers: dict
    a: dict
    b: dict
    radius: float
    residual: float
    quadrature_error: float

    def to_json(self) -> dict:
        return {
            "sigma": self.sigma,
            "order_parameters": self.order_parameters,
            "multipliers": self.multipliers,
            "a": self.a,
            "b": self.b,
            "radius": self.radius,
            "residual": self.residual,
            "quadrature_error": self.quadrature_error,
        }


@dataclass(frozen=True)
class Typical:
    """The untilted value at one mean-field root: a lower bound on ``Sigma``.

    ``sigma = Phi_eta[N(0, q_MF)] = (E log det(I + diag(a) T^T diag(b) T) - a.b) / 2``
    with the Hermitized ``(a, b)`` of the Gaussian site measure (0 when the
    slow point lies outside the support, ``radius <= 1``).
    """

    sigma: float
    order_parameters: dict
    radius: float

    def to_json(self) -> dict:
        return {"sigma": self.sigma, "order_parameters": self.order_parameters, "radius": self.radius}


@dataclass(frozen=True, kw_only=True)
class ComplexitySolution(Solution):
    """Every saddle found, the complexity and the untilted lower bounds.

    Attributes
    ----------
    problem : Complexity
    parameters : dict
    saddles : tuple of Saddle
        Sorted by decreasing ``sigma``.
    typical : tuple of Typical
        One per non-zero mean-field root, labelled a lower bound.
    zero_fixed_point : bool
        ``eta = 0`` is a fixed point of every network (count >= 1).
    sigma : float
        The annealed complexity: the largest saddle value; with
        ``zero_fixed_point`` at least 0; nan with neither.
    packed : tuple of numpy arrays
        The saddles' unknowns in packed form (:func:`pack`), in the same
        order: starts for a neighbouring parameter value.
    ``residual`` is the largest saddle residual; ``status`` is
    NO_SOLUTION when no saddle was found and no fixed point is certain.
    """

    problem: Complexity = field(repr=False)
    parameters: dict
    saddles: tuple
    typical: tuple
    zero_fixed_point: bool
    sigma: float
    packed: tuple = field(default=(), repr=False)

    @property
    def best(self) -> Saddle | None:
        return self.saddles[0] if self.saddles else None

    @property
    def lower_bound(self) -> float:
        """The largest untilted value (nan without mean-field roots)."""
        return max((t.sigma for t in self.typical), default=float("nan"))

    def to_json(self) -> dict:
        return {
            "cell": self.problem.cell.name,
            "parameters": self.parameters,
            "status": self.status,
            "sigma": self.sigma,
            "zero_fixed_point": self.zero_fixed_point,
            "saddles": [s.to_json() for s in self.saddles],
            "typical_lower_bound": [t.to_json() for t in self.typical],
        }
