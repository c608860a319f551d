"""Validation: theory against finite-N simulation of the same cell (no SymPy here).

- :func:`validate`: mean field and spectrum against networks relaxed to a
  fixed point, or the plug-in route for time-dependent states;
- :func:`validate_dynamics`: the DMFT against simulated trajectories;
- :func:`sites_for_route`, :func:`finite_n_spectrum`: site distributions by
  route name and the finite-N spectra to hold them against;
- :mod:`.tolerances`: every tolerance formula; :mod:`.claims` and
  :func:`make_figure`: the founding papers' claims as figures.
"""

from .checks import Check, Report
from .claims import FIGURES, Figure, Panel
from .dynamics import DynamicsReport, SimulatedDynamics, simulate_dynamics, validate_dynamics
from .report import SpectrumComparison, ValidationReport, compare_snapshot, population_q, validate
from .runner import figure_table, make_figure
from .spectra import FiniteSpectrum, eigenvalues, finite_n_spectrum, fraction_in_disc, sites_for_route

__all__ = [
    "Check",
    "Report",
    "validate",
    "ValidationReport",
    "SpectrumComparison",
    "compare_snapshot",
    "population_q",
    "validate_dynamics",
    "simulate_dynamics",
    "DynamicsReport",
    "SimulatedDynamics",
    "sites_for_route",
    "finite_n_spectrum",
    "FiniteSpectrum",
    "fraction_in_disc",
    "eigenvalues",
    "FIGURES",
    "Figure",
    "Panel",
    "make_figure",
    "figure_table",
]
