"""A large update-gate gain poises the GRU at marginal stability in a window of g_h (figure ii).

With ``alpha_z = 16`` the shut units pin the spectrum's edge at the slow
point 1 wherever the fixed point is non-zero (there ``eta_z`` is spread, so a
share of gates shut) and the rest of the spectrum stays inside the unit
circle: the spectral radius is 1 on a window of candidate gains ``g_h``. Below
it the only fixed point is ``h = 0``, where every gate sits at
``sigmoid(beta_z)`` and the radius is below 1; above it the bulk leaves the
unit circle. With ``alpha_z = 1`` the radius crosses 1 without lingering. The
finite-N fixed points are found with the update gate held at a constant 0.12
(a GRU's fixed points do not depend on it), at ``g_h = 3`` by relaxation and
at the other gains by Newton continuation of that branch; the Jacobian is
taken at the target gate.

Runtime: several minutes at the default N = 1000 and 3 seeds (each point
relaxes a network and solves its eigenproblem; ``--jobs`` runs networks in
parallel); ``--quick`` draws only a few points.

Command (the same as ``gatefield figure gru-marginal-stability``)::

    python examples/figure_gru_marginal_stability.py --N 1000 --seeds 3 --out gru-marginal-stability.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(
    N: int = 1000, seeds: int = 3, out: str = "gru-marginal-stability.png", quick: bool = False, jobs: int = 1
) -> dict:
    """Theory curves and finite-N points; returns the plotted data."""
    data = make_figure("gru-marginal-stability", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "gru-marginal-stability", *sys.argv[1:]]))
