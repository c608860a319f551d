"""Dynamical spot checks of a phase diagram's chaos line.

The diagram's chaos region is "no stable fixed point" (a mean-field
statement). At a few grid points the dynamical mean-field theory is solved
from a large start and its maximal Lyapunov exponent computed
(two-replica DMFT): a time-dependent solution with a positive exponent is
chaos. Each check says whether the two verdicts agree.
"""

from __future__ import annotations

import numpy as np

from ... import _checks
from ...errors import GatefieldError
from .diagram import PhaseDiagram

__all__ = ["chaos_checks", "check_points"]

#: Path samples and most iterations of each spot check's DMFT (about 15 s
#: per point for the GRU on one core; the exponent's standard error is
#: about 1e-3 at 500 samples).
DMFT_SAMPLES = 500
DMFT_ITERATIONS = 100


def check_points(diagram: PhaseDiagram, count: int, reach: int = 2) -> list:
    """``count`` grid points, alternately inside and outside the chaos region,
    each ``reach`` cells from the chaos line where the grid allows (where the
    verdict is least obvious), spread along it."""
    count = _checks.count(count, "count", 0)
    region = diagram.maps["region"]
    chaos = region == 3
    n1, n2 = chaos.shape
    near: dict = {True: [], False: []}
    for i in range(n1):
        for j in range(n2):
            lo, hi = max(i - reach, 0), min(i + reach + 1, n1)
            if np.any(chaos[lo:hi, j] != chaos[i, j]) and not np.any(chaos[max(i - 1, 0) : i + 2, j] != chaos[i, j]):
                near[bool(chaos[i, j])].append((i, j))
    for side in (True, False):  # fall back to any point of the region
        if not near[side]:
            near[side] = [(i, j) for i in range(n1) for j in range(n2) if bool(chaos[i, j]) == side]
    out: list = []
    for k in range(count):
        pool = near[k % 2 == 0] or near[k % 2 == 1]
        if not pool:
            break
        share = (k // 2 + 0.5) / max((count + 1) // 2, 1)
        pick = pool[min(int(share * len(pool)), len(pool) - 1)]
        if pick not in out:
            out.append(pick)
    return out


def chaos_checks(
    cell,
    diagram: PhaseDiagram,
    count: int = 2,
    samples: int = DMFT_SAMPLES,
    iterations: int = DMFT_ITERATIONS,
    seed: int = 0,
    progress=None,
) -> list:
    """The DMFT and its Lyapunov exponent at ``count`` points of ``diagram``.

    Returns
    -------
    list of dict
        Per point: the parameters, the diagram's label, the DMFT verdict
        (static or time-dependent), the exponent with its standard error,
        and ``agrees``: (time-dependent and exponent > 0) equals (the label
        is chaos).
    """
    from ..problems import DMFT, TangentDMFT
    from ..solve import solve
    from ..solvers import PathSampling, TangentSampling

    if cell.name != diagram.cell:
        raise GatefieldError(f"the diagram is of cell '{diagram.cell}', not '{cell.name}'")
    out = []
    points = check_points(diagram, count)
    for n, (i, j) in enumerate(points):
        params = diagram.params_at(i, j)
        solver = PathSampling(samples=samples, iterations=iterations, seed=seed, start="large")
        state = solve(DMFT(cell, params), solver, throw=False)
        row = {
            "kind": "dmft",
            diagram.names[0]: params[diagram.names[0]],
            diagram.names[1]: params[diagram.names[1]],
            "label": diagram.label(i, j),
            "dmft_status": state.status.value,
            "static": bool(state.static),
        }
        exponent, stderr = float("nan"), float("nan")
        if not state.static:
            ly = solve(TangentDMFT(cell, params, state=state), TangentSampling(seed=seed), throw=False)
            exponent, stderr = float(ly.exponent.mean), float(ly.exponent.stderr)
        row["lyapunov"] = exponent
        row["lyapunov_stderr"] = stderr
        chaotic = (not state.static) and exponent > 0
        row["chaotic"] = bool(chaotic)
        row["agrees"] = bool(chaotic == (diagram.maps["region"][i, j] == 3))
        if chaotic and not row["agrees"]:
            # the DMFT from a large start finds a chaotic attractor that the
            # fixed-point label cannot see: chaos beside a stable fixed point
            row["note"] = "chaotic DMFT solution beside a stable fixed point (bistable)"
        out.append(row)
        if progress is not None:
            progress(n + 1, len(points))
    return out
