"""Sweeps of mean-field and spectral quantities over one or two parameters.

Each grid point solves the mean-field equations, seeded with the solutions of
its neighbour (continuation along the first parameter, and along the second
from the row before), picks one solution and computes the support of its
Jacobian's spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GatefieldError
from ..theory.spec import Cell
from .codegen import compile_cell
from .meanfield import solve_mean_field
from .spectral import edge_gap, site_atoms, slow_mode_fraction, slow_mode_sites, slow_point, step_gate_atoms

__all__ = ["QUANTITIES", "Sweep", "sweep"]

#: Quantities a sweep can report, with what each means.
QUANTITIES = {
    "spectral_radius": "max |lambda| on the support's bulk",
    "rightmost_real": "max Re lambda on the support's bulk",
    "stable": "1 if the chosen fixed point is stable, else 0",
    "q_total": "sum of the order parameters of the chosen solution",
    "solutions": "number of mean-field solutions found",
    "unit_radius": "reach of the support's whiskers (99.9% quantile of |eig A| per unit)",
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
    """The solution a sweep reports: the stable one of largest q, else the
    one of largest q ("auto"), or always the largest ("last")."""
    if not result.solutions:
        return None
    if choice == "auto":
        stable = [s for s in result.solutions if s.stable]
        if stable:
            return stable[-1]
    return result.solutions[-1]


def sweep(
    cell: Cell,
    vary: dict,
    quantities=("spectral_radius",),
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
    compiled = compile_cell(cell)
    representative = [
        cell.couplings[compiled.integral_of.index(j)].matrix for j in range(len(compiled.integrals))
    ]
    shape = tuple(len(a) for a in axes)
    out = {q: np.full(shape, np.nan) for q in quantities}
    total, done = int(np.prod(shape)), 0
    rows = axes[1] if len(axes) == 2 else [None]
    row_starts: list = []
    for j, second in enumerate(rows):
        starts = list(row_starts)
        for i, first in enumerate(axes[0]):
            params = {**base, names[0]: float(first)}
            if second is not None:
                params[names[1]] = float(second)
            result = solve_mean_field(cell, params, q_max=q_max, starts=starts, raise_on_failure=False)
            starts = [np.array([s.order_parameters[c] for c in representative]) for s in result.solutions]
            if i == 0:
                row_starts = starts
            index = (i, j) if second is not None else (i,)
            chosen = _pick(result, choice)
            if chosen is not None:
                record = _record(cell, compiled, result.parameters, result, chosen, delta)
                for q in quantities:
                    out[q][index] = record[q]()
            elif "solutions" in quantities:
                out["solutions"][index] = 0.0
            done += 1
            if progress is not None:
                progress(done, total)
    return Sweep(cell.name, names, axes, out, choice)


def _record(cell, compiled, values, result, chosen, delta) -> dict:
    """Each quantity as a function, so that only the ones asked for are computed
    (the pencil sites, for the counts, only once)."""
    support = chosen.support
    cache: dict = {}

    def sites():
        if "sites" not in cache:
            cache["sites"] = slow_mode_sites(cell, compiled, values, chosen.node_variances)
        return cache["sites"]

    def limit_atom_weight():
        atoms = step_gate_atoms(cell, values, chosen.node_variances)
        return sum(a.weight for a in atoms if abs(a.location - slow_point(cell.time)) < 1e-9)

    return {
        "spectral_radius": lambda: support.spectral_radius,
        "rightmost_real": lambda: support.rightmost_real,
        "stable": lambda: float(chosen.stable),
        "q_total": lambda: chosen.total,
        "solutions": lambda: float(len(result.solutions)),
        "unit_radius": lambda: support.unit_radius,
        "edge_gap": lambda: edge_gap(support, cell.time),
        "slow_fraction": lambda: float(slow_mode_fraction(sites(), cell.time, [delta])[0]),
        "atom_weight": lambda: float(sum(a.weight for a in site_atoms(sites()))),
        "limit_atom_weight": limit_atom_weight,
    }
