"""The GRU reset gate sets the spectral radius (figure iii).

The reset gate multiplies the state inside the candidate,
``h_tilde = tanh(g_h J_h @ (r h) + beta_h)``: its bias ``beta_r`` scales the
effective gain, and the spectral radius follows it through 1. Left: the
fixed point of largest ``q`` at ``g_h = 2.5`` (the zero one below ``beta_r``
of about -0.5); finite-N fixed points exist only where it is stable, so the
points stop where the curve crosses 1. Right: the chaotic state at
``g_h = 3`` on the plug-in route, across the whole range.

Runtime: several minutes at the default N = 1000 and 3 seeds (each point
relaxes a network and solves its eigenproblem; ``--jobs`` runs networks in
parallel); ``--quick`` draws only a few points.

Command (the same as ``gatefield figure gru-reset-radius``)::

    python examples/figure_gru_reset_radius.py --N 1000 --seeds 3 --out gru-reset-radius.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(N: int = 1000, seeds: int = 3, out: str = "gru-reset-radius.png", quick: bool = False, jobs: int = 1) -> dict:
    """Theory curves and finite-N points; returns the plotted data."""
    data = make_figure("gru-reset-radius", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "gru-reset-radius", *sys.argv[1:]]))
