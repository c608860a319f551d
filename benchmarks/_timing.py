"""Timing shared by the benchmark scripts."""

import statistics
import time


def interleaved(methods: dict, reps: int) -> dict:
    """Median wall time of each method, repetitions interleaved (rotating the
    order) so that load on a shared machine hits all methods alike."""
    times = {name: [] for name in methods}
    names = list(methods)
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}
