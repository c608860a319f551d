"""A claim's figure: theory curves over finite-N points."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..validation.claims import LABELS
from ._common import figure as _figure
from ._common import save

__all__ = ["plot_claim"]


def plot_claim(figure, data: dict, path) -> Path:
    """One panel per panel of the claim: theory curves, finite-N points with
    error bars, marginal-stability windows and step-gate limits."""
    n = len(data["panels"])
    fig, axes = _figure(4.6 * n, 3.9, cols=n)
    for ax, entry in zip(axes, data["panels"]):
        for s, series in enumerate(entry["series"]):
            color = f"C{s}"
            label = series["label"]
            curve = series["theory"]
            if curve:
                x = [c["value"] for c in curve]
                ax.plot(x, [c["theory"] for c in curve], "-", color=color, label=f"theory {label}".strip())
                if all("low" in c for c in curve):  # the band of the finite-N edge, and the bulk alone
                    ax.fill_between(
                        x, [c["low"] for c in curve], [c["high"] for c in curve], color=color, alpha=0.15, lw=0
                    )
                    ax.plot(
                        x, [c["bulk_radius"] for c in curve], ":", color=color, lw=1.0, label=f"bulk {label}".strip()
                    )
                for k, (lo, hi) in enumerate(series.get("marginal_window", [])):
                    ax.axvspan(
                        lo,
                        hi,
                        color=color,
                        alpha=0.12,
                        lw=0,
                        label=None if k else f"marginal: edge at N within 1e-3 of 1 {label}".strip(),
                    )
                if any("limit" in c for c in curve):
                    ax.plot(
                        x,
                        [c.get("limit", np.nan) for c in curve],
                        ":",
                        color=color,
                        label="step-gate limit (atom at the slow point)",
                    )
            pts = [p for p in series["points"] if "simulation" in p]
            if pts:
                xs = [p["value"] for p in pts]
                if not curve:  # plug-in: theory from each snapshot, at the simulated values
                    ax.plot(
                        xs,
                        [p["theory"] for p in pts],
                        "s-",
                        color=color,
                        mfc="none",
                        label=f"theory {label} (plug-in)".strip(),
                    )
                ax.errorbar(
                    xs,
                    [p["simulation"] for p in pts],
                    yerr=[p["error"] for p in pts],
                    fmt="o",
                    color=color,
                    ms=4,
                    capsize=3,
                    label=f"N = {data['N']} {label}".strip(),
                )
        if entry["quantity"] == "spectral_radius":
            ax.axhline(1.0, ls="--", color="0.5", lw=0.8)
        if entry["vary"] == "alpha_z":
            ax.set_xscale("log")
        ax.set_xlabel(entry["vary"])
        ax.set_ylabel(LABELS[entry["quantity"]], fontsize=8)
        ax.set_title(f"{entry['cell']}: {entry['title']}", fontsize=8)
        ax.legend(fontsize=6.5, loc="best")
    fig.suptitle("\n".join(textwrap.wrap(f"{figure.name}: {figure.claim}", 60 * n)), fontsize=8.5)
    return save(fig, path)
