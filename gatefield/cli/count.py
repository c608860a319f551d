"""``gatefield count``: shares of eigenvalues in discs and annuli (contour integrals)."""

from __future__ import annotations

from ..errors import GatefieldError
from ._common import Progress, cell_arg, check_network, emit_json, json_arg, overrides, route_args, seed_count, set_arg


def add(sub, command):
    p = command(sub, "count", "predict the share of eigenvalues in discs and annuli (contour integral)", run)
    cell_arg(p)
    set_arg(p)
    route_args(p, "also simulate N units and count their eigenvalues (plug-in default 1000)")
    p.add_argument(
        "--disc",
        nargs=3,
        type=float,
        action="append",
        metavar=("X", "Y", "R"),
        help="the disc |lambda - (X + iY)| < R (repeatable)",
    )
    p.add_argument(
        "--annulus",
        nargs=4,
        type=float,
        action="append",
        metavar=("X", "Y", "R_IN", "R_OUT"),
        help="the annulus R_IN < |lambda - (X + iY)| < R_OUT (repeatable)",
    )
    p.add_argument("--seeds", type=seed_count, default=1, help="with --N: networks simulated (default 1)")
    json_arg(p)


def run(args):
    from ..cells import load_cell
    from ..validation.shares import Region, compare_shares

    if not args.disc and not args.annulus:
        raise GatefieldError("give at least one region: --disc X Y R or --annulus X Y R_IN R_OUT")
    if args.route != "fixed-point" and args.solution is not None:
        raise GatefieldError("--solution applies to the fixed-point route only; drop it or use --route fixed-point")
    regions = [Region("disc", tuple(v)) for v in args.disc or []]
    regions += [Region("annulus", tuple(v)) for v in args.annulus or []]
    cell = load_cell(args.cell)
    check_network(cell, args.N)
    rows, label = compare_shares(
        cell,
        overrides(args.set),
        regions,
        args.route,
        N=args.N,
        seeds=args.seeds,
        seed=args.seed,
        solution=-1 if args.solution is None else args.solution,
        progress=Progress("networks"),
        dmft_progress=Progress.dmft,
    )
    Progress.end_line()
    if args.json:
        emit_json({"cell": cell.name, "route": args.route, "label": label, "counts": rows})
        return
    print(f"{cell.name}: share of eigenvalues in each region, route {args.route} ({label})")
    for row in rows:
        text = f"  {row['region']} {' '.join(f'{v:g}' for v in row['numbers'])}: theory {row['theory']:.5f}"
        if "simulation" in row:
            seed_error = "" if row["seed_error"] is None else f", seed scatter {row['seed_error']:.5f}"
            text += f"; simulation {row['simulation']:.5f} (binomial error {row['binomial_error']:.5f}{seed_error})"
        print(text)
