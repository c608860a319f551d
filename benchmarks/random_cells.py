"""Random cells, theory against simulation: the share that pass, check by check.

Draws the cells of seeds ``FIRST .. FIRST + CELLS - 1`` from
:mod:`gatefield.cells.random` and runs ``gatefield.validate(cell, N=N,
seeds=SEEDS)`` on each at its drawn parameters (the cell file's defaults).
Prints a table of the share of cells passing each kind of check (the
check's own tolerance, from :mod:`gatefield.validation.tolerances`) and
overall, then every failure: the failing checks with theory, simulation and
tolerance, or the exception that stopped the run, and the cell's text.

A run is one process (the CPUs are shared); each cell's result is appended
to ``--jsonl`` as soon as it is known, so an interrupted study keeps its
cells, and ``--table JSONL`` prints and writes the tables from such a file
without simulating.

Run (about 1-4 minutes per cell at N = 1000 on 2 loaded cores)::

    python benchmarks/random_cells.py --cells 40 [--first 0] [--N 1000] [--seeds 2] \
        [--jsonl /tmp/random_cells.jsonl] [--markdown /tmp/random_cells_table.md]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gatefield as gf
from gatefield.cells.random import random_cell, random_cell_text


def check_kind(quantity: str) -> str:
    """A check's kind, without its coupling or route: ``q[J_c]`` -> ``q``."""
    quantity = re.sub(r"\s*\((fixed-point|plug-in)\)$", "", quantity)
    return "q" if quantity.startswith("q[") else quantity


def run_cell(seed: int, N: int, seeds: int) -> dict:
    """Validate the random cell of ``seed``; a raised exception is a result too."""
    cell = random_cell(seed)
    row = {"seed": seed, "name": cell.name, "time": cell.time, "parameters": cell.defaults, "N": N, "seeds": seeds}
    start = time.perf_counter()
    try:
        report = gf.validate(cell, N=N, seeds=seeds)
    except Exception as exc:  # noqa: BLE001 -- a crash is a finding of the study, recorded with its type
        row.update(passed=False, regime="error", route="", error=f"{type(exc).__name__}: {exc}", checks=[])
    else:
        row.update(
            passed=bool(report.passed),
            regime=report.regime,
            route=report.route,
            error=None,
            checks=[
                {
                    "quantity": c.quantity,
                    "kind": check_kind(c.quantity),
                    "theory": float(c.theory),
                    "simulation": float(c.simulation),
                    "tolerance": float(c.tolerance),
                    "passed": bool(c.passed),
                }
                for c in report.checks
            ],
        )
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def tables(rows: list) -> str:
    """Markdown: share passing per check kind and route, overall, and every failure."""
    lines = []
    n = len(rows)
    passed = sum(r["passed"] for r in rows)
    errors = sum(r["error"] is not None for r in rows)
    by_route = defaultdict(int)
    for r in rows:
        by_route[r["route"] or "error"] += 1
    lines += [
        f"cells: {n}; passed every check: {passed}/{n} ({passed / n:.0%}); stopped by an exception: {errors}",
        "routes: " + ", ".join(f"{k} {v}" for k, v in sorted(by_route.items())),
        "",
        "| check | route | cells checked | passed | share |",
        "| --- | --- | --- | --- | --- |",
    ]
    counts = defaultdict(lambda: [0, 0])
    for r in rows:
        seen = {}
        for c in r["checks"]:  # a cell passes a kind when all its checks of that kind pass (q over couplings)
            key = (c["kind"], r["route"])
            seen[key] = seen.get(key, True) and c["passed"]
        for key, ok in seen.items():
            counts[key][0] += 1
            counts[key][1] += ok
    for (kind, route), (total, ok) in sorted(counts.items()):
        label = kind.replace("|", "\\|")  # a table cell cannot hold a bare |
        lines.append(f"| {label} | {route} | {total} | {ok} | {ok / total:.0%} |")
    lines += ["", "| seed | cell | regime | passed | seconds |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        verdict = "yes" if r["passed"] else "NO"
        lines.append(f"| {r['seed']} | `{r['name']}` | {r['regime']} | {verdict} | {r['seconds']} |")
    failures = [r for r in rows if not r["passed"]]
    if failures:
        lines += ["", "## Failures", ""]
    for r in failures:
        lines += [f"### seed {r['seed']}: `{r['name']}` ({r['regime']}, N = {r['N']}, {r['seeds']} seeds)", ""]
        if r["error"]:
            lines.append(f"- exception: `{r['error']}`")
        for c in r["checks"]:
            if not c["passed"]:
                lines.append(
                    f"- {c['quantity']}: theory {c['theory']:.4g}, simulation {c['simulation']:.4g}, "
                    f"tolerance {c['tolerance']:.3g}"
                )
        lines += ["", "```toml", random_cell_text(r["seed"]).rstrip(), "```", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=40, help="number of cells (seeds FIRST, FIRST+1, ...)")
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--N", type=int, default=1000, help="network size")
    parser.add_argument("--seeds", type=int, default=2, help="coupling draws per cell")
    parser.add_argument("--jsonl", default=None, help="append each cell's result here as it finishes")
    parser.add_argument("--markdown", default=None, help="write the tables here")
    parser.add_argument("--table", default=None, metavar="JSONL", help="only tabulate an earlier run's results")
    args = parser.parse_args(argv)
    if args.table:
        rows = [json.loads(line) for line in Path(args.table).read_text().splitlines() if line.strip()]
    else:
        rows = []
        for seed in range(args.first, args.first + args.cells):
            row = run_cell(seed, args.N, args.seeds)
            rows.append(row)
            print(f"seed {seed} {row['name']}: {'pass' if row['passed'] else 'FAIL'} ({row['seconds']} s)", flush=True)
            if args.jsonl:
                with open(args.jsonl, "a") as handle:
                    handle.write(json.dumps(row) + "\n")
    text = tables(rows)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
