"""The GRU update gate piles up slow modes as its gain grows (figure i).

The built-in ``gru``: ``h' = (1 - z) h + z h_tilde`` with ``z = sigmoid(alpha_z
(J_z @ h) + beta_z)``. Its Jacobian at a fixed point has per-unit part ``A =
1 - z``: units whose update gate is nearly shut sit near the slow point 1
and barely couple to the rest. The share of eigenvalues within 0.1 of 1
(the contour integral of the resolvent ``g`` around that circle) grows with
the gate gain ``alpha_z`` towards the step-gate limit, where the shut half of
the units is an atom at 1 of weight ``P(alpha_z eta_z + beta_z < 0)`` (1/2
here). Left: a stable fixed point (theory alone, finite-N networks relaxed to
their fixed points). Right: the chaotic state at ``g_h = 3`` on the plug-in
route (one simulated snapshot per network gives the prediction).

Runtime: several minutes at the default N = 1000 and 3 seeds (each point
relaxes a network and solves its eigenproblem; ``--jobs`` runs networks in
parallel); ``--quick`` draws only a few points.

Command (the same as ``gatefield figure gru-update-slow-modes``)::

    python examples/figure_gru_update_slow_modes.py --N 1000 --seeds 3 --out gru-update-slow-modes.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(
    N: int = 1000, seeds: int = 3, out: str = "gru-update-slow-modes.png", quick: bool = False, jobs: int = 1
) -> dict:
    """Theory curves and finite-N points; returns the plotted data."""
    data = make_figure("gru-update-slow-modes", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "gru-update-slow-modes", *sys.argv[1:]]))
