"""``gatefield dmft``: the dynamical mean-field theory of a time-dependent state."""

from __future__ import annotations

from ._common import (
    Progress,
    cell_arg,
    check_network,
    dmft_iterations,
    emit_json,
    json_arg,
    network_size,
    nonnegative_int,
    overrides,
    path_samples,
    say,
    set_arg,
)

METHODS = ("sampling", "fourier", "annealed")


def add(sub, command):
    p = command(sub, "dmft", "solve the dynamical mean-field theory of a time-dependent state", run)
    cell_arg(p)
    set_arg(p)
    p.add_argument("--samples", type=path_samples, default=2000, help="single-unit paths (default 2000)")
    p.add_argument("--iterations", type=dmft_iterations, default=200, help="most iterations (default 200)")
    p.add_argument(
        "--start",
        choices=["large", "small", "both"],
        default="large",
        help="initial correlations: large finds the chaotic branch, small the static one",
    )
    p.add_argument("--seed", type=nonnegative_int, default=0, help="sampling seed")
    p.add_argument(
        "--method",
        choices=list(METHODS),
        default="sampling",
        help="sampling: any cell (default); fourier: cells whose unit is Gaussian (rate networks, "
        "constant gates); annealed: weights redrawn every step",
    )
    p.add_argument(
        "--lyapunov",
        action="store_true",
        help="also the maximal Lyapunov exponent (two-replica DMFT; fourier: Schroedinger form)",
    )
    p.add_argument(
        "--N",
        type=network_size,
        help="annealed: also simulate N units with untied weights, and the tied DMFT",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the correlation functions")


def _solve(cell, params, args, start):
    from ..numerics import problems, solve, solvers

    if args.method == "fourier":
        problem = problems.GaussianClosureDMFT(cell, params)
        return solve(problem, solvers.FourierIteration(start=start), throw=False)
    solver = solvers.PathSampling(
        samples=args.samples, iterations=args.iterations, seed=args.seed, start=start, progress=Progress.dmft
    )
    result = solve(problems.DMFT(cell, params), solver, throw=False)
    Progress.end_line()
    return result


def _exponent(cell, params, args, result) -> dict:
    from ..numerics import problems, solve, solvers

    if args.method == "fourier":
        return {"exponent": result.lyapunov, "stderr": 0.0, "method": "Schroedinger"}
    say(f"  linearized two-replica DMFT ({result.start} start) ...")
    ly = solve(problems.TangentDMFT(cell, params, state=result), solvers.TangentSampling(seed=args.seed), throw=False)
    return {
        "exponent": ly.exponent.mean,
        "stderr": ly.exponent.stderr,
        "method": f"two-replica, {ly.status.value}",
    }


def run(args):
    from ..cells import load_cell

    cell = load_cell(args.cell)
    check_network(cell, args.N)
    params = overrides(args.set)
    if args.plot:
        from ..plot._common import check_path

        check_path(args.plot)
    if args.method == "annealed":
        from .annealed import run as annealed

        return annealed(cell, params, args)
    starts = ("large", "small") if args.start == "both" else (args.start,)
    results = [_solve(cell, params, args, start) for start in starts]
    exponents = {r.start: _exponent(cell, params, args, r) for r in results} if args.lyapunov else {}
    if args.plot:
        from ..plot import plot_correlations

        plot_correlations(args.plot, results)
        say(f"wrote {args.plot}")
    if args.json:
        data = [r.to_json() for r in results]
        for d, r in zip(data, results):
            if r.start in exponents:
                d["lyapunov"] = exponents[r.start]
        emit_json(data if len(data) > 1 else data[0])
        return
    unit = "step" if cell.time == "discrete" else "unit time"
    for r in results:
        kind = "static" if r.static else "time-dependent"
        print(
            f"{cell.name}: DMFT ({args.method}) from a {r.start} start: {kind}; {r.status.value} after "
            f"{r.iterations} iterations (residual {r.residual:.2e})"
        )
        if not r.status.ok:
            print(f"  {r.message}; {r.status.fix}")
        for name, value in r.moments.items():
            error = "" if value.stderr == 0 else f" +- {value.stderr:.2g}"
            print(f"  {name} = {value.mean:.6g}{error}")
        for name, t in r.decay_time.items():
            print(f"  decay time of C[{name}]: {t:.4g}")
        if r.start in exponents:
            e = exponents[r.start]
            print(f"  maximal Lyapunov exponent ({e['method']}): {e['exponent']:.4g} +- {e['stderr']:.2g} per {unit}")
