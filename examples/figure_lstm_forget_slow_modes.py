"""The LSTM forget gate piles up slow modes as its bias grows (figure iv).

The built-in ``lstm``: ``c' = f c + i g``, ``h' = o tanh(c')``. Each unit's
cell state feeds back on itself with weight ``f``, so a forget gate near 1
puts eigenvalues near the slow point 1. The share within 0.1 of 1 grows with
the forget bias ``beta_f``. Left: a stable fixed point (``g_g = 1``,
``beta_g = 1``) with the step-gate limit (shut input gate with open forget
gate: an atom at 1); right: the chaotic state at ``g_g = 3`` on the plug-in
route.

Runtime: several minutes at the default N = 1000 and 3 seeds (each point
relaxes a network and solves its eigenproblem; ``--jobs`` runs networks in
parallel); ``--quick`` draws only a few points.

Command (the same as ``gatefield figure lstm-forget-slow-modes``)::

    python examples/figure_lstm_forget_slow_modes.py --N 1000 --seeds 3 --out lstm-forget-slow-modes.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(
    N: int = 1000, seeds: int = 3, out: str = "lstm-forget-slow-modes.png", quick: bool = False, jobs: int = 1
) -> dict:
    """Theory curves and finite-N points; returns the plotted data."""
    data = make_figure("lstm-forget-slow-modes", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "lstm-forget-slow-modes", *sys.argv[1:]]))
