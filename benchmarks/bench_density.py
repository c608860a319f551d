"""Eigenvalue density of the GRU on a 100 x 100 grid: gatefield's Newton solver
against plain damped fixed-point iteration of the same cavity equations.

The GRU at ``g_h = 1.6, alpha_r = 2, beta_h = 0.4`` (a stable fixed point),
sites from ``gatefield.sites.from_fixed_point`` at the mean-field ``q`` (2968 sites,
two active nodes), the grid ``Re lam`` in [-0.1, 1.1], ``Im lam`` in
[-0.45, 0.45] (it covers the support, about 44% of the points are inside).

Compared, side by side in one process (repetitions interleaved, medians):

- **gatefield**: ``density(sites, grid)``: Newton's method on the reduced
  equations of THEORY.md section 5, rows warm-started from the row before
  with a first-order predictor, density by implicit differentiation;
- **damped iteration**: ``x <- (1 - theta) x + theta Phi(x)`` on the same
  reduced equations (the same ``Phi``, the same gauge balancing), started
  from the Newton solution of the row before (what continuation along the
  grid would give it) or the bifurcating branch, stopped at the same
  relative residual, then the same implicit differentiation. ``theta = 0.8``
  was the fastest of 0.5, 0.8 and 1.0 on test points. It is timed on every
  ``STRIDE``-th row only (the whole grid would take minutes) and compared
  **per point inside the support**.

Accuracy: the densities of both methods on the timed rows against a
reference, gatefield at ``tol = 1e-14``; the maximum relative difference of
each, and of the two methods against each other, is printed.

Run (about 3 minutes on 2 busy cores; ``--quick`` under 20 s)::

    python benchmarks/bench_density.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import interleaved  # noqa: E402  (benchmarks/ is on sys.path when run)

import gatefield as gf
from gatefield.cells import load_cell
from gatefield.numerics.spectrum import density
from gatefield.numerics.spectrum.cavity import newton as solver
from gatefield.numerics.spectrum.cavity.equations import Equations

# The baseline reuses the solver's own map and differentiation (the same Phi).

# -- Parameters ---------------------------------------------------------------------

PARAMS = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
GRID = 100
RE, IM = (-0.1, 1.1), (-0.45, 0.45)
#: Every STRIDE-th row is solved by damped iteration (starting at row 5).
STRIDE = 10
#: Damping of the plain iteration.
THETA = 0.8
#: Relative residual at which both methods stop; the reference's.
TOL, REFERENCE_TOL = solver.TOL, 1e-14
#: Plain iteration stops after this many steps (it needs about 20 in the bulk;
#: near the support's edge the map's contraction tends to 1 and it needs
#: thousands). Points stopped here are counted and make the baseline's time
#: a lower bound.
MAX_STEPS = 5000


# -- Baseline: plain damped iteration -------------------------------------------------


def damped_row(problem, lams, starts):
    """Density on one row by damped iteration; returns (density, steps per
    inside point)."""
    K = problem.K
    out = np.zeros(len(lams))
    steps = []
    chunk = max(1, solver.BLOCK // problem.pencils.n)
    for lo in range(0, len(lams), chunk):
        prep = problem.prepare(lams[lo : lo + chunk])
        M = problem.support_matrix(prep)
        rho = np.max(np.abs(np.linalg.eigvals(M)), axis=1)
        idx = np.flatnonzero(rho > 1.0 + solver.EDGE_MARGIN)
        if idx.size == 0:
            continue
        sub = problem.extend(prep.take(idx), derivative=True)
        x = solver._perron_start(problem, sub, M[idx], rho[idx])
        warm = starts[lo + idx]
        usable = np.all(np.isfinite(warm), axis=1) & (np.sum(warm, axis=1) > 0)
        x[usable] = warm[usable]
        x = solver._balance(x, K)
        todo = np.arange(len(idx))
        for step in range(1, MAX_STEPS + 1):
            at = sub.take(todo)
            phi, parts = problem.evaluate(at, x[todo])
            done = (solver._relative_residual(phi, x[todo]) <= TOL) | (step == MAX_STEPS)
            if done.any():
                fin = np.flatnonzero(done)
                _, rho_fin, _ = solver._implicit_density(problem, at.take(fin), parts.take(fin))
                out[lo + idx[todo[fin]]] = rho_fin
                steps += [step] * fin.size
            keep = np.flatnonzero(~done)
            if keep.size == 0:
                break
            x[todo[keep]] = solver._balance((1 - THETA) * x[todo[keep]] + THETA * phi[keep], K)
            todo = todo[keep]
    return out, steps


# -- Compare -------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a 30 x 30 grid, one repetition, one baseline row (smoke test)"
    )
    args = parser.parse_args(argv)
    grid = 30 if args.quick else GRID
    reps = 1 if args.quick else 2

    # Theory: the fixed point and its sites.
    cell = load_cell("gru")
    solution = gf.solve(gf.problems.MeanField(cell, PARAMS), gf.solvers.AllRoots(grid_points=40))
    sites = gf.sites.from_fixed_point(solution)
    problem = Equations(sites.pencils)
    lams = np.linspace(*RE, grid)[None, :] + 1j * np.linspace(*IM, grid)[:, None]
    # Not the row just above the real axis: its start, the row below, is its mirror image.
    rows = np.array([grid // 2 + 4]) if args.quick else np.arange(5, grid, STRIDE)
    print(
        f"GRU {PARAMS}: {sites.pencils.n} sites, {problem.K} active nodes; {grid} x {grid} grid, "
        f"Re lam in {list(RE)}, Im lam in {list(IM)}"
    )
    if args.quick:
        print("(--quick: smoke test; the ratio is not the reported one)")

    # Newton on the whole grid; its rows before the baseline rows give the warm starts.
    result = {}

    def run_gatefield():
        result["rho"] = density(sites, lams)

    def run_baseline():
        starts = {}
        for i in rows:
            prev = solver.solve_points(problem, lams[i - 1], tol=TOL)
            starts[i] = np.where(prev.inside[:, None], prev.x, np.nan)
        t0 = time.perf_counter()
        out = {i: damped_row(problem, lams[i], starts[i]) for i in rows}
        # The start rows are set-up, not part of the baseline's time.
        result.setdefault("baseline_seconds", []).append(time.perf_counter() - t0)
        result["baseline"] = out

    cpu0 = time.process_time()
    totals = interleaved({"gatefield": run_gatefield, "baseline": run_baseline}, reps)
    cpu = time.process_time() - cpu0
    rho = result["rho"]
    base = np.array([result["baseline"][i][0] for i in rows])
    steps = [s for i in rows for s in result["baseline"][i][1]]
    reference = density(sites, lams[rows], tol=REFERENCE_TOL, throw=False)

    inside_all = int(np.sum(rho > 0))
    inside_sub = int(np.sum(base > 0))
    t_gf = totals["gatefield"]
    t_base = statistics.median(result["baseline_seconds"])
    per_gf = t_gf / inside_all
    per_base = t_base / inside_sub

    def rel(a, b):
        mask = (a > 0) | (b > 0)
        return float(np.max(np.abs(a[mask] - b[mask]) / np.abs(b[mask])))

    far = np.abs(lams[rows].imag) >= 0.2
    print(
        f"  timing: {reps} interleaved repetition(s), medians; damped iteration on {len(rows)} rows "
        f"({inside_sub} points inside), gatefield on all {grid} rows ({inside_all} inside)"
    )
    print(f"  {'method':36s} {'seconds':>9s} {'ms / point inside':>18s} {'ratio':>7s}")
    print(f"  {'gatefield density, whole grid':36s} {t_gf:9.2f} {1e3 * per_gf:18.2f} {1:7.0f}")
    print(f"  {'damped iteration, timed rows':36s} {t_base:9.2f} {1e3 * per_base:18.2f} {per_base / per_gf:6.0f}x")
    print(
        f"  damped iteration steps per point: median {statistics.median(steps):.0f}, "
        f"max {max(steps)}, stopped at {MAX_STEPS} without converging: "
        f"{sum(s == MAX_STEPS for s in steps)} (theta = {THETA})"
    )
    print(f"  damped iteration extrapolated to the whole grid: {per_base * inside_all:.0f} s")
    print(f"  CPU time of the process over all repetitions: {cpu:.1f} s")
    print("  accuracy on the timed rows (max relative difference of the density, points inside):")
    print(f"    gatefield vs damped iteration:            {rel(rho[rows], base):.1e}")
    print(f"    gatefield vs reference (tol {REFERENCE_TOL:.0e}):       {rel(rho[rows], reference):.1e}")
    print(f"    damped iteration vs reference:            {rel(base, reference):.1e}")
    if far.any():
        print(
            f"    (|Im lam| >= 0.2 only: gatefield vs reference "
            f"{rel(np.where(far, rho[rows], 0), np.where(far, reference, 0)):.1e})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
