"""The fixed-point landscape's claims as figures, and finite-N points over a phase diagram.

Figures (``gatefield figure NAME``, listed with the spectral ones):

- ``reset-gate-complexity``: the reset gate modulates the complexity,
  ``Sigma`` against ``g_h`` for several ``alpha_r``;
- ``gru-phase-diagram``: the GRU in ``(g_h, alpha_r)`` with the complexity
  onset, the mean-field branches and the chaos line;
- ``complexity-without-chaos``: topological complexity decoupled from
  dynamical complexity: a window of ``g_h`` with ``Sigma > 0`` and a stable
  zero fixed point, with the DMFT's Lyapunov exponent on either side;
- ``finite-n-counts``: fixed points counted in finite networks,
  ``(1/N) log E[#]``, over the ``Sigma`` curves.

These figures use their own network sizes (``COUNT_SIZES``, small: every
fixed point of a network is found by multi-start Newton), not the
spectral figures' ``N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from .._json import dumps
from ..cells import load_cell
from ..errors import GatefieldError
from ..plot._common import check_path

__all__ = ["LandscapeFigure", "LANDSCAPE", "make_landscape", "landscape_table", "finite_n_points"]

#: The reset-gate gains of the complexity curves.
ALPHA_R = (0.0, 2.0, 5.0, 10.0, 20.0)
#: g_h of the complexity curves (a continuation from the top down).
G_H = tuple(float(v) for v in np.linspace(3.0, 1.0, 41))
#: Network sizes of the finite-N counts, and the g_h where they are made
#: (alpha_r = 10): below, inside and above the window of complexity without chaos.
COUNT_SIZES = (8, 12, 16)
COUNT_G_H = (1.8, 2.4, 3.0)
COUNT_ALPHA_R = 10.0
#: Newton starts per network (the completeness estimate says whether enough).
COUNT_STARTS = 600
#: DMFT points of the complexity-without-chaos figure (about 20 s each).
WINDOW_DMFT_POINTS = 6
#: QR Lyapunov run of a finite network: measured and burn-in steps.
QR_STEPS, QR_BURN_IN = 2000, 500


@dataclass(frozen=True)
class LandscapeFigure:
    """A fixed-point landscape claim: its name, the sentence it shows and how it is computed."""

    name: str
    claim: str
    kind: str
    #: No spectral panels: listed among the FIGURES, computed by :func:`make_landscape`.
    panels: tuple = ()


LANDSCAPE = {
    f.name: f
    for f in (
        LandscapeFigure(
            "reset-gate-complexity",
            "the reset gate modulates the number of fixed points: the GRU's annealed complexity Sigma "
            "against g_h for several alpha_r, turning on at a smaller g_h as alpha_r grows",
            "sigma-curves",
        ),
        LandscapeFigure(
            "gru-phase-diagram",
            "the GRU phase diagram in (g_h, alpha_r): complexity onset, mean-field onset and chaos line",
            "phase",
        ),
        LandscapeFigure(
            "complexity-without-chaos",
            "topological complexity is decoupled from dynamical complexity: exponentially many fixed points "
            "beside a stable zero fixed point, before the chaos line",
            "window",
        ),
        LandscapeFigure(
            "finite-n-counts",
            "fixed points counted in finite GRU networks (N = 8-16) grow with g_h as the annealed complexity "
            "does: (1/N) log E[#] over the Sigma curve, where the prefactor C N^a still shows",
            "counts",
        ),
    )
}


# -- finite-N points ---------------------------------------------------------------


def _network_point(cell, params: dict, N: int, seed: int, starts: int = COUNT_STARTS) -> dict:
    from ..simulate import initial_state, make_network
    from ..simulate.counting import count_fixed_points
    from ..simulate.lyapunov import lyapunov

    net = make_network(cell, N, seed, params)
    found = count_fixed_points(net, seed=seed, min_starts=starts)
    ly = lyapunov(net, initial_state(net, seed + 1), QR_STEPS, burn_in=QR_BURN_IN)
    return {
        "count": found.count,
        "stable": int(np.sum(found.stable)),
        "missing": float(found.missing),
        "lyapunov": float(ly.exponent),
    }


def finite_n_points(cell, diagram, N: int, points: int = 4, seeds: int = 2, seed: int = 0, progress=None) -> list:
    """Fixed-point counts and QR Lyapunov exponents of ``N``-unit networks at
    ``points`` grid points of ``diagram`` near its chaos line.

    Returns
    -------
    list of dict
        Per point: the parameters, the diagram's label, the mean count and
        ``exp(N Sigma)`` beside it, the share of networks with a stable fixed
        point, the mean QR exponent, ``agrees``: (no network has a stable
        fixed point and the exponent is positive) equals (the label is chaos).
    """
    from ..numerics.phase import check_points

    N = _checks.count(N, "N", 2)
    seeds = _checks.count(seeds, "seeds", 1)
    out = []
    where = check_points(diagram, points)
    for n, (i, j) in enumerate(where):
        params = diagram.params_at(i, j)
        nets = [_network_point(cell, params, N, seed + k) for k in range(seeds)]
        counts = np.array([r["count"] for r in nets], float)
        stable_share = float(np.mean([r["stable"] > 0 for r in nets]))
        exponent = float(np.mean([r["lyapunov"] for r in nets]))
        sigma = float(diagram.maps["sigma"][i, j])
        chaotic = stable_share == 0 and exponent > 0
        out.append(
            {
                "kind": "finite-N",
                diagram.names[0]: params[diagram.names[0]],
                diagram.names[1]: params[diagram.names[1]],
                "label": diagram.label(i, j),
                "N": N,
                "networks": nets,
                "mean_count": float(counts.mean()),
                "theory_count": math.exp(N * sigma) if math.isfinite(sigma) else float("nan"),
                "stable_share": stable_share,
                "lyapunov": exponent,
                "agrees": bool(chaotic == (diagram.maps["region"][i, j] == 3)),
            }
        )
        if progress is not None:
            progress(n + 1, len(where))
    return out


# -- the figures ------------------------------------------------------------------------


def _sigma_curves(cell, alphas, values, progress=None) -> list:
    from ..numerics.complexity import complexity_sweep

    out = []
    for k, alpha in enumerate(alphas):
        results = complexity_sweep(cell, "g_h", values, {"alpha_r": float(alpha)})
        sigma = [r.saddles[0].sigma if r.saddles else float("nan") for r in results]
        out.append({"alpha_r": float(alpha), "g_h": list(values), "sigma_saddle": sigma})
        if progress is not None:
            progress(k + 1, len(alphas))
    return out


def _onset_of(curve) -> float:
    """Smallest g_h above which the curve's best saddle stays positive (grid resolution)."""
    g, s = np.asarray(curve["g_h"]), np.asarray(curve["sigma_saddle"], float)
    order = np.argsort(g)
    g, s = g[order], s[order]
    positive = np.isfinite(s) & (s > 0)
    if not positive[-1]:
        return float("nan")
    k = len(g) - 1
    while k > 0 and positive[k - 1]:
        k -= 1
    return float(g[k])


def _counts(cell, quick: bool, progress=None) -> dict:
    sizes = COUNT_SIZES[:2] if quick else COUNT_SIZES
    gs = COUNT_G_H[1:] if quick else COUNT_G_H
    seeds = 2 if quick else 4
    rows = []
    total, done = len(sizes) * len(gs) * seeds, 0
    for g in gs:
        params = {"g_h": g, "alpha_r": COUNT_ALPHA_R}
        for N in sizes:
            nets = []
            for s in range(seeds):
                nets.append(_network_point(cell, params, N, s, starts=300 if quick else COUNT_STARTS))
                done += 1
                if progress is not None:
                    progress(done, total)
            counts = np.array([r["count"] for r in nets], float)
            mean = float(counts.mean())
            err = float(counts.std(ddof=1) / math.sqrt(len(counts)))
            rows.append({"g_h": g, "N": N, "mean": mean, "stderr": err, "rate": math.log(mean) / N, "networks": nets})
    return {"alpha_r": COUNT_ALPHA_R, "seeds": seeds, "points": rows}


def make_landscape(name: str, out=None, jobs: int = 1, quick: bool = False, progress=None) -> dict:
    """Compute one landscape figure, plot it to ``out`` (and its data beside it as .json)."""
    if name not in LANDSCAPE:
        raise GatefieldError(f"unknown landscape figure {name!r}; choose from {', '.join(LANDSCAPE)}")
    jobs = _checks.count(jobs, "jobs", 1)
    if out is not None:
        out = check_path(out)
    figure = LANDSCAPE[name]
    cell = load_cell("gru")
    data: dict = {"figure": name, "claim": figure.claim, "cell": "gru", "landscape": figure.kind, "panels": []}
    values = tuple(G_H[::4]) if quick else G_H
    if figure.kind == "sigma-curves":
        alphas = (ALPHA_R[0], ALPHA_R[-1]) if quick else ALPHA_R
        data["curves"] = _sigma_curves(cell, alphas, values, progress)
        data["onsets"] = {str(c["alpha_r"]): _onset_of(c) for c in data["curves"]}
    elif figure.kind == "phase":
        from ..numerics.phase import chaos_checks, phase_diagram

        n = 10 if quick else 40
        d = phase_diagram(
            cell, {"g_h": np.linspace(0.5, 3.0, n), "alpha_r": np.linspace(0.0, 20.0, n)}, jobs=jobs, progress=progress
        )
        from dataclasses import replace

        d = replace(d, checks=chaos_checks(cell, d, 0 if quick else 2))
        data["diagram"] = d.to_json()
        data["_diagram"] = d
    elif figure.kind == "window":
        from ..numerics.phase import REGIONS

        alpha = 10.0
        (curve,) = _sigma_curves(cell, (alpha,), values, progress)
        data["curve"] = curve
        chaos_at = 1.0 / (1.0 / (1.0 + math.exp(-cell.defaults["beta_r"])))  # zero FP: g_h r = 1
        data["zero_fixed_point_unstable_from"] = chaos_at
        data["onset"] = _onset_of(curve)
        # The DMFT from a large start along g_h: where its exponent turns positive is
        # the dynamical onset, which the reset gate can move below the zero fixed
        # point's instability (a chaotic attractor beside the stable fixed point).
        lo = data["onset"] if data["onset"] == data["onset"] else 1.5
        gs = () if quick else tuple(float(g) for g in np.linspace(lo, chaos_at + 0.2, WINDOW_DMFT_POINTS))
        data["dmft"] = _dmft_points(cell, alpha, gs)
        chaotic = [r["g_h"] for r in data["dmft"] if not r["static"] and r["lyapunov"] > 0]
        data["dynamical_onset"] = min(chaotic, default=float("nan"))
        top = min(chaos_at, data["dynamical_onset"]) if chaotic else chaos_at
        data["window"] = [data["onset"], top]
        data["regions"] = REGIONS
    else:
        data["counts"] = _counts(cell, quick, progress)
        data["curve"] = _sigma_curves(cell, (COUNT_ALPHA_R,), values)[0]
        data["sizes"] = list(COUNT_SIZES[:2] if quick else COUNT_SIZES)
    data["quick"] = quick
    if out is not None:
        from ..plot.landscape import plot_landscape

        plot_landscape(out, data)
        clean = {k: v for k, v in data.items() if not k.startswith("_")}
        out.with_suffix(".json").write_text(dumps(clean) + "\n")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _dmft_points(cell, alpha: float, gs) -> list:
    from ..numerics.phase.checks import DMFT_ITERATIONS, DMFT_SAMPLES
    from ..numerics.problems import DMFT, TangentDMFT
    from ..numerics.solve import solve
    from ..numerics.solvers import PathSampling, TangentSampling

    rows = []
    for g in gs:
        params = {"g_h": float(g), "alpha_r": alpha}
        sampling = PathSampling(samples=DMFT_SAMPLES, iterations=DMFT_ITERATIONS, start="large")
        state = solve(DMFT(cell, params), sampling, throw=False)
        row = {"g_h": float(g), "alpha_r": alpha, "static": bool(state.static), "lyapunov": float("nan")}
        if not state.static:
            ly = solve(TangentDMFT(cell, params, state=state), TangentSampling(), throw=False)
            row["lyapunov"], row["lyapunov_stderr"] = float(ly.exponent.mean), float(ly.exponent.stderr)
        rows.append(row)
    return rows


def landscape_table(data: dict) -> str:
    """A landscape figure's numbers as text."""
    lines = [f"{data['figure']}: {data['claim']}"]
    if "curves" in data:
        for c in data["curves"]:
            top = max((s for s in c["sigma_saddle"] if s is not None and s == s), default=float("nan"))
            lines.append(
                f"  alpha_r = {c['alpha_r']:g}: Sigma > 0 from g_h = {data['onsets'][str(c['alpha_r'])]:.3f} "
                f"(grid), Sigma(g_h = {max(c['g_h']):g}) = {top:.4f}"
            )
    if "diagram" in data:
        from ..numerics.phase import REGIONS

        region = np.asarray(data["diagram"]["maps"]["region"], float)
        for code, label in REGIONS.items():
            lines.append(f"  {label}: {np.mean(region == code):.1%} of the grid")
        lines.append(f"  complexity onset points: {len(data['diagram']['onset'])}")
        for c in data["diagram"]["checks"]:
            lines.append(
                f"  DMFT at g_h = {c['g_h']:.3g}, alpha_r = {c['alpha_r']:.3g} [{c['label']}]: "
                f"Lyapunov {c['lyapunov']:.3g} ({'agrees' if c['agrees'] else 'DISAGREES'})"
            )
    if "window" in data:
        lo, hi = data["window"]
        lines.append(
            f"  alpha_r = 10: Sigma > 0 from g_h = {lo:.3f}; the zero fixed point is stable up to "
            f"{data['zero_fixed_point_unstable_from']:.3f}; the DMFT is chaotic from g_h = "
            f"{data['dynamical_onset']:.3f} (first positive exponent scanned): no chaos in [{lo:.3f}, {hi:.3f})"
        )
        for r in data["dmft"]:
            lines.append(
                f"  DMFT at g_h = {r['g_h']:.3g}: {'static' if r['static'] else 'time-dependent'}, "
                f"Lyapunov {r['lyapunov']:.3g}"
            )
    if "counts" in data:
        for r in data["counts"]["points"]:
            lines.append(
                f"  g_h = {r['g_h']:g}, N = {r['N']}: E[#] = {r['mean']:.3g} +- {r['stderr']:.2g}, "
                f"(1/N) log E[#] = {r['rate']:.4f}"
            )
    return "\n".join(lines)
