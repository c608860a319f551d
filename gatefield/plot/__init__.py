"""Figures (matplotlib, imported only when this package is): drawn on
``matplotlib.figure.Figure`` objects without pyplot, so importing or using
gatefield never switches a user's backend."""

from .claims import plot_claim
from .dynamics import plot_correlations, plot_dynamics
from .phase import plot_phase
from .spectrum import plot_density, plot_spectrum
from .sweep import plot_sweep

__all__ = [
    "plot_spectrum",
    "plot_density",
    "plot_correlations",
    "plot_dynamics",
    "plot_sweep",
    "plot_claim",
    "plot_phase",
]
