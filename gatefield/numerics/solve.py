"""One entry point for every solve: :func:`solve`."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, overload

from ..errors import GatefieldError, SolverError
from .problems import Problem
from .solution import Solution

__all__ = ["solve", "Solver"]

S = TypeVar("S", bound=Solution, covariant=True)


class Solver(Protocol[S]):
    """What a solver is: the problems it solves and a ``run`` returning its solution."""

    problems: tuple

    def run(self, problem: Any) -> S: ...


@overload
def solve(problem: Problem, solver: Solver[S], *, throw: bool = True) -> S: ...
@overload
def solve(problem: Problem, solver: None = None, *, throw: bool = True) -> Any: ...


def solve(problem: Problem, solver: Any = None, *, throw: bool = True) -> Any:
    """Solve ``problem`` with ``solver`` (default: the problem's own).

    Parameters
    ----------
    problem : Problem
        What to solve (:mod:`gatefield.numerics.problems`).
    solver : optional
        How (:mod:`gatefield.numerics.solvers`); its options are its
        constructor's arguments.
    throw : bool
        Raise :class:`~gatefield.errors.SolverError` when the solve does not
        succeed (its message names the fix); otherwise return the solution
        with its :class:`~gatefield.numerics.solution.Status`.

    Returns
    -------
    Solution
        The solver's solution type (a subclass of :class:`Solution`).
    """
    if not isinstance(problem, Problem):
        raise GatefieldError(
            f"solve needs a problem from gatefield.problems (MeanField, DMFT, ...), got {type(problem).__name__}"
        )
    solver = problem.default_solver() if solver is None else solver
    accepted = getattr(solver, "problems", ())
    if not isinstance(problem, accepted):
        names = ", ".join(p.__name__ for p in accepted) or "no"
        raise GatefieldError(
            f"{type(solver).__name__} solves {names} problems, not {type(problem).__name__}; "
            f"leave the solver out to use {type(problem.default_solver()).__name__}"
        )
    solution = solver.run(problem)
    if throw and not solution.status.ok:
        detail = solution.message or f"{problem.describe()} ended with status '{solution.status.value}'"
        raise SolverError(f"{detail}; {solution.status.fix}" if solution.status.fix not in detail else detail)
    return solution
