"""Where the complexity turns on: ``Sigma = 0`` along one parameter.

Form: the smallest value ``p`` of parameter ``name`` in ``[lo, hi]`` above
which the best saddle has ``Sigma > 0``. Found by a scan from ``hi`` down
with continuation (each solve starts from the saddles of the previous value),
then bisection on "a saddle with ``Sigma > 0`` exists" between the last
positive and the first non-positive value. This covers both onsets: a
discontinuous one, where the saddle branch continues with ``Sigma < 0`` below
the onset (``q*`` stays finite), and a continuous one, where the branch ends
at the onset with ``q* -> 0`` and ``Sigma -> 0`` (the rate network at g = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import _checks
from ...errors import GatefieldError
from ...theory.spec import Cell
from .saddles import Complexity, ComplexitySolution, Saddles

__all__ = ["Onset", "onset", "complexity_sweep"]


@dataclass(frozen=True)
class Onset:
    """The onset of ``Sigma > 0`` along one parameter.

    Attributes
    ----------
    name : str
    value : float
        The onset (nan when ``Sigma > 0`` nowhere or everywhere in the range).
    bracket : tuple of float
        The final bisection interval.
    order_parameters : dict
        ``q*`` of the saddle at the positive end of the bracket: finite for
        a discontinuous onset, small for a continuous one.
    scan : tuple of (value, sigma)
        The scan, ``sigma`` nan where no saddle was found.
    """

    name: str
    value: float
    bracket: tuple
    order_parameters: dict
    scan: tuple

    def to_json(self) -> dict:
        return {
            "parameter": self.name,
            "onset": self.value,
            "bracket": list(self.bracket),
            "order_parameters": self.order_parameters,
            "scan": [list(p) for p in self.scan],
        }


def _solve(cell, parameters, starts, solver: Saddles) -> ComplexitySolution:
    from ..solve import solve

    if starts:
        quick = Saddles(solver.quadrature, grid=(), starts=tuple(starts), mean_field=False, tol=solver.tol)
        result = solve(Complexity(cell, parameters), quick, throw=False)
        if result.saddles:
            return result
    return solve(Complexity(cell, parameters), solver, throw=False)


def _best(result: ComplexitySolution) -> float:
    return result.saddles[0].sigma if result.saddles else float("nan")


def complexity_sweep(
    cell: Cell, name: str, values, parameters: dict | None = None, solver: Saddles | None = None, progress=None
) -> list:
    """Solve the complexity along ``values`` of ``name`` with continuation."""
    solver = solver or Saddles()
    out, starts = [], ()
    for k, value in enumerate(values):
        params = {**(parameters or {}), name: float(value)}
        result = _solve(cell, params, starts, solver)
        out.append(result)
        starts = result.packed or starts
        if progress is not None:
            progress(k + 1, len(values))
    return out


def onset(
    cell: Cell,
    name: str,
    lo: float,
    hi: float,
    parameters: dict | None = None,
    points: int = 9,
    tol: float = 1e-4,
    solver: Saddles | None = None,
) -> Onset:
    """The onset of ``Sigma > 0`` in ``[lo, hi]`` (module docstring).

    Raises
    ------
    GatefieldError
        When ``name`` is not a parameter of the cell or ``lo >= hi``.
    """
    if name not in cell.defaults:
        raise GatefieldError(
            f"cell '{cell.name}' has no parameter '{name}'; its parameters: {', '.join(cell.defaults)}"
        )
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise GatefieldError(f"the onset range needs lo < hi, got {lo} and {hi}")
    _checks.count(points, "points", 2)
    solver = solver or Saddles()
    grid = np.linspace(hi, lo, points)
    results = complexity_sweep(cell, name, grid, parameters, solver)
    sigmas = [_best(r) for r in results]
    scan = tuple((float(v), float(s)) for v, s in zip(grid, sigmas))
    positive = [bool(s > 0) for s in sigmas]
    k = next((j for j in range(1, points) if positive[j - 1] and not positive[j]), None)
    if k is None:
        return Onset(name, float("nan"), (lo, hi), {}, scan)
    upper, lower = float(grid[k - 1]), float(grid[k])
    starts = results[k - 1].packed
    best = results[k - 1]
    while upper - lower > tol:
        mid = 0.5 * (upper + lower)
        result = _solve(cell, {**(parameters or {}), name: mid}, starts, solver)
        if _best(result) > 0:
            upper, starts, best = mid, result.packed, result
        else:
            lower = mid
    q = best.saddles[0].order_parameters if best.saddles else {}
    return Onset(name, 0.5 * (upper + lower), (lower, upper), q, scan)
