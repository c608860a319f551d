"""Fixed points counted in finite GRU networks over the complexity curve (issue 12, item 5).

Every fixed point of networks of N = 8, 12, 16 GRU units (multi-start Newton
with a completeness estimate, gatefield.simulate.counting) at ``alpha_r = 10``
and ``g_h`` = 1.8, 2.4, 3; ``(1/N) log E[#]`` against ``Sigma`` (at these N the
finite-size prefactor ``C N^a`` still shows).

Runtime: several minutes on 2 cores; ``--quick`` two sizes, two g_h.
The landscape figures use their own network sizes, so ``--N`` and
``--seeds`` are not used.

Command (the same as ``gatefield figure finite-n-counts``)::

    python examples/figure_finite_n_counts.py --out finite-n-counts.png
"""

from __future__ import annotations

import sys

import gatefield.cli
from gatefield.validation import figure_table, make_figure


def main(N: int = 1000, seeds: int = 3, out: str = "finite-n-counts.png", quick: bool = False, jobs: int = 1) -> dict:
    """The figure's curves and points; returns the plotted data."""
    data = make_figure("finite-n-counts", N=N, seeds=seeds, out=out, quick=quick, jobs=jobs)
    print(figure_table(data))
    return data


if __name__ == "__main__":
    # `gatefield figure NAME` takes the same --N --seeds --jobs --quick --out and calls make_figure.
    sys.exit(gatefield.cli.main(["figure", "finite-n-counts", *sys.argv[1:]]))
