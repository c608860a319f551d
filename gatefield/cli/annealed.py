"""``gatefield dmft --method annealed``: weights redrawn every step, beside the
untied simulation it describes and the tied DMFT (for the gap)."""

from __future__ import annotations

from ..errors import GatefieldError
from ._common import Progress, emit_json, say


def run(cell, params, args):
    from ..numerics import problems, solve, solvers
    from ..simulate import untied

    if cell.time != "discrete":
        raise GatefieldError("the annealed mode is for discrete-time cells; use --method sampling")
    annealed = solve(
        problems.Annealed(cell, params),
        solvers.PopulationDynamics(samples=max(args.samples, 10_000), seed=args.seed),
        throw=False,
    )
    rows = {"annealed theory": annealed.moments}
    if args.N is not None:
        say(f"  simulating N = {args.N} with weights redrawn every step ...")
        sim = untied(cell, args.N, 400, parameters=params, burn_in=200, weight_seed=args.seed, state_seed=args.seed)
        rows[f"untied simulation, N = {args.N}"] = sim.moments
        say("  solving the tied-weights DMFT for comparison ...")
        tied = solve(
            problems.DMFT(cell, params),
            solvers.PathSampling(samples=args.samples, seed=args.seed, progress=Progress.dmft),
            throw=False,
        )
        Progress.end_line()
        rows["tied DMFT (fixed weights)"] = tied.moments
    if args.json:
        emit_json(
            {
                "cell": cell.name,
                "parameters": annealed.parameters,
                "status": annealed.status,
                "rows": {label: moments for label, moments in rows.items()},
            }
        )
        return
    print(f"{cell.name}: annealed mode (weights redrawn every step), {annealed.status.value}")
    keys = [k for k in annealed.moments if all(k in m for m in rows.values())]
    print("  " + f"{'moment':18s}" + "".join(f"{label:>30s}" for label in rows))
    for key in keys:
        cells = "".join(f"{m[key].mean:>18.5g} +- {m[key].stderr:<8.2g}" for m in rows.values())
        print(f"  {key:18s}{cells}")
