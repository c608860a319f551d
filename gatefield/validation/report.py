"""Reports: JSON and figures of theory against simulation."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .compare import ValidationReport  # noqa: E402

__all__ = ["plot_correlations", "plot_density", "plot_spectrum", "plot_sweep", "write_report"]


def plot_spectrum(path, support, eigenvalues=None, time="discrete", title="", route="fixed-point"):
    """Eigenvalues over the predicted support boundary; saves a PNG/PDF.

    The slow point (1 in discrete time, 0 in continuous time) and the
    stability boundary (unit circle / imaginary axis) are drawn for reference.
    """
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
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
    if time == "discrete":
        t = np.linspace(0, 2 * np.pi, 400)
        ax.plot(np.cos(t), np.sin(t), "--", color="C0", lw=0.8, label="|lambda| = 1")
        slow = 1.0
    else:
        ax.axvline(0.0, ls="--", color="C0", lw=0.8, label="Re lambda = 0")
        slow = 0.0
    ax.plot([slow], [0.0], "x", color="C2", ms=8, mew=2, label="slow point")
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def plot_density(path, x, y, rho, support=None, atoms=(), time="discrete", title="", eigenvalues=None):
    """The predicted density on a grid (log colour scale), with the support's
    boundary, atoms (marker area by weight) and optional finite-N eigenvalues."""
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    positive = rho[rho > 0]
    if positive.size:
        from matplotlib.colors import LogNorm

        norm = LogNorm(vmin=max(positive.min(), positive.max() * 1e-4), vmax=positive.max())
        mesh = ax.pcolormesh(
            x, y, np.where(rho > 0, rho, np.nan), shading="nearest", norm=norm, cmap="viridis"
        )
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
    slow = 1.0 if time == "discrete" else 0.0
    ax.plot([slow], [0.0], "x", color="C2", ms=8, mew=2, label="slow point")
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def plot_correlations(path, results):
    """DMFT correlation functions ``C_a(tau)``, one line per coupling and start."""
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    for r in results:
        for name, c in r.correlations.items():
            ax.plot(r.tau[: len(c)], c, label=f"C[{name}] ({r.start} start)")
    ax.set_xlabel("lag tau" + (" (steps)" if r.time == "discrete" else ""))
    ax.set_ylabel("C(tau) = E[v(t) v(t + tau)]")
    ax.set_title(f"{results[0].cell}: dynamical mean-field theory", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def plot_sweep(path, result):
    """One panel per quantity: a curve (one parameter) or a map (two)."""
    names = list(result.values)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = result.values[name]
        if len(result.axes) == 1:
            ax.plot(result.axes[0], values, "o-", ms=3)
            ax.set_xlabel(result.names[0])
            ax.set_ylabel(name)
            if name == "spectral_radius":
                ax.axhline(1.0, ls="--", color="0.5", lw=0.8)
        else:
            x, y = result.axes
            mesh = ax.pcolormesh(x, y, values.T, shading="nearest")
            fig.colorbar(mesh, ax=ax, label=name)
            ax.set_xlabel(result.names[0])
            ax.set_ylabel(result.names[1])
        ax.set_title(f"{result.cell}: {name}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def write_report(report: ValidationReport, directory, time: str) -> dict:
    """Write ``report.json`` and ``spectrum.png`` into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    (out / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    files = {"json": str(out / "report.json")}
    if report.spectra:
        first = report.spectra[0]
        title = (
            f"{report.cell}: {report.regime}\nN = {report.N}, route: {report.route}, "
            f"{first.outside_fraction:.2%} outside"
        )
        plot_spectrum(out / "spectrum.png", first.support, first.eigenvalues, time, title, report.route)
        files["figure"] = str(out / "spectrum.png")
    return files
