"""One-time moments of the chaotic GRU: the DMFT sampling solver against one
N = 2000 simulation, at the same standard error.

The GRU at ``g_h = 3`` (other gains 1, biases 0) is chaotic. Compared, side
by side in one process:

- **DMFT**: ``solve(DMFT(gru, {"g_h": 3}), PathSampling(samples=SAMPLES))``, single-unit paths
  (the solver's defaults otherwise): ``E[h^2]`` and its sampling error;
- **simulation**: one network of N = 2000 units, ``BURN_IN`` steps to the
  attractor, then ``STEPS`` recorded steps: ``E[h^2]`` as the mean over units
  and time, its error from batch means over ``BLOCKS`` blocks of time (this is
  the error of that network's own average; the coupling draw adds a
  seed-to-seed scatter of the same order that one network cannot show, so the
  simulation's error is, if anything, understated).

Both costs grow like 1/error^2 (DMFT: with the paths; simulation: with the
recorded steps, once past the burn-in), so the ratio at equal error is
``t_sim / (t_dmft * (e_dmft / e_sim)^2)`` with the simulation's burn-in
counted as spent. The agreement of the two means is printed too.

Run (about 2 minutes on 2 cores; ``--quick`` under 30 s)::

    python benchmarks/bench_dmft.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gatefield as gf
from gatefield import simulate
from gatefield._sampling import batch_means
from gatefield.cells import load_cell

PARAMS = {"g_h": 3.0}
N = 2000
SAMPLES = 2000
BURN_IN, STEPS, BLOCKS = 200, 400, 20


def run_dmft(samples: int) -> tuple:
    t0 = time.perf_counter()
    problem = gf.problems.DMFT(load_cell("gru"), PARAMS)
    result = gf.solve(problem, gf.solvers.PathSampling(samples=samples, seed=1), throw=False)
    h2 = result.moments["E[h^2]"]
    return time.perf_counter() - t0, h2.mean, h2.stderr, result.status.value


def run_simulation(n: int, burn_in: int, steps: int) -> tuple:
    t0 = time.perf_counter()
    cell = load_cell("gru")
    net = simulate.make_network(cell, n, 0, PARAMS)
    s = simulate.run_to_steady_state(net, simulate.initial_state(net, 0), burn_in)
    traj = simulate.trajectory(net, s, steps)[1:]  # (steps, m, N)
    series = np.mean(traj[:, 0, :] ** 2, axis=1)
    mean, error = batch_means(series, BLOCKS)
    return time.perf_counter() - t0, float(mean), float(error)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 paths and N = 500 (smoke test)")
    args = parser.parse_args(argv)
    samples, n = (500, 500) if args.quick else (SAMPLES, N)
    # Interleaved: simulation, DMFT, simulation, DMFT (load hits both alike).
    sims, dmfts = [], []
    for _ in range(1 if args.quick else 2):
        sims.append(run_simulation(n, BURN_IN, STEPS))
        dmfts.append(run_dmft(samples))
    t_sim = float(np.median([s[0] for s in sims]))
    t_dmft = float(np.median([d[0] for d in dmfts]))
    _, m_sim, e_sim = sims[-1]
    _, m_dmft, e_dmft, status = dmfts[-1]
    equal = t_dmft * (e_dmft / e_sim) ** 2
    print(f"GRU {PARAMS}: E[h^2]")
    print(f"  DMFT, {samples} paths ({status}): {m_dmft:.5f} +- {e_dmft:.5f} in {t_dmft:.1f} s")
    print(f"  simulation, N = {n}, {BURN_IN} + {STEPS} steps: {m_sim:.5f} +- {e_sim:.5f} in {t_sim:.1f} s")
    print(
        f"  difference {m_dmft - m_sim:+.5f} ({abs(m_dmft - m_sim) / math.hypot(e_dmft, e_sim):.1f} "
        "combined standard errors)"
    )
    print(f"  DMFT time at the simulation's error: {equal:.1f} s; ratio {t_sim / equal:.1f}x")
    if args.quick:
        print("(--quick: smoke test; the ratio is not the reported one)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
