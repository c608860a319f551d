"""The GRU phase diagram in (g_h, alpha_r) (issue 12, item 5).

A 40 x 40 grid by continuation (docs/theory/11-phase.md): the zero fixed
point's stability line, the mean-field branches, the complexity onset
``Sigma = 0`` (bisected in each cell) and the chaos line (no stable fixed
point), with two DMFT/Lyapunov spot checks.

Runtime: about 2-3 minutes on 2 cores (``--jobs 2``); ``--quick`` a 10 x 10 grid.
The landscape figures use their own network sizes, so ``--N`` and
``--seeds`` are not used.

Command (the same as ``gatefield figure gru-phase-diagram``)::

    python examples/figure_gru_phase_diagram.py --out gru-phase-diagram.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(N: int = 1000, seeds: int = 3, out: str = "gru-phase-diagram.png", quick: bool = False, jobs: int = 1) -> dict:
    """The figure's curves and points; returns the plotted data."""
    data = make_figure("gru-phase-diagram", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "gru-phase-diagram", *sys.argv[1:]]))
