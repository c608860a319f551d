"""Phase diagrams: labelled regions, their lines and the complexity map."""

from __future__ import annotations

import numpy as np

from ._common import figure, save

__all__ = ["plot_phase", "draw_phase"]

#: Region colours by code (gatefield.numerics.phase.REGIONS).
COLOURS = {0: "#dbe9f6", 1: "#d9f0d3", 2: "#fde0b2", 3: "#f4c2c2"}
#: Line styles by line name.
STYLES: dict[str, dict] = {
    "zero_stability": {"color": "tab:blue", "ls": "--", "label": "zero FP loses stability"},
    "mean_field_branches": {"color": "tab:green", "ls": ":", "label": "mean-field branches"},
    "chaos": {"color": "tab:red", "ls": "-", "label": "no stable FP (chaos line)"},
    "complexity_onset": {"color": "tab:orange", "ls": "-.", "label": "complexity onset (bisected)"},
}


def draw_phase(ax, diagram, legend: bool = True) -> None:
    """Regions, lines, bisected onset points and any checks on ``ax``."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from ..numerics.phase import REGIONS

    x, y = diagram.axes
    region = np.asarray(diagram.maps["region"], float)
    cmap = ListedColormap([COLOURS[k] for k in sorted(REGIONS)])
    norm = BoundaryNorm(np.arange(len(REGIONS) + 1) - 0.5, len(REGIONS))
    ax.pcolormesh(x, y, region.T, shading="nearest", cmap=cmap, norm=norm)
    handles = [Patch(color=COLOURS[k], label=REGIONS[k]) for k in sorted(REGIONS) if np.any(region == k)]
    for name, polys in diagram.lines.items():
        style = dict(STYLES.get(name, {"color": "k", "ls": "-", "label": name}))
        label = style.pop("label")
        for k, poly in enumerate(polys):
            a = np.asarray(poly, float)
            ax.plot(a[:, 0], a[:, 1], lw=1.3, label=label if k == 0 else None, **style)
    if diagram.onset:
        a = np.asarray(diagram.onset, float)
        ax.plot(a[:, 0], a[:, 1], "o", ms=2.0, color="tab:orange")
    tricritical = getattr(diagram, "tricritical", [])
    if tricritical:
        a = np.asarray(tricritical, float)
        ax.plot(a[:, 0], a[:, 1], "*", ms=9, mfc="gold", mec="k", mew=0.8, label="tricritical (mean field)")
    first = [r for r in getattr(diagram, "bifurcation", []) if r["kind"] == "discontinuous"]
    if first:  # the zero line's stretch where the branch leaving q = 0 is born discontinuously
        ax.plot(
            [r[diagram.names[0]] for r in first],
            [r[diagram.names[1]] for r in first],
            "x",
            ms=3.5,
            color="tab:blue",
            label="zero line: discontinuous transition",
        )
    kinds = {"dmft": ("s", "DMFT check"), "finite-N": ("^", "finite-N check")}
    shown: set = set()
    for c in diagram.checks:
        marker, name = kinds.get(c["kind"], ("o", c["kind"]))
        agrees = c.get("agrees", True)
        colour = "k" if agrees else "magenta"
        label = f"{name} ({'agrees' if agrees else 'disagrees'})"
        ax.plot(
            c[diagram.names[0]],
            c[diagram.names[1]],
            marker,
            ms=6,
            mfc="none",
            mec=colour,
            mew=1.3,
            label=None if label in shown else label,
        )
        shown.add(label)
    ax.set_xlabel(diagram.names[0])
    ax.set_ylabel(diagram.names[1])
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    if legend:
        lh, _ = ax.get_legend_handles_labels()
        ax.legend(handles=handles + lh, fontsize=6, loc="best", framealpha=0.7)


def plot_phase(path, diagram):
    """Two panels: the labelled regions with their lines, and the complexity map."""
    fig, (left, right) = figure(10.0, 4.2, cols=2)
    draw_phase(left, diagram)
    left.set_title(f"{diagram.cell}: phase diagram", fontsize=9)
    x, y = diagram.axes
    sigma = np.asarray(diagram.maps["sigma"], float)
    mesh = right.pcolormesh(x, y, sigma.T, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=right, label="Sigma (annealed complexity)")
    for poly in diagram.lines.get("complexity_onset", []):
        a = np.asarray(poly, float)
        right.plot(a[:, 0], a[:, 1], color="w", lw=1.0)
    for poly in diagram.lines.get("chaos", []):
        a = np.asarray(poly, float)
        right.plot(a[:, 0], a[:, 1], color="tab:red", lw=1.0)
    right.set_xlabel(diagram.names[0])
    right.set_ylabel(diagram.names[1])
    right.set_title("complexity (white: onset; red: chaos line)", fontsize=9)
    return save(fig, path)
