"""``gatefield figure``: one of the founding papers' claims, theory over finite-N points."""

from __future__ import annotations

from pathlib import Path

from ..errors import GatefieldError
from ._common import Progress, check_jobs, emit_json, json_arg, network_size, positive_int, say, seed_count


def add(sub, command):
    p = command(sub, "figure", "reproduce a founding spectral claim: theory curves over finite-N points", run)
    p.add_argument("name", metavar="NAME", nargs="?", help="the figure (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and the claims they show")
    p.add_argument("--N", type=network_size, default=1000, help="units per network (default 1000)")
    p.add_argument("--seeds", type=seed_count, default=3, help="networks per point (default 3)")
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        help="processes for the simulations (default 1; at most the machine's cores)",
    )
    p.add_argument("--quick", action="store_true", help="a few points only (a smoke run)")
    p.add_argument("--out", metavar="FILE", help="figure file (default NAME.png; the data go in the .json beside it)")
    json_arg(p)


def run(args):
    from ..plot._common import check_path
    from ..validation import FIGURES, figure_table, make_figure

    if args.list or args.name is None:
        if args.name is None and not args.list:
            raise GatefieldError("name a figure, or use --list to see them")
        if args.json:
            emit_json({name: figure.claim for name, figure in FIGURES.items()})
            return
        for name, figure in FIGURES.items():
            print(f"{name:24s} {figure.claim}")
        return
    if args.name not in FIGURES:
        raise GatefieldError(f"unknown figure {args.name!r}; choose from {', '.join(FIGURES)}")
    check_jobs(args.jobs)
    out = check_path(Path(args.out or f"{args.name}.png"))
    sizes = f"N = {args.N}, {args.seeds} seed(s) per point" if FIGURES[args.name].panels else "its own network sizes"
    say(f"figure {args.name}: {sizes}" + (" (quick)" if args.quick else ""))
    data = make_figure(
        args.name,
        N=args.N,
        seeds=args.seeds,
        out=out,
        jobs=args.jobs,
        quick=args.quick,
        progress=Progress("theory points and networks"),
    )
    say(f"wrote {out} and {out.with_suffix('.json')}")
    if args.json:
        emit_json(data)
        return
    print(figure_table(data))
