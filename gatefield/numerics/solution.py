"""What every solve returns: a :class:`Status`, :class:`Estimate` values and a :class:`Solution`.

Every solver of :mod:`gatefield.numerics.solvers` returns a subclass of
:class:`Solution` (its fields first, then the solver's own). ``status`` says
whether the solve succeeded; a status that is not :attr:`Status.SUCCESS`
carries a one-line fix, and :func:`gatefield.solve` raises it as a
:class:`~gatefield.errors.SolverError` unless called with ``throw=False``.
Numbers that come with a sampling error are :class:`Estimate` values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Status", "Estimate", "Solution"]


class Status(str, enum.Enum):
    """How a solve ended. The value is the word printed and written to JSON."""

    SUCCESS = "converged"
    MAX_ITERATIONS = "max iterations"
    NO_SOLUTION = "no solution"
    NOT_STATIONARY = "drifting"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def ok(self) -> bool:
        return self is Status.SUCCESS

    @property
    def fix(self) -> str:
        """A one-line fix for this outcome (empty for success)."""
        return _FIXES[self]


_FIXES = {
    Status.SUCCESS: "",
    Status.MAX_ITERATIONS: "raise the iteration limit (or the samples) or loosen the tolerance",
    Status.NO_SOLUTION: "widen the search range (q_max) or check the cell's gains",
    Status.NOT_STATIONARY: "run longer: more burn-in, steps or iterations",
}


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error (scalars, or arrays of one shape).

    ``stderr`` is 0 for a deterministic result and nan where it is unknown.
    """

    mean: float | np.ndarray
    stderr: float | np.ndarray = 0.0

    def __post_init__(self):
        if np.ndim(self.mean) == 0:
            object.__setattr__(self, "mean", float(self.mean))
            object.__setattr__(self, "stderr", float(self.stderr))

    def __float__(self) -> float:
        return float(self.mean)

    def __format__(self, spec: str) -> str:
        if np.ndim(self.mean):
            return repr(self)
        error = format(self.stderr, ".2g")
        return f"{format(self.mean, spec or '.6g')} +- {error}"


@dataclass(frozen=True, kw_only=True)
class Solution:
    """The result of a solve: the fields every solver reports.

    Attributes
    ----------
    status : Status
    iterations : int
        Iterations (or evaluations of the solved map) spent.
    residual : float
        The last change or residual, in the solver's own measure (its
        docstring says which); nan where it has none.
    settings : dict
        The solver's options as used, for reproducibility.
    message : str
        The solver's own sentence on an unsuccessful outcome (what went wrong
        and what to change); empty on success.
    """

    status: Status
    iterations: int
    residual: float
    settings: dict = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status.ok
