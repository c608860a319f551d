"""``gatefield meanfield``: every solution of the fixed-point mean-field equations."""

from __future__ import annotations

from ._common import cell_arg, emit_json, json_arg, overrides, q_range, set_arg


def add(sub, command):
    p = command(sub, "meanfield", "find all solutions of the fixed-point mean-field equations", run)
    cell_arg(p)
    set_arg(p)
    p.add_argument("--q-max", type=q_range, default=50.0, help="search q in [0, Q] (default 50)")
    json_arg(p)


def run(args):
    from ..cells import load_cell
    from ..numerics import problems, solve, solvers
    from ..numerics.spectrum import from_fixed_point

    cell = load_cell(args.cell)
    result = solve(problems.MeanField(cell, overrides(args.set)), solvers.AllRoots(q_max=args.q_max))
    supports = [from_fixed_point(result, solution=k).support for k in range(len(result.roots))]
    if args.json:
        data = result.to_json()
        for row, support in zip(data["solutions"], supports):
            row.update(
                stable=support.stable,
                spectral_radius=support.spectral_radius,
                rightmost_real=support.rightmost_real,
                bulk_radius=support.bulk_radius,
                bulk_rightmost=support.bulk_rightmost,
                whiskers=[w.to_json() for w in support.whiskers],
            )
        emit_json(data)
        return
    print(f"{cell.name}: {len(result.roots)} solution(s), q in [0, {args.q_max:g}]")
    for k, (root, support) in enumerate(zip(result.roots, supports)):
        qs = ", ".join(f"q[{n}] = {v:.6g}" for n, v in root.order_parameters.items())
        print(f"  [{k}] {qs}; residual {root.residual:.1e}; {support.summary()}")
