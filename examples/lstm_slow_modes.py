"""LSTM with a large forget bias: a stable fixed point and slow modes piling up near 1.

Equations (the built-in ``lstm``), couplings ``J_x`` with iid N(0, 1/N)
entries, state ``(c, h)``::

    f, i, o = sigmoid(alpha_x (J_x @ h) + beta_x)      x = f, i, o
    g       = tanh(g_g (J_g @ h) + beta_g)
    c'      = f c + i g
    h'      = o tanh(c')

With forget bias ``beta_f = 3`` (``f`` about 0.95), ``g_g = 1`` and
``beta_g = 1`` the mean-field equations ``q = E[h*^2]`` (one unknown: all
four order parameters are the same integral) have a stable solution. Each
unit's cell state feeds back on itself with weight ``f``, so the Jacobian
has, besides a bulk around 0, a lens of slow modes spread along the per-unit
forget values just below 1: half of the 2N eigenvalues sit in it. The example
traces that support at the fixed point (theory alone), relaxes an N-unit
network to its fixed point and compares its eigenvalues with the support.

Runtime: about 50 s at the default N = 1000 (the mean-field solve and the
support take about 15 s; relaxing the network, its 2N x 2N eigenproblem and
the support test of 2N eigenvalues the rest).

Command::

    python examples/lstm_slow_modes.py --N 1000 --out lstm_slow_modes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import gatefield as gf
from gatefield.numerics.spectrum import inside_support
from gatefield.theory import fixed_point

#: Real parts above this count as slow modes (the lens starts near 0.86; the
#: bulk around 0 ends near 0.23).
SLOW = 0.8


def main(N: int = 1000, out: str | Path = "lstm_slow_modes", seed: int = 0) -> dict:
    """Run the recipe; write ``lstm_slow_modes.png`` into ``out`` and return the numbers.

    Parameters
    ----------
    N : int
        Units in the simulated network (its Jacobian is 2N x 2N).
    out : str or Path
        Output folder (created if missing).
    seed : int
        Coupling and initial-state seed.

    Returns
    -------
    dict
        ``q``, ``stable``, ``spectral_radius``, ``lens`` (smallest and
        largest real part of the slow-mode components of the support),
        ``converged``, ``max_abs_eigenvalue``, ``slow_fraction`` (share of
        eigenvalues with real part above ``SLOW``), ``outside_fraction``,
        ``figure``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # Parameters
    cell = gf.load_cell("lstm")
    parameters = {"beta_f": 3.0, "g_g": 1.0, "beta_g": 1.0}
    # h = o tanh(c) with o in (0, 1), so |h| < 1 and every q lies in [0, 1].
    q_max = 1.0

    # Theory
    fixed = fixed_point(cell)
    for state, value in fixed.solution:
        print(f"{state}* = {value}")

    # Numerics
    result = gf.solve(gf.problems.MeanField(cell, parameters), gf.solvers.AllRoots(q_max=q_max))
    # The site distribution at each solution; its support decides stability.
    every = [gf.sites.from_fixed_point(result, solution=k) for k in range(len(result.roots))]
    stable = [sites for sites in every if sites.support.stable]
    if not stable:
        raise RuntimeError("no stable mean-field solution; this recipe needs one")
    sites = stable[-1]
    q = sites.order_parameters["J_f"]
    support = sites.support
    # The slow-mode lens is the part of the support away from the bulk at 0.
    # Whiskers along the real axis hold the units behind a nearly shut gate,
    # which keep their own eigenvalue (support.whiskers, with their share).
    lens_parts = [c for c in support.components if c.real.min() > 0.5]
    lens = (min(c.real.min() for c in lens_parts), max(c.real.max() for c in lens_parts))
    print(
        f"mean field: q = {q:.6f}; {support.summary()}; slow-mode lens on Re lambda in [{lens[0]:.3f}, {lens[1]:.3f}]"
    )

    # Simulation
    net = gf.simulate.make_network(cell, N, seed, result.parameters)
    fp = gf.simulate.find_fixed_point(net, gf.simulate.initial_state(net, seed))
    eigenvalues = np.linalg.eigvals(gf.simulate.jacobian(net, fp.state))

    # Compare
    # Finite-N edge eigenvalues spill past the limiting support by O(N^-1/2)
    # (about 1/sqrt(2 pi N) of a Ginibre spectrum: 1% at N = 1600).
    outside = float(np.mean(~inside_support(sites, eigenvalues, N)))
    slow_fraction = float(np.mean(eigenvalues.real > SLOW))
    h_row = [str(s) for s in cell.states].index("h")
    simulated_q = float(np.mean(fp.state[h_row] ** 2))  # q = E[h*^2]
    print(
        f"N = {N}: fixed point {'found' if fp.converged else 'NOT found'} (residual "
        f"{fp.residual:.1e}); <h^2> = {simulated_q:.4f} against q = {q:.4f}"
    )
    print(
        f"  max |lambda| = {np.max(np.abs(eigenvalues)):.4f}; {slow_fraction:.1%} of the eigenvalues "
        f"have Re lambda > {SLOW}; {outside:.2%} lie outside the predicted support"
    )

    # Plot
    fig = Figure(figsize=(10.0, 4.6))
    full, zoom = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.2]})
    t = np.linspace(0.0, 2 * np.pi, 400)
    for ax in (full, zoom):
        ax.plot(
            eigenvalues.real,
            eigenvalues.imag,
            ".",
            ms=2.5,
            color="0.35",
            alpha=0.6,
            label=f"eigenvalues, N = {N}",
        )
        for k, curve in enumerate(support.components):
            ax.plot(curve.real, curve.imag, "-", color="C3", lw=1.3, label=None if k else "predicted support")
        ax.plot(np.cos(t), np.sin(t), ":", color="C0", lw=0.8, label="|lambda| = 1")
        ax.set_xlabel("Re lambda")
    full.set_ylabel("Im lambda")
    full.set_aspect("equal", adjustable="datalim")
    full.axvspan(SLOW, 1.0, color="C2", alpha=0.12, lw=0)
    full.set_title("bulk near 0, slow modes near 1 (shaded)", fontsize=9)
    full.legend(loc="lower left", fontsize=7, framealpha=0.85)
    zoom.set_xlim(SLOW, 1.0)
    zoom.set_ylim(-0.06, 0.06)
    zoom.set_title(f"zoom: {slow_fraction:.0%} of the eigenvalues in the lens", fontsize=9)
    fig.suptitle("LSTM, beta_f = 3, g_g = 1, beta_g = 1: stable fixed point", fontsize=10)
    fig.tight_layout()
    figure = out / "lstm_slow_modes.png"
    fig.savefig(figure, dpi=150)
    print(f"wrote {figure}")

    return {
        "q": q,
        "simulated_q": simulated_q,
        "stable": bool(sites.support.stable),
        "spectral_radius": support.spectral_radius,
        "bulk_radius": support.bulk_radius,
        "lens": lens,
        "converged": bool(fp.converged),
        "max_abs_eigenvalue": float(np.max(np.abs(eigenvalues))),
        "slow_fraction": slow_fraction,
        "outside_fraction": outside,
        "figure": figure,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--N", type=int, default=1000, help="units in the network (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="coupling and initial-state seed")
    parser.add_argument("--out", default="lstm_slow_modes", help="output folder (default lstm_slow_modes)")
    args = parser.parse_args()
    main(N=args.N, out=args.out, seed=args.seed)
