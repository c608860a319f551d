"""``gatefield complexity`` and ``gatefield fixed-points``: how many fixed points, in theory and counted."""

from __future__ import annotations

from ..errors import GatefieldError
from ._common import (
    Progress,
    cell_arg,
    check_network,
    emit_json,
    integral_samples,
    json_arg,
    network_size,
    newton_starts,
    nonnegative_int,
    overrides,
    say,
    scan_points,
    seed_count,
    set_arg,
)


def add(sub, command):
    p = command(sub, "complexity", "the annealed Kac-Rice complexity of the fixed points (every saddle)", run)
    cell_arg(p)
    set_arg(p)
    p.add_argument(
        "--onset",
        nargs=3,
        metavar=("NAME", "LO", "HI"),
        help="also find where Sigma turns positive as parameter NAME goes from HI down to LO",
    )
    p.add_argument("--points", type=scan_points, default=9, help="scan points of --onset (default 9)")
    json_arg(p)

    p = command(sub, "fixed-points", "count the fixed points of finite networks (multi-start Newton)", run_count)
    cell_arg(p)
    set_arg(p)
    p.add_argument("--N", type=network_size, required=True, help="units per network")
    p.add_argument("--seeds", type=seed_count, default=5, help="coupling draws (default 5)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="first coupling seed (default 0)")
    p.add_argument("--starts", type=newton_starts, default=1500, help="least Newton starts per network (default 1500)")
    p.add_argument(
        "--integral",
        type=integral_samples,
        metavar="SAMPLES",
        help="also estimate E[#] by the exact finite-N Kac-Rice integral with SAMPLES importance samples",
    )
    json_arg(p)


def run(args):
    from ..cells import load_cell
    from ..numerics.complexity import onset, solve_complexity

    cell = load_cell(args.cell)
    params = overrides(args.set)
    found = None
    if args.onset:  # checked before any solve, so that a mistake costs nothing
        name, lo, hi = args.onset
        try:
            lo, hi = float(lo), float(hi)
        except ValueError:
            raise GatefieldError(f"--onset expects NAME LO HI with numbers LO and HI, got {lo!r} {hi!r}") from None
        if name not in cell.defaults:
            raise GatefieldError(
                f"cell '{cell.name}' has no parameter '{name}'; its parameters: {', '.join(cell.defaults)}"
            )
        if not lo < hi:
            raise GatefieldError(f"--onset needs lo < hi, got {lo:g} and {hi:g}")
    result = solve_complexity(cell, params)
    if args.onset:
        found = onset(cell, name, lo, hi, params, points=args.points)
    if args.json:
        data = result.to_json()
        if found is not None:
            data["onset"] = found.to_json()
        emit_json(data)
        return
    zero = " (at least 1: eta = 0 is a fixed point)" if result.zero_fixed_point else ""
    print(f"{cell.name}: Sigma = {result.sigma:.8g}{zero}; {len(result.saddles)} saddle(s)")
    for k, s in enumerate(result.saddles):
        qs = ", ".join(f"q[{c}] = {v:.6g}" for c, v in s.order_parameters.items())
        qh = ", ".join(f"qhat[{c}] = {v:.6g}" for c, v in s.multipliers.items())
        print(
            f"  [{k}] S = {s.sigma:.8g}; {qs}; {qh}; radius {s.radius:.4f}; residual {s.residual:.1e}; "
            f"quadrature error {s.quadrature_error:.1e}"
        )
    for t in result.typical:
        qs = ", ".join(f"q[{c}] = {v:.6g}" for c, v in t.order_parameters.items())
        print(f"  untilted at the mean-field root {qs}: {t.sigma:.8g} (a lower bound; radius {t.radius:.4f})")
    if found is not None:
        if found.value == found.value:
            print(
                f"  onset: Sigma > 0 for {found.name} > {found.value:.6g} (bracket {found.bracket[0]:.6g}, "
                f"{found.bracket[1]:.6g})"
            )
        else:
            print(f"  onset: Sigma does not change sign for {found.name} in the range scanned")


def run_count(args):
    import numpy as np

    from ..cells import load_cell
    from ..simulate.counting import count_fixed_points, kac_rice_integral
    from ..simulate.network import make_network

    cell = load_cell(args.cell)
    check_network(cell, args.N)
    params = overrides(args.set)
    rows = []
    progress = Progress("networks")
    for k in range(args.seeds):
        net = make_network(cell, args.N, args.seed + k, params)
        found = count_fixed_points(net, seed=args.seed + k, min_starts=args.starts)
        rows.append({"coupling_seed": args.seed + k, **found.to_json()})
        progress(k + 1, args.seeds)
    Progress.end_line()
    counts = np.array([r["count"] for r in rows], float)
    mean = float(counts.mean())
    err = float(counts.std(ddof=1) / np.sqrt(len(counts))) if len(counts) > 1 else float("nan")
    integral = None
    if args.integral:
        say(f"  exact Kac-Rice integral, {args.integral} samples ...")
        integral = kac_rice_integral(cell, args.N, args.integral, params, seed=args.seed)
    if args.json:
        data = {"cell": cell.name, "N": args.N, "networks": rows, "mean": mean, "stderr": err}
        if integral is not None:
            data["integral"] = {
                "mean": integral.mean.mean,
                "stderr": integral.mean.stderr,
                "samples": integral.samples,
                "log_weight_variance": integral.log_weight_variance,
            }
        emit_json(data)
        return
    print(f"{cell.name}, N = {args.N}: E[#] = {mean:.4g} +- {err:.2g} over {args.seeds} network(s)")
    for r in rows:
        stable = sum(r["stable"])
        print(
            f"  seed {r['coupling_seed']}: {r['count']} fixed point(s), {stable} stable; {r['starts']} starts, "
            f"estimated missing {r['missing_estimate']:.2g}, state residual {r['state_residual']:.1e}"
        )
    if integral is not None:
        print(f"  exact Kac-Rice integral: E[#] = {integral.mean:.4g} ({integral.samples} samples)")
