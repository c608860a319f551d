"""The LSTM input and output gates set the spectral radius (figure v).

The input gate scales the candidate written into the cell, ``i g``; the
output gate scales what the cell shows, ``o tanh(c)``. Their biases move the
spectral radius: at a stable fixed point (``g_g = 1``, ``beta_g = 1``) and in
the chaotic state (``g_g = 3``, plug-in route).

Runtime: several minutes at the default N = 1000 and 3 seeds (each point
relaxes a network and solves its eigenproblem; ``--jobs`` runs networks in
parallel); ``--quick`` draws only a few points.

Command (the same as ``gatefield figure lstm-io-radius``)::

    python examples/figure_lstm_io_radius.py --N 1000 --seeds 3 --out lstm-io-radius.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(N: int = 1000, seeds: int = 3, out: str = "lstm-io-radius.png", quick: bool = False, jobs: int = 1) -> dict:
    """Theory curves and finite-N points; returns the plotted data."""
    data = make_figure("lstm-io-radius", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "lstm-io-radius", *sys.argv[1:]]))
