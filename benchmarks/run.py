"""Run every benchmark in this folder and print their tables.

    python benchmarks/run.py [--quick]

``--quick`` is passed on to each benchmark (a smoke test, under a minute in
all); without it the full runs take about 4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_density  # noqa: E402
import bench_dmft  # noqa: E402
import bench_meanfield  # noqa: E402
import bench_phase  # noqa: E402
import bench_support  # noqa: E402

BENCHMARKS = {
    "meanfield": bench_meanfield.main,
    "support": bench_support.main,
    "density": bench_density.main,
    "dmft": bench_dmft.main,
    "phase": bench_phase.main,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=sorted(BENCHMARKS))
    args = parser.parse_args(argv)
    status = 0
    for name in args.only:
        print(f"== {name} ==")
        t0 = time.perf_counter()
        status |= BENCHMARKS[name](["--quick"] if args.quick else [])
        print(f"({name}: {time.perf_counter() - t0:.0f} s)\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
