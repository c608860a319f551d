"""The rate network's maximal Lyapunov exponent against its gain: DMFT over QR.

Equations (the built-in ``rate``)::

    dx/dt = -x + g J tanh(x),    J_ij iid N(0, 1/N)

For g < 1 the network relaxes to x = 0 and the exponent is g - 1; for g > 1
it is chaotic (Sompolinsky, Crisanti and Sommers 1988). The theory curve is
the dynamical mean-field theory solved in Fourier space
(``GaussianClosureDMFT`` solved by ``FourierIteration``), its exponent from
the Schroedinger form of the linearized two-replica equations; the points
are finite-N networks, their exponent by the QR (Benettin) method with
fixed-step RK4 (``gatefield.simulate.lyapunov``), mean and standard error
over seeds.
The finite-N estimate sits under the theory and rises towards it with N (at
g = 2, mean over networks: 0.093, 0.104, 0.108, 0.108, 0.112 for N = 500,
1000, 2000, 4000, 8000, against 0.1125); ``lyapunov_finite_size.py``
extrapolates it in 1/N.

Runtime: about 1 minute for the theory curve, plus about 1 minute per network
at N = 1000 (3000 RK4 steps of dt = 0.1).

Command::

    python examples/lyapunov_rate.py --N 1000 --seeds 2 --out lyapunov-rate.png
"""

from __future__ import annotations

import argparse

import numpy as np
from matplotlib.figure import Figure

import gatefield as gf

#: Gains of the theory curve.
CURVE = tuple(float(g) for g in np.linspace(0.4, 3.0, 14))


def dmft_exponent(cell, g: float) -> float:
    """The DMFT's maximal Lyapunov exponent at gain ``g``: the Gaussian-closure
    DMFT solved in Fourier space, its exponent from the Schroedinger form."""
    problem = gf.problems.GaussianClosureDMFT(cell, {"g": float(g)})
    return gf.solve(problem, gf.solvers.FourierIteration(), throw=False).lyapunov


def main(
    N: int = 1000,
    seeds: int = 2,
    out: str = "lyapunov-rate.png",
    steps: int = 3000,
    gains=(0.5, 1.5, 2.0, 3.0),
    curve=CURVE,
) -> dict:
    # Parameters
    cell = gf.load_cell("rate")
    dt, burn_in = 0.1, 50.0

    # Theory: the DMFT exponent along the gain.
    theory = [dmft_exponent(cell, g) for g in curve]

    # Simulation: QR exponents of finite networks.
    points = []
    for g in gains:
        values = []
        for seed in range(seeds):
            net = gf.simulate.make_network(cell, N, seed, {"g": float(g)})
            s = gf.simulate.run_to_steady_state(net, gf.simulate.initial_state(net, seed), burn_in)
            values.append(gf.simulate.lyapunov(net, s, steps, burn_in=steps // 10, dt=dt).exponent)
        error = np.std(values, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        points.append((float(g), float(np.mean(values)), float(error)))

    # Compare
    at = {g: dmft_exponent(cell, g) for g, _, _ in points}
    for g, mean, error in points:
        print(f"g = {g:g}: DMFT {at[g]:.4f}, QR N = {N}: {mean:.4f} +- {error:.4f}")

    # Plot
    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.subplots()
    ax.plot(curve, theory, "-", label="DMFT (Fourier, Schroedinger form)")
    ax.errorbar(
        [p[0] for p in points],
        [p[1] for p in points],
        yerr=[p[2] for p in points],
        fmt="o",
        capsize=3,
        label=f"QR, N = {N}, {seeds} seeds",
    )
    ax.axhline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("gain g")
    ax.set_ylabel("maximal Lyapunov exponent (per unit time)")
    ax.set_title("rate network: chaos sets in at g = 1", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=150)
    return {"curve": list(curve), "theory": theory, "points": points, "theory_at_points": at, "figure": out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--N", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default="lyapunov-rate.png")
    args = parser.parse_args()
    main(args.N, args.seeds, args.out)
