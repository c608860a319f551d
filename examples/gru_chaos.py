"""GRU in its chaotic state: no stable fixed point, so the plug-in support.

Equations (the built-in ``gru``, Cho et al. 2014 v3; the convention of
Krishnamurthy, Can and Schwab 2022), couplings ``J_x`` with iid N(0, 1/N)
entries::

    z       = sigmoid(alpha_z (J_z @ h) + beta_z)
    r       = sigmoid(alpha_r (J_r @ h) + beta_r)
    h_tilde = tanh(g_h (J_h @ (r h)) + beta_h)
    h'      = (1 - z) h + z h_tilde

At ``g_h = 3`` the fixed-point mean-field equations
``q_z = q_r = E[h*^2]``, ``q_h = E[(r h*)^2]`` with ``h* = tanh(g_h eta_h)``
have two solutions, ``q = 0`` and ``q > 0``, and the predicted support of the
Jacobian reaches outside the unit disc at both: no fixed point is stable and
the network is chaotic. The spectrum of the Jacobian at one time is then
predicted from the simulated units themselves (the **plug-in** route:
the one-time law of the units is borrowed from the simulation) and compared
with the eigenvalues of the same N-unit network.

Runtime: about 30 s at the default N = 1000 (the mean-field solve and its
two supports take about 10 s; the plug-in support and the eigenvalues the
rest).

Command::

    python examples/gru_chaos.py --N 1000 --out gru_chaos
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import gatefield as gf
from gatefield.numerics.spectrum import edge_prediction, inside_support
from gatefield.validation import eigenvalues as jacobian_eigenvalues


def main(N: int = 1000, out: str | Path = "gru_chaos", seed: int = 0) -> dict:
    """Run the recipe; write ``gru_chaos.png`` into ``out`` and return the numbers.

    Parameters
    ----------
    N : int
        Units in the simulated network.
    out : str or Path
        Output folder (created if missing).
    seed : int
        Coupling and initial-state seed of the simulation.

    Returns
    -------
    dict
        ``solutions`` (q_h of each mean-field solution), ``stable`` (each
        solution's verdict), ``fixed_point_radius`` (largest predicted radius
        over the solutions), ``plugin_radius``, ``max_abs_eigenvalue``,
        ``radius_tolerance``, ``outside_fraction``, ``figure``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # Parameters
    cell = gf.load_cell("gru")
    parameters = {"g_h": 3.0}  # the others keep their defaults: unit gate gains, zero biases
    # |h| <= 1 (a convex mix of tanh values), so every q lies in [0, 1].
    q_max = 1.0

    # Theory
    equations = gf.mean_field_equations(cell)
    print("mean-field equations (eta_a ~ N(0, q_a)):")
    for q, integrand in zip(equations.order_parameters, equations.integrands, strict=True):
        print(f"  {q} = E[{integrand}]")

    # Numerics
    result = gf.solve(gf.problems.MeanField(cell, parameters), gf.solvers.AllRoots(q_max=q_max))
    # The support of the Jacobian at each solution (the fixed-point route):
    # a solution is stable if that support lies inside the unit disc.
    fixed = [gf.sites.from_fixed_point(result, solution=k) for k in range(len(result.roots))]
    for k, sites in enumerate(fixed):
        print(f"solution {k}: q_h = {sites.order_parameters['J_h']:.6f}; {sites.support.summary()}")
    nonzero = fixed[-1]

    # Simulation
    # One snapshot after 500 steps of burn-in; the support is traced from the
    # N simulated units and the Jacobian's eigenvalues are computed there.
    snap = gf.simulate.snapshot(cell, parameters, N=N, seed=seed)
    plugin = gf.sites.from_snapshot(snap)
    eigenvalues = jacobian_eigenvalues(snap.network, snap.state)

    # Compare
    # The largest |eigenvalue| of an N-unit network is predicted with a band
    # (edge_prediction: the bulk's edge law and the largest own eigenvalue of
    # units beyond the bulk); validate() holds each seed to its 99% band.
    support = plugin.support
    radius = support.spectral_radius
    edge = edge_prediction(plugin, N, 0.99)
    max_abs = float(np.max(np.abs(eigenvalues)))
    outside = float(np.mean(~inside_support(plugin, eigenvalues, N)))
    print(
        f"plug-in support: {support.summary()}; finite N = {N}: max |lambda| "
        f"{max_abs:.4f} (predicted {edge.median:.4f}, 99% band {edge.low:.4f} to {edge.high:.4f}); "
        f"{outside:.2%} of the eigenvalues outside the support"
    )

    # Plot
    fig = Figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    ax.plot(
        eigenvalues.real,
        eigenvalues.imag,
        ".",
        ms=2.0,
        color="0.35",
        alpha=0.6,
        label=f"eigenvalues, N = {N}",
    )
    for k, curve in enumerate(support.components):
        ax.plot(curve.real, curve.imag, "-", color="C3", lw=1.5, label=None if k else "plug-in support")
    for k, curve in enumerate(nonzero.support.components):
        ax.plot(
            curve.real,
            curve.imag,
            "--",
            color="C1",
            lw=1.0,
            label=None if k else "support at the q > 0 fixed point (unstable)",
        )
    t = np.linspace(0.0, 2 * np.pi, 400)
    ax.plot(np.cos(t), np.sin(t), ":", color="C0", lw=0.8, label="|lambda| = 1")
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"GRU, g_h = {parameters['g_h']:g}: chaotic state", fontsize=10)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    fig.tight_layout()
    figure = out / "gru_chaos.png"
    fig.savefig(figure, dpi=150)
    print(f"wrote {figure}")

    return {
        "solutions": [sites.order_parameters["J_h"] for sites in fixed],
        "stable": [bool(sites.support.stable) for sites in fixed],
        "fixed_point_radius": max(sites.support.spectral_radius for sites in fixed),
        "plugin_radius": radius,
        "max_abs_eigenvalue": max_abs,
        "edge_band": (edge.low, edge.high),
        "outside_fraction": outside,
        "figure": figure,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--N", type=int, default=1000, help="units in the network (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="coupling and initial-state seed")
    parser.add_argument("--out", default="gru_chaos", help="output folder (default gru_chaos)")
    args = parser.parse_args()
    main(N=args.N, out=args.out, seed=args.seed)
