"""Sweeps: a curve per quantity (one parameter) or a map (two)."""

from __future__ import annotations

from ._common import figure, save

__all__ = ["plot_sweep"]


def plot_sweep(path, result):
    """One panel per quantity: a curve (one parameter) or a map (two)."""
    names = list(result.values)
    fig, axes = figure(4.2 * len(names), 3.6, cols=len(names))
    for ax, name in zip(axes, names):
        values = result.values[name]
        if len(result.axes) == 1:
            ax.plot(result.axes[0], values, "o-", ms=3)
            ax.set_xlabel(result.names[0])
            ax.set_ylabel(name)
            if name in ("spectral_radius", "bulk_radius"):
                ax.axhline(1.0, ls="--", color="0.5", lw=0.8)
        else:
            x, y = result.axes
            mesh = ax.pcolormesh(x, y, values.T, shading="nearest")
            fig.colorbar(mesh, ax=ax, label=name)
            ax.set_xlabel(result.names[0])
            ax.set_ylabel(result.names[1])
        ax.set_title(f"{result.cell}: {name}", fontsize=9)
    return save(fig, path)
