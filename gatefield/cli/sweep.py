"""``gatefield sweep``: mean-field and spectral quantities over one or two parameters."""

from __future__ import annotations

import numpy as np

from ..errors import GatefieldError
from ._common import (
    MAX_SWEEP_POINTS,
    Progress,
    cell_arg,
    emit_json,
    json_arg,
    overrides,
    positive_float,
    say,
    set_arg,
    vary_arg,
)


def add(sub, command):
    from ..numerics.sweep import QUANTITIES

    p = command(sub, "sweep", "sweep spectral and mean-field quantities over one or two parameters", run)
    cell_arg(p)
    set_arg(p)
    vary_arg(p, "a parameter and its grid (once or twice)")
    p.add_argument(
        "--quantity",
        action="append",
        choices=list(QUANTITIES),
        help="what to report (repeatable; default bulk_radius)",
    )
    p.add_argument(
        "--solution",
        dest="solution_choice",
        choices=["auto", "last"],
        default="auto",
        help="auto: the stable solution of largest q if any, else the largest; last: the largest",
    )
    p.add_argument(
        "--delta",
        type=positive_float,
        default=0.05,
        help="radius about the slow point for slow_fraction (default 0.05)",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure")


def _grid(name, start, stop, num) -> np.ndarray:
    try:
        if int(num) > MAX_SWEEP_POINTS:
            raise GatefieldError(
                f"--vary {name}: NUM {num} is more than the {MAX_SWEEP_POINTS} points a sweep solves "
                "(one mean-field solve each); use fewer points"
            )
        values = np.linspace(float(start), float(stop), int(num))
    except ValueError:
        raise GatefieldError(
            f"--vary {name}: START and STOP must be numbers and NUM an integer, got {start} {stop} {num}"
        ) from None
    if int(num) < 1 or not np.all(np.isfinite(values)):
        raise GatefieldError(f"--vary {name}: need NUM >= 1 and finite START and STOP")
    return values


def run(args):
    from ..cells import load_cell
    from ..numerics.sweep import sweep

    cell = load_cell(args.cell)
    vary = {}
    for name, start, stop, num in args.vary:
        if name in vary:
            raise GatefieldError(f"--vary {name} is given twice")
        vary[name] = _grid(name, start, stop, num)
    if int(np.prod([len(v) for v in vary.values()])) > MAX_SWEEP_POINTS:
        raise GatefieldError(
            f"the sweep grid has more than {MAX_SWEEP_POINTS} points (one mean-field solve each); use fewer points"
        )
    if args.plot:
        from ..plot._common import check_path

        check_path(args.plot)
    result = sweep(
        cell,
        vary,
        args.quantity or ["bulk_radius"],
        overrides(args.set),
        choice=args.solution_choice,
        progress=Progress("sweep"),
        delta=args.delta,
    )
    if args.plot:
        from ..plot import plot_sweep

        plot_sweep(args.plot, result)
        say(f"wrote {args.plot}")
    if args.json:
        emit_json(result.to_json())
        return
    header = list(result.names) + list(result.values)
    print("  ".join(f"{h:>15s}" for h in header))
    for index in np.ndindex(*[len(a) for a in result.axes]):
        coords = [result.axes[k][i] for k, i in enumerate(index)]
        row = coords + [result.values[q][index] for q in result.values]
        print("  ".join(f"{v:15.6g}" for v in row))
