"""Topological complexity decoupled from dynamical complexity (issue 12, item 5).

At ``alpha_r = 10`` the GRU has ``Sigma > 0`` from ``g_h`` about 1.5, while its
zero fixed point stays stable up to ``g_h = 1/sigmoid(beta_r) = 2``: a window
of exponentially many fixed points without chaos. The DMFT's Lyapunov
exponent is shown inside the window and beyond it.

Runtime: about 1 minute on 2 cores; ``--quick`` no DMFT.
The landscape figures use their own network sizes, so ``--N`` and
``--seeds`` are not used.

Command (the same as ``gatefield figure complexity-without-chaos``)::

    python examples/figure_complexity_without_chaos.py --out complexity-without-chaos.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(
    N: int = 1000, seeds: int = 3, out: str = "complexity-without-chaos.png", quick: bool = False, jobs: int = 1
) -> dict:
    """The figure's curves and points; returns the plotted data."""
    data = make_figure("complexity-without-chaos", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "complexity-without-chaos", *sys.argv[1:]]))
