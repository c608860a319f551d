"""The reset gate modulates the GRU's fixed-point complexity (issue 12, item 5).

The annealed Kac-Rice complexity ``Sigma`` of the built-in ``gru`` (the best
saddle of the action, docs/theory/10-complexity.md) against ``g_h`` for
``alpha_r`` = 0, 2, 5, 10, 20: a stronger reset gate turns the complexity on
at a smaller ``g_h``. Each curve is a continuation from ``g_h = 3`` down.

Runtime: about 2 minutes on 2 cores; ``--quick`` two curves on a coarse grid.
The landscape figures use their own network sizes, so ``--N`` and
``--seeds`` are not used.

Command (the same as ``gatefield figure reset-gate-complexity``)::

    python examples/figure_reset_gate_complexity.py --out reset-gate-complexity.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(
    N: int = 1000, seeds: int = 3, out: str = "reset-gate-complexity.png", quick: bool = False, jobs: int = 1
) -> dict:
    """The figure's curves and points; returns the plotted data."""
    data = make_figure("reset-gate-complexity", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "reset-gate-complexity", *sys.argv[1:]]))
