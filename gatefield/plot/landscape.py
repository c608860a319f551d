"""The fixed-point landscape figures (:mod:`gatefield.validation.landscape`)."""

from __future__ import annotations

import numpy as np

from ._common import figure, save

__all__ = ["plot_landscape"]


def _curve(ax, curve, label, **style):
    g = np.asarray(curve["g_h"], float)
    s = np.array([np.nan if v is None else v for v in curve["sigma_saddle"]], float)
    order = np.argsort(g)
    ax.plot(g[order], s[order], label=label, **style)


def plot_landscape(path, data: dict):
    """One figure per landscape claim, drawn from :func:`make_landscape`'s data."""
    if "_diagram" in data:
        from .phase import draw_phase

        fig, ax = figure(6.0, 4.8)
        draw_phase(ax, data["_diagram"])
        ax.set_title(data["claim"], fontsize=8, wrap=True)
        return save(fig, path)
    fig, ax = figure(6.0, 4.2)
    if "curves" in data:
        for c in data["curves"]:
            _curve(ax, c, f"alpha_r = {c['alpha_r']:g}", lw=1.4)
        ax.set_ylabel("Sigma (annealed complexity, best saddle)")
    if "window" in data:
        lo, hi = data["window"]
        _curve(ax, data["curve"], "Sigma, alpha_r = 10", color="tab:orange", lw=1.6)
        if lo == lo and lo < hi:
            ax.axvspan(lo, hi, color="#fde0b2", alpha=0.7, label="Sigma > 0, no chaos")
        zero = data["zero_fixed_point_unstable_from"]
        ax.axvline(zero, color="tab:blue", ls="--", lw=1.2, label="zero FP unstable")
        if data.get("dynamical_onset") == data.get("dynamical_onset"):
            ax.axvline(data["dynamical_onset"], color="tab:red", lw=1.2, label="DMFT chaotic from here")
        ax.set_ylabel("Sigma")
        if data.get("dmft"):
            twin = ax.twinx()
            g = [r["g_h"] for r in data["dmft"]]
            lam = [0.0 if r["static"] else r["lyapunov"] for r in data["dmft"]]
            twin.plot(g, lam, "ks", mfc="none", label="DMFT Lyapunov exponent")
            twin.axhline(0.0, color="0.6", lw=0.6)
            twin.set_ylabel("maximal Lyapunov exponent (DMFT; 0 if static)")
            twin.legend(fontsize=7, loc="lower right")
    if "counts" in data:
        _curve(ax, data["curve"], f"Sigma, alpha_r = {data['counts']['alpha_r']:g}", color="k", lw=1.2)
        for k, N in enumerate(data["sizes"]):
            rows = [r for r in data["counts"]["points"] if r["N"] == N]
            gs = np.array([r["g_h"] for r in rows], float)
            rate = np.array([r["rate"] for r in rows])
            err = np.array([r["stderr"] / max(r["mean"], 1e-300) / N for r in rows])  # d log E / N
            ax.errorbar(gs + 0.02 * (k - 1), rate, yerr=err, fmt="o", ms=4, capsize=2, label=f"(1/N) log E[#], N = {N}")
        ax.set_ylabel("growth rate")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel("g_h")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(data["claim"], fontsize=8, wrap=True)
    return save(fig, path)
