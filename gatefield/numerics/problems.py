"""What to solve: the equations of the theory as frozen problem objects.

Each problem states its mathematical form, checks at construction that it
can be posed for the cell (raising :class:`~gatefield.errors.UnsupportedCellError`
with what to do instead), and names its default solver; how it is solved is
a solver object of :mod:`gatefield.numerics.solvers`, and
:func:`gatefield.solve` ties the two together::

    import gatefield as gf
    cell = gf.load_cell("gru")
    mf = gf.solve(gf.problems.MeanField(cell, {"g_h": 1.6}))
    dmft = gf.solve(gf.problems.DMFT(cell, {"g_h": 3.0}), gf.solvers.PathSampling(samples=4000))

The problems and their forms (``docs/theory/``):

- :class:`MeanField`: ``q_a = Phi_a(q)``, the fixed-point mean field;
- :class:`DMFT`: ``C_a(tau) = E[v_a(t) v_a(t + tau)]`` of the single-unit
  process driven by Gaussian fields of covariance ``C_a``;
- :class:`GaussianClosureDMFT`: the same for cells whose unit closes on one
  Gaussian variable, ``S_Delta = G^2 K(omega) S_w``;
- :class:`TangentDMFT`: ``rho(mu) = 1`` for the tilted tangent covariance of
  the linearized two-replica process: the maximal Lyapunov exponent;
- :class:`Annealed`: ``q(t + 1) = Q[q(t)]`` with weights redrawn at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import GatefieldError, UnsupportedCellError
from ..theory.closure import Closure
from ..theory.spec import Cell

if TYPE_CHECKING:
    from .solvers.sampling import DMFTSolution

__all__ = ["Problem", "MeanField", "DMFT", "GaussianClosureDMFT", "TangentDMFT", "Annealed"]


def _cell(cell) -> Cell:
    if not isinstance(cell, Cell):
        raise GatefieldError(f"a problem needs a Cell (gatefield.load_cell(name or file)), got {type(cell).__name__}")
    return cell


@dataclass(frozen=True, eq=False)
class Problem:
    """A cell and its parameter values: the base of every problem.

    Attributes
    ----------
    cell : Cell
    parameters : dict or None
        Overrides of the cell's defaults, as given.
    values : dict
        Every parameter value by name (the defaults with the overrides).
    """

    cell: Cell
    parameters: dict | None = None
    values: dict = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "values", _cell(self.cell).resolve(self.parameters))

    def default_solver(self):
        raise NotImplementedError

    def describe(self) -> str:
        return f"{type(self).__name__} of cell '{self.cell.name}'"


@dataclass(frozen=True, eq=False)
class MeanField(Problem):
    """The fixed-point mean-field equations.

    Form: ``q_a = Phi_a(q) = E[v_a(s*(eta), eta)^2]``, ``eta_b ~ N(0, q_b)``
    independent, one equation per coupling; order parameters with identical
    integrands are one unknown. Solved for every root in a range by
    :class:`~gatefield.numerics.solvers.AllRoots` (``docs/theory/2-mean-field.md``).

    Raises
    ------
    UnsupportedCellError
        If the cell's quadrature is past what the fixed-point route finishes
        (:mod:`gatefield.numerics.limits`): a mean-field integral over more
        than three nodes at once, too many unknowns, or a support over too
        many nodes.
    """

    def __post_init__(self):
        super().__post_init__()
        from .codegen import compile_cell
        from .limits import check_fixed_point_route

        check_fixed_point_route(compile_cell(self.cell))

    def default_solver(self):
        from .solvers.roots import AllRoots

        return AllRoots()


@dataclass(frozen=True, eq=False)
class DMFT(Problem):
    """The stationary dynamical mean-field theory of a time-dependent state.

    Form: the single-unit process ``s_{t+1} = F(s_t, eta_t)`` (or ``ds/dt =
    F(s, eta(t))``) driven by zero-mean Gaussian fields ``eta_a``,
    independent across ``a``, with ``C_a(tau) = E[v_a(t) v_a(t + tau)]``
    self-consistent. Any cell; solved by sampling paths,
    :class:`~gatefield.numerics.solvers.PathSampling`
    (``docs/theory/6-dmft.md#sampling``).
    """

    def default_solver(self):
        from .solvers.sampling import PathSampling

        return PathSampling()


@dataclass(frozen=True, eq=False)
class GaussianClosureDMFT(Problem):
    """The DMFT of a cell whose unit closes on one Gaussian variable.

    Form A (rate networks, the state Gaussian): ``ds/dt = -k s + c eta + b``
    or ``s' = a s + c eta + b`` with ``eta = J @ w(s)``. Form B (constant
    gates, the field Gaussian): ``ds/dt = -k s + W(eta)`` or ``s' = a s +
    W(eta)`` with ``eta = J @ (sigma s)``. Either closes on
    ``S_Delta(omega) = G^2 K(omega) S_w(omega)`` for the Gaussian variable's
    covariance ``Delta`` (``docs/theory/6-dmft.md#gaussian-closure``).
    Solved by :class:`~gatefield.numerics.solvers.FourierIteration`.

    Raises
    ------
    UnsupportedCellError
        At construction, when the cell has neither form at these parameters
        (use :class:`DMFT`, which handles any cell).

    Attributes
    ----------
    closure : GaussianClosure
        The recognised form (:func:`gatefield.theory.closure.gaussian_closure`).
    """

    closure: Closure = field(init=False, repr=False)

    def __post_init__(self):
        super().__post_init__()
        from ..theory.closure import gaussian_closure

        if self.cell.time not in ("discrete", "continuous"):  # pragma: no cover - guarded by the spec
            raise UnsupportedCellError(f"unknown time {self.cell.time!r}")
        object.__setattr__(self, "closure", gaussian_closure(self.cell, self.values))

    def default_solver(self):
        from .solvers.fourier import FourierIteration

        return FourierIteration()


@dataclass(frozen=True, eq=False)
class TangentDMFT(Problem):
    """The maximal Lyapunov exponent of a DMFT state.

    Form: the linearized two-replica process, the DMFT unit with a tangent
    ``d s`` driven by an independent Gaussian field of covariance
    ``K_a(t, t') = E[dv_a(t) dv_a(t')]``; tilting by ``exp(-mu t)`` makes it
    a stationary linear eigenproblem ``k = L_mu[k]``, and the exponent is the
    ``mu`` at which its leading eigenvalue ``rho(mu)`` is 1
    (``docs/theory/7-lyapunov.md#two-replica``). Solved by
    :class:`~gatefield.numerics.solvers.TangentSampling`.

    Attributes
    ----------
    state : DMFTSolution or None
        The DMFT state to linearize about (its parameters are the problem's
        when ``parameters`` is left out); None: solved by the solver first.
    """

    state: DMFTSolution | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.state is not None and self.parameters is None:
            # No overrides given: the state's parameters are the problem's.
            object.__setattr__(self, "values", dict(self.state.parameters))
        if self.state is not None:
            from .solvers.sampling import DMFTSolution

            if not isinstance(self.state, DMFTSolution):
                raise GatefieldError(
                    f"state must be a sampling DMFT solution (solve(DMFT(...))), got {type(self.state).__name__}"
                )
            if self.state.problem.cell.name != self.cell.name:
                raise GatefieldError(
                    f"the DMFT state is of cell '{self.state.problem.cell.name}', not '{self.cell.name}'"
                )
            if self.state.parameters != self.values:
                raise GatefieldError(
                    "the parameters differ from those of the given DMFT state; leave them out or solve the DMFT again"
                )

    def default_solver(self):
        from .solvers.tangent import TangentSampling

        return TangentSampling()


@dataclass(frozen=True, eq=False)
class Annealed(Problem):
    """The annealed (untied-weights) mean field of a discrete-time cell.

    Form: weights redrawn at every step, so ``eta_a(t) ~ N(0, q_a(t))``
    fresh and ``q_a(t) = E[v_a(s_t, eta_<a(t))^2]``; the unit is a Markov
    chain coupled to the population through ``q(t)``
    (``docs/theory/6-dmft.md#annealed``). With two replicas the node inputs
    of a pair are jointly Gaussian with covariance ``E[v_a^r v_a^r']``: the
    two-input correlation map. Solved by
    :class:`~gatefield.numerics.solvers.PopulationDynamics`.

    Attributes
    ----------
    replicas : {1, 2}
    initial_correlation : float
        Two replicas: their initial correlation ``c0`` in [-1, 1].
    scale : float
        Initial states iid N(0, scale^2) per component.
    """

    replicas: int = 1
    initial_correlation: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if self.cell.time != "discrete":
            raise UnsupportedCellError(
                f"cell '{self.cell.name}' is continuous-time; weights redrawn at every step need a "
                "discrete-time cell (use DMFT for a continuous-time one)"
            )
        if self.replicas not in (1, 2) or isinstance(self.replicas, bool):
            raise GatefieldError(f"replicas must be 1 or 2, got {self.replicas!r}")
        c0 = float(self.initial_correlation)
        if not -1.0 <= c0 <= 1.0:
            raise GatefieldError(f"the initial correlation must lie in [-1, 1], got {c0}")
        scale = float(self.scale)
        if not scale >= 0 or scale == float("inf"):
            raise GatefieldError(f"the initial-state scale must be finite and non-negative, got {self.scale}")

    def default_solver(self):
        from .solvers.population import PopulationDynamics

        return PopulationDynamics()
