"""Phase diagram of the GRU on a 40 x 40 grid: continuation against solving every point from scratch.

The grid is ``g_h`` in [0.5, 3] by ``alpha_r`` in [0, 20] (the issue's
"Done when"), the other parameters at the GRU's defaults. Compared:

- **continuation**: ``gatefield.numerics.phase.phase_diagram(..., jobs=2)``,
  the whole diagram (mean-field roots, stability margins, complexity, onset
  bisection, four full support traces), timed once, wall and CPU;
- **from scratch**: what each point costs without neighbours: every
  mean-field root by ``AllRoots``, the full support trace
  (``from_fixed_point(...).support.stable``) of each, and the complexity by
  ``solve_complexity`` with its default search. Timed at ``SAMPLES`` points
  drawn with a fixed seed and **extrapolated** to the grid as the mean times
  the number of points, divided by 2 (two cores, perfect parallel speed-up):
  a lower bound on the from-scratch wall time.

Accuracy at the sampled points: the best saddle's Sigma (continuation's
cheap rule against the default rule from scratch) and the stability
verdict (the cheap margin's region against the full traces).

Run (about 3 min on 2 cores; ``--quick``: a 10 x 10 grid and 2 samples, under a minute)::

    python benchmarks/bench_phase.py [--quick] [--samples K] [--jobs J]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gatefield.cells import load_cell
from gatefield.numerics.complexity import solve_complexity
from gatefield.numerics.phase import phase_diagram
from gatefield.numerics.problems import MeanField
from gatefield.numerics.solve import solve
from gatefield.numerics.solvers.roots import AllRoots
from gatefield.numerics.spectrum import from_fixed_point

# -- Parameters ---------------------------------------------------------------------

GRID = {"g_h": (0.5, 3.0), "alpha_r": (0.0, 20.0)}
POINTS, QUICK_POINTS = 40, 10
#: From-scratch points timed (each 5-20 s) and the seed that draws them.
SAMPLES, QUICK_SAMPLES, SEED = 6, 2, 0
#: The issue's target for the 40 x 40 diagram on 2 cores.
TARGET_S = 120.0


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def from_scratch(cell, params) -> tuple:
    """One point without neighbours: (seconds, best saddle sigma, stable by the full trace)."""
    t0 = time.perf_counter()
    mf = solve(MeanField(cell, params), AllRoots(), throw=False)
    stable = any(from_fixed_point(mf, solution=k).support.stable for k in range(len(mf.roots)))
    result = solve_complexity(cell, params, throw=False)
    sigma = result.saddles[0].sigma if result.saddles else float("nan")
    return time.perf_counter() - t0, sigma, stable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 10 x 10 grid and 2 from-scratch samples")
    parser.add_argument("--samples", type=int, help=f"from-scratch points timed (default {SAMPLES})")
    parser.add_argument("--jobs", type=int, default=2, help="processes of the continuation run (default 2)")
    args = parser.parse_args(argv)
    n = QUICK_POINTS if args.quick else POINTS
    samples = args.samples or (QUICK_SAMPLES if args.quick else SAMPLES)
    cell = load_cell("gru")
    vary = {name: np.linspace(lo, hi, n) for name, (lo, hi) in GRID.items()}

    # -- Continuation ---------------------------------------------------------------
    load = os.getloadavg()[0]
    cpu0, t0 = _cpu(), time.perf_counter()
    d = phase_diagram(cell, vary, jobs=args.jobs)
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0

    # -- From scratch at sampled points ------------------------------------------------
    rng = np.random.default_rng(SEED)
    picks = [tuple(int(v) for v in rng.integers(0, n, 2)) for _ in range(samples)]
    rows = []
    for i, j in picks:
        seconds, sigma, stable = from_scratch(cell, d.params_at(i, j))
        rows.append((i, j, seconds, sigma, stable))
    per_point = float(np.mean([r[2] for r in rows]))
    scratch_wall = per_point * n * n / 2.0

    # -- Compare -----------------------------------------------------------------------
    print(f"GRU phase diagram, {n} x {n} grid (g_h {GRID['g_h']}, alpha_r {GRID['alpha_r']}), jobs = {args.jobs}")
    print(f"load average at the start: {load:.1f} on {os.cpu_count()} core(s)")
    print(f"{'method':34s} {'wall s':>9s} {'cpu s':>9s} {'ratio':>8s}")
    print(f"{'continuation (measured)':34s} {wall:9.1f} {cpu:9.1f} {1.0:8.2f}")
    print(
        f"{'from scratch (extrapolated)':34s} {scratch_wall:9.0f} {per_point * n * n:9.0f} {scratch_wall / wall:8.1f}"
    )
    print(f"  from scratch: {per_point:.2f} s per point (mean of {samples}), x {n * n} points / 2 cores")
    print(f"  continuation: {d.settings['fresh_points']} fresh points, sweep {d.settings['seconds']['sweep']:.1f} s")
    if n == POINTS:
        target = "meets" if wall <= TARGET_S else "MISSES"
        print(f"  target: {n} x {n} in under {TARGET_S:.0f} s on 2 cores -> {target} ({wall:.1f} s)")
    print(f"{'point (g_h, alpha_r)':24s} {'Sigma scratch':>14s} {'Sigma cont.':>12s} {'|diff|':>9s} {'stable':>7s}")
    worst, verdicts = 0.0, 0
    for i, j, _, sigma, stable in rows:
        got = float(d.maps["sigma_saddle"][i, j])
        diff = abs(got - sigma) if math.isfinite(got) and math.isfinite(sigma) else float("nan")
        same = stable == (d.maps["region"][i, j] != 3)
        verdicts += same
        worst = max(worst, diff) if math.isfinite(diff) else worst
        where = f"({d.axes[0][i]:.3f}, {d.axes[1][j]:.2f})"
        print(f"{where:24s} {sigma:14.7f} {got:12.7f} {diff:9.1e} {'same' if same else 'DIFF':>7s}")
    print(f"  largest Sigma difference {worst:.1e}; stability verdicts agree at {verdicts}/{len(rows)} points")
    if args.quick:
        print("(--quick: a smaller grid; not the reported numbers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
