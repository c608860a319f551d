"""Sweeps of mean-field and spectral quantities over one or two parameters.

Each grid point solves the mean-field equations, seeded with the roots of its
neighbour (continuation along the first parameter, and along the second from
the row before), picks one root and computes the spectral quantities of its
site distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import GatefieldError
from ..theory.spec import Cell
from .problems import MeanField
from .solve import solve
from .solvers.roots import AllRoots, starts_from
from .spectrum import edge_gap, from_fixed_point, site_atoms, slow_mode_fraction, slow_mode_rule, slow_point
from .spectrum.atoms import step_gate_atoms

__all__ = ["QUANTITIES", "Sweep", "sweep"]

#: Quantities a sweep can report, with what each means.
QUANTITIES = {
    "spectral_radius": "sup |lambda| on the support at N = infinity (bulk and whiskers)",
    "rightmost_real": "sup Re lambda on the support at N = infinity (bulk and whiskers)",
    "bulk_radius": "max |lambda| on the support's bulk",
    "bulk_rightmost": "max Re lambda on the support's bulk",
    "whisker_mass": "share of eigenvalues on the whiskers (units' own eigenvalues outside the bulk)",
    "stable": "1 if the chosen fixed point is stable, else 0",
    "q_total": "sum of the order parameters of the chosen solution",
    "solutions": "number of mean-field solutions found",
    "unit_radius": "largest |own eigenvalue| a unit attains outside the bulk (nan: none)",
    "edge_gap": "distance from the support's edge to the slow point (1 - radius, or -rightmost; 0: marginal)",
    "slow_fraction": "share of eigenvalues within delta of the slow point (contour count, atoms included)",
    "atom_weight": "share of eigenvalues in atoms of the site distribution (exactly shut gates)",
    "limit_atom_weight": "share of eigenvalues frozen at the slow point when every gate is a step",
}


@dataclass(frozen=True)
class Sweep:
    """Quantities on a grid of one or two parameters.

    Attributes
    ----------
    names : tuple of str
        The varied parameters (one or two).
    axes : tuple of arrays
        Their values.
    values : dict
        Quantity name -> array of shape ``tuple(len(a) for a in axes)``;
        ``nan`` where no solution was found.
    choice : str
        Which solution each point reports.
    """

    cell: str
    names: tuple
    axes: tuple
    values: dict
    choice: str

    def to_json(self) -> dict:
        def clean(a):
            return [None if not np.isfinite(v) else float(v) for v in np.ravel(a)]

        return {
            "cell": self.cell,
            "parameters": list(self.names),
            "axes": [list(map(float, a)) for a in self.axes],
            "solution": self.choice,
            "shape": [len(a) for a in self.axes],
            "values": {k: clean(v) for k, v in self.values.items()},
        }


def _pick(result, choice):
    """The site distribution a sweep reports: the stable root of largest q,
    else the root of largest q ("auto"), or always the largest ("last")."""
    n = len(result.roots)
    if n == 0:
        return None
    if choice == "auto":
        for k in range(n - 1, -1, -1):
            sites = from_fixed_point(result, solution=k)
            if sites.support.stable:
                return sites
    return from_fixed_point(result, solution=n - 1)


def sweep(
    cell: Cell,
    vary: dict,
    quantities=("bulk_radius",),
    parameters: dict | None = None,
    choice: str = "auto",
    progress=None,
    q_max: float = 50.0,
    delta: float = 0.05,
) -> Sweep:
    """Sweep ``quantities`` over a grid of one or two parameters.

    Parameters
    ----------
    vary : dict
        Parameter name -> 1-D array of values (one or two entries, in order:
        the first varies fastest along a row).
    quantities : sequence of str
        Names from :data:`QUANTITIES`.
    choice : {"auto", "last"}
        Which solution to report at each point.
    progress : callable(done, total), optional
    delta : float
        Radius about the slow point for "slow_fraction".
    """
    if not isinstance(cell, Cell):
        raise GatefieldError(f"sweep needs a Cell, got {type(cell).__name__}")
    unknown = [q for q in quantities if q not in QUANTITIES]
    if unknown:
        raise GatefieldError(f"unknown quantity '{unknown[0]}'; choose from {', '.join(QUANTITIES)}")
    if not 1 <= len(vary) <= 2:
        raise GatefieldError(f"a sweep varies one or two parameters, got {len(vary)}")
    if not (np.isfinite(delta) and delta > 0):
        raise GatefieldError(f"delta must be a positive number, got {delta}")
    if choice not in ("auto", "last"):
        raise GatefieldError(f"choice must be 'auto' or 'last', got {choice!r}")
    names = tuple(vary)
    axes = tuple(np.asarray(vary[n], dtype=float) for n in names)
    base = dict(parameters or {})
    cell.resolve({**base, **{n: float(a[0]) for n, a in zip(names, axes)}})  # names checked here
    solver = AllRoots(q_max=q_max)
    shape = tuple(len(a) for a in axes)
    out = {q: np.full(shape, np.nan) for q in quantities}
    total, done = int(np.prod(shape)), 0
    rows = axes[1] if len(axes) == 2 else [None]
    row_starts: tuple = ()
    for j, second in enumerate(rows):
        starts = row_starts
        for i, first in enumerate(axes[0]):
            params = {**base, names[0]: float(first)}
            if second is not None:
                params[names[1]] = float(second)
            result = solve(MeanField(cell, params), replace(solver, starts=starts), throw=False)
            starts = starts_from(result)
            if i == 0:
                row_starts = starts
            index = (i, j) if second is not None else (i,)
            chosen = _pick(result, choice)
            if chosen is not None:
                record = _record(chosen, result, delta)
                for q in quantities:
                    out[q][index] = record[q]()
            elif "solutions" in quantities:
                out["solutions"][index] = 0.0
            done += 1
            if progress is not None:
                progress(done, total)
    return Sweep(cell.name, names, axes, out, choice)


def _record(sites, result, delta) -> dict:
    """Each quantity as a function, so that only the ones asked for are computed."""
    support = sites.support
    slow = slow_point(sites.time)

    def limit_atom_weight():
        return sum(a.weight for a in step_gate_atoms(sites) if abs(a.location - slow) < 1e-9)

    return {
        "spectral_radius": lambda: support.spectral_radius,
        "rightmost_real": lambda: support.rightmost_real,
        "bulk_radius": lambda: support.bulk_radius,
        "bulk_rightmost": lambda: support.bulk_rightmost,
        "whisker_mass": lambda: float(sum(w.mass for w in support.whiskers)),
        "stable": lambda: float(support.stable),
        "q_total": lambda: float(sum(sites.order_parameters.values())),
        "solutions": lambda: float(len(result.roots)),
        "unit_radius": lambda: support.unit_radius if np.isfinite(support.unit_radius) else float("nan"),
        "edge_gap": lambda: edge_gap(support),
        "slow_fraction": lambda: float(slow_mode_fraction(sites, [delta])[0]),
        "atom_weight": lambda: float(sum(a.weight for a in site_atoms(slow_mode_rule(sites)))),
        "limit_atom_weight": limit_atom_weight,
    }
