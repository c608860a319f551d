"""The predicted support and density over finite-N eigenvalues."""

from __future__ import annotations

import numpy as np

from ._common import figure, save

__all__ = ["plot_spectrum", "plot_density"]


def _slow_marks(ax, time):
    if time == "discrete":
        t = np.linspace(0, 2 * np.pi, 400)
        ax.plot(np.cos(t), np.sin(t), "--", color="C0", lw=0.8, label="|lambda| = 1")
        slow = 1.0
    else:
        ax.axvline(0.0, ls="--", color="C0", lw=0.8, label="Re lambda = 0")
        slow = 0.0
    ax.plot([slow], [0.0], "x", color="C2", ms=8, mew=2, label="slow point")


def plot_spectrum(path, support, eigenvalues=None, title="", route="fixed-point", N=None):
    """Eigenvalues over the predicted support boundary and whiskers; saves a
    PNG/PDF/SVG.

    Whiskers are drawn as thick segments on the real axis (labelled with
    their share of eigenvalues); with ``N``, a band along them shows the
    distance within which a finite network's eigenvalue counts as on them.
    The slow point (1 in discrete time, 0 in continuous time) and the
    stability boundary (unit circle / imaginary axis) are drawn for reference.
    """
    fig, ax = figure(5.2, 5.0)
    if eigenvalues is not None and len(eigenvalues):
        ax.plot(
            eigenvalues.real,
            eigenvalues.imag,
            ".",
            ms=2.0,
            color="0.35",
            alpha=0.6,
            label=f"finite N ({len(eigenvalues)} eigenvalues)",
        )
    label = "predicted support" + (" (plug-in)" if route == "plug-in" else "")
    for k, curve in enumerate(support.components):
        ax.plot(curve.real, curve.imag, "-", color="C3", lw=1.4, label=None if k else label)
    _whiskers(ax, support, N)
    _slow_marks(ax, support.time)
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax.set_title(title, fontsize=9)
    return save(fig, path)


def _whiskers(ax, support, N):
    from ..validation.tolerances import edge_tolerance

    if not support.whiskers:
        return
    mass = sum(w.mass for w in support.whiskers)
    for k, w in enumerate(support.whiskers):
        label = None if k else f"whiskers ({mass:.1%} of eigenvalues)"
        ax.plot([w.start, w.end], [0.0, 0.0], "-", color="C1", lw=3.0, alpha=0.8, solid_capstyle="butt", label=label)
        if N is not None:
            reach = edge_tolerance(support.bulk_radius, N)
            ax.fill_between(
                [w.start - reach, w.end + reach],
                -reach,
                reach,
                color="C1",
                alpha=0.12,
                lw=0,
                label=None if k else f"whisker reach at N = {N}",
            )


def plot_density(path, x, y, rho, support=None, atoms=(), title="", eigenvalues=None):
    """The predicted density on a grid (log colour scale), with the support's
    boundary, atoms (marker area by weight) and optional finite-N eigenvalues."""
    from matplotlib.colors import LogNorm

    fig, ax = figure(5.6, 4.8)
    positive = rho[rho > 0]
    if positive.size:
        norm = LogNorm(vmin=max(positive.min(), positive.max() * 1e-4), vmax=positive.max())
        mesh = ax.pcolormesh(x, y, np.where(rho > 0, rho, np.nan), shading="nearest", norm=norm, cmap="viridis")
        fig.colorbar(mesh, ax=ax, label="eigenvalue density (per unit, per unit area)")
    if eigenvalues is not None and len(eigenvalues):
        ax.plot(
            eigenvalues.real,
            eigenvalues.imag,
            ".",
            ms=1.5,
            color="w",
            alpha=0.5,
            label=f"finite N ({len(eigenvalues)})",
        )
    if support is not None:
        for k, curve in enumerate(support.components):
            ax.plot(curve.real, curve.imag, "-", color="C3", lw=1.0, label=None if k else "support")
    for k, atom in enumerate(atoms):
        ax.plot(
            [atom.location.real],
            [atom.location.imag],
            "o",
            mfc="none",
            mec="C1",
            ms=4 + 30 * atom.weight**0.5,
            label=None if k else "atoms",
        )
    time = support.time if support is not None else "discrete"
    ax.plot([1.0 if time == "discrete" else 0.0], [0.0], "x", color="C2", ms=8, mew=2, label="slow point")
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax.set_title(title, fontsize=9)
    return save(fig, path)
