"""``gatefield phase``: the phase diagram of a cell over two parameters."""

from __future__ import annotations

import numpy as np

from ..errors import GatefieldError
from ._common import (
    MAX_SWEEP_POINTS,
    Progress,
    cell_arg,
    check_jobs,
    check_network,
    emit_json,
    json_arg,
    network_size,
    nonnegative_int,
    overrides,
    positive_float,
    positive_int,
    say,
    scan_points,
    seed_count,
    set_arg,
    vary_arg,
)
from .sweep import _grid


def add(sub, command):
    p = command(
        sub,
        "phase",
        "phase diagram over two parameters: fixed-point stability, mean-field branches, complexity onset, chaos",
        run,
    )
    cell_arg(p)
    set_arg(p)
    vary_arg(p, "a parameter and its grid (exactly twice; the first varies fastest)")
    p.add_argument(
        "--fresh",
        type=scan_points,
        default=3,
        help="points per axis of the sub-grid searched afresh; elsewhere continuation (default 3)",
    )
    p.add_argument("--jobs", type=positive_int, default=1, help="processes, one block of rows each (default 1)")
    p.add_argument("--no-complexity", action="store_true", help="leave out the Kac-Rice complexity and its onset")
    p.add_argument(
        "--edges",
        type=nonnegative_int,
        default=4,
        help="points next to the stability change that get the full support trace (default 4)",
    )
    p.add_argument(
        "--slow-modes",
        dest="slow_delta",
        type=positive_float,
        metavar="DELTA",
        help="also map the units' slow share within DELTA of the slow point and marginal stability (~10 ms a point)",
    )
    p.add_argument(
        "--chaos-checks",
        type=nonnegative_int,
        default=0,
        metavar="K",
        help="solve the DMFT and its Lyapunov exponent at K points near the chaos line (about 15 s each)",
    )
    p.add_argument(
        "--finite-N",
        dest="finite_n",
        type=network_size,
        metavar="N",
        help="also count fixed points and measure the QR Lyapunov exponent of N-unit networks at a few points",
    )
    p.add_argument(
        "--finite-points", type=scan_points, default=4, help="points of --finite-N (default 4, near the lines)"
    )
    p.add_argument("--seeds", type=seed_count, default=2, help="networks per --finite-N point (default 2)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="first coupling seed of --finite-N (default 0)")
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure")


def _axes(vary) -> dict:
    out: dict = {}
    for name, start, stop, num in vary:
        if name in out:
            raise GatefieldError(f"--vary {name} is given twice; vary two different parameters")
        out[name] = _grid(name, start, stop, num)
    if len(out) != 2:
        raise GatefieldError(f"a phase diagram needs --vary exactly twice (two parameters), got {len(out)}")
    if any(len(v) < 2 for v in out.values()):
        raise GatefieldError("each --vary of a phase diagram needs NUM >= 2")
    if int(np.prod([len(v) for v in out.values()])) > MAX_SWEEP_POINTS:
        raise GatefieldError(f"the phase grid has more than {MAX_SWEEP_POINTS} points; use fewer points")
    return out


def run(args):
    from ..cells import load_cell
    from ..numerics.phase import chaos_checks, phase_diagram

    cell = load_cell(args.cell)
    vary = _axes(args.vary)
    for name in vary:
        if name not in cell.defaults:
            raise GatefieldError(
                f"cell '{cell.name}' has no parameter '{name}'; its parameters: {', '.join(cell.defaults)}"
            )
    check_jobs(args.jobs)
    check_network(cell, args.finite_n, "--finite-N")
    if args.plot:
        from ..plot._common import check_path

        check_path(args.plot)
    params = overrides(args.set)
    n1, n2 = (len(v) for v in vary.values())
    say(f"phase diagram of {cell.name}: {n1} x {n2} points, {args.jobs} process(es)")
    diagram = phase_diagram(
        cell,
        vary,
        params,
        fresh=args.fresh,
        jobs=args.jobs,
        complexity=not args.no_complexity,
        edges=args.edges,
        progress=Progress("phase"),
        slow_delta=args.slow_delta,
    )
    Progress.end_line()
    checks: list = []
    if args.chaos_checks:
        say(f"  DMFT and Lyapunov exponent at {args.chaos_checks} point(s) ...")
        checks += chaos_checks(cell, diagram, args.chaos_checks, progress=Progress("dmft checks"))
    if args.finite_n:
        from ..validation.landscape import finite_n_points

        say(f"  finite networks, N = {args.finite_n}, {args.seeds} seed(s) at {args.finite_points} point(s) ...")
        checks += finite_n_points(
            cell, diagram, args.finite_n, args.finite_points, args.seeds, args.seed, progress=Progress("networks")
        )
    if checks:
        from dataclasses import replace

        diagram = replace(diagram, checks=checks)
    if args.plot:
        from ..plot import plot_phase

        plot_phase(args.plot, diagram)
        say(f"wrote {args.plot}")
    if args.json:
        emit_json(diagram.to_json())
        return
    print(summary(diagram))


def summary(diagram) -> str:
    """Region shares, lines, onset, edges and checks as text."""
    from ..numerics.phase import REGIONS

    a, b = diagram.names
    region = diagram.maps["region"]
    lines = [f"{diagram.cell}: phase diagram over {a} x {b} ({region.shape[0]} x {region.shape[1]} points)"]
    for code, label in REGIONS.items():
        share = float(np.mean(region == code))
        if share > 0:
            lines.append(f"  {label}: {share:.1%} of the grid")
    for name, polys in diagram.lines.items():
        points = sum(len(p) for p in polys)
        lines.append(f"  line {name}: {len(polys)} piece(s), {points} point(s)")
    for x, y in diagram.tricritical:
        lines.append(f"  tricritical point ({a}, {b}) = ({x:.6g}, {y:.6g}): the zero line turns discontinuous")
    if diagram.bifurcation:
        kinds = [r["kind"] for r in diagram.bifurcation]
        lines.append(
            f"  zero line: {kinds.count('continuous')} point(s) continuous, "
            f"{kinds.count('discontinuous')} discontinuous (sign of the map's q^2 coefficient)"
        )
    if diagram.onset:
        shown = ", ".join(f"({x:.4g}, {y:.4g})" for x, y in diagram.onset[:6])
        more = f" and {len(diagram.onset) - 6} more" if len(diagram.onset) > 6 else ""
        lines.append(f"  complexity onset ({a}, {b}) by bisection: {shown}{more}")
    elif not diagram.settings.get("complexity", True):
        note = diagram.settings.get("complexity_note") or "left out"
        lines.append(f"  complexity: {note}")
    if "slow_share" in diagram.maps:
        share = diagram.maps["slow_share"]
        delta = diagram.settings.get("slow_delta")
        if np.any(np.isfinite(share)):
            lines.append(
                f"  units' slow share within {delta:g} of the slow point: "
                f"{np.nanmin(share):.3g} to {np.nanmax(share):.3g}"
            )
        lines.append(f"  marginal stability: {np.nanmean(diagram.maps['marginal'] == 1):.1%} of the grid")
    for e in diagram.edges:
        verdict = "stable" if e.get("stable") else "unstable"
        gap = e.get("edge_gap", float("nan"))
        lines.append(
            f"  edge at ({e[a]:.4g}, {e[b]:.4g}): gap {gap:.4g}, {verdict}, slow-mode share "
            f"{e.get('slow_fraction', float('nan')):.3g}; cheap margin {e['margin']:.3g} "
            f"({'agrees' if e['agrees'] else 'DISAGREES'})"
        )
    for c in diagram.checks:
        where = f"({c[a]:.4g}, {c[b]:.4g})"
        if c["kind"] == "dmft":
            lines.append(
                f"  DMFT at {where} [{c['label']}]: {'static' if c['static'] else 'time-dependent'}, "
                f"Lyapunov {c['lyapunov']:.3g} +- {c['lyapunov_stderr']:.2g} "
                f"({'agrees' if c['agrees'] else 'DISAGREES'}{': ' + c['note'] if 'note' in c else ''})"
            )
        else:
            lines.append(
                f"  N = {c['N']} at {where} [{c['label']}]: {c['mean_count']:.3g} fixed point(s) "
                f"(theory exp(N Sigma) = {c['theory_count']:.3g}), {c['stable_share']:.0%} of networks with a "
                f"stable one, QR Lyapunov {c['lyapunov']:.3g}"
            )
    seconds = diagram.settings.get("seconds", {})
    if seconds:
        lines.append(f"  {seconds.get('total', float('nan')):.1f} s ({diagram.settings.get('fresh_points')} fresh)")
    return "\n".join(lines)
