"""Correlation functions: the DMFT's, and the DMFT's over simulated ones."""

from __future__ import annotations

from ._common import figure, save

__all__ = ["plot_correlations", "plot_dynamics"]


def plot_correlations(path, results):
    """DMFT correlation functions ``C_a(tau)``, one line per coupling and start."""
    fig, ax = figure(5.4, 3.8)
    for r in results:
        for name, c in r.correlations.items():
            ax.plot(r.tau[: len(c.mean)], c.mean, label=f"C[{name}] ({r.start} start)")
    ax.set_xlabel("lag tau" + (" (steps)" if results[0].time == "discrete" else ""))
    ax.set_ylabel("C(tau) = E[v(t) v(t + tau)]")
    ax.set_title(f"{results[0].problem.cell.name}: dynamical mean-field theory", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, path)


def plot_dynamics(path, report):
    """DMFT ``C_a(tau)`` (lines) over the simulated ones (points with error bars)."""
    fig, ax = figure(5.6, 3.9)
    sim, dmft = report.simulated, report.dmft
    stride = max(1, len(sim.tau) // 40)
    for k, (name, c) in enumerate(dmft.correlations.items()):
        ax.plot(dmft.tau[: len(c.mean)], c.mean, "-", color=f"C{k}", label=f"DMFT C[{name}]")
        s = sim.correlations[name]
        ax.errorbar(
            sim.tau[::stride],
            s.mean[::stride],
            yerr=s.stderr[::stride],
            fmt="o",
            ms=3,
            color=f"C{k}",
            capsize=2,
            label=f"N = {sim.N}, {sim.seeds} seeds",
        )
    ax.set_xlabel("lag tau" + (" (steps)" if sim.time == "discrete" else ""))
    ax.set_ylabel("C(tau) = E[eta(t) eta(t + tau)]")
    ax.set_title(f"{report.cell}: dynamical mean-field theory against simulation", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2)
    return save(fig, path)
