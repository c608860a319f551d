"""Validation: finite-N simulation of the same spec, comparisons, reports (no SymPy here)."""

from .compare import (
    ROUTES,
    Check,
    SpectrumComparison,
    ValidationReport,
    fixed_point_spectrum,
    plugin_spectrum,
    validate,
)
from .dynamics import DynamicsReport, SimulatedDynamics, simulate_dynamics, validate_dynamics
from .lyapunov import (
    FiniteSizeScan,
    LyapunovResult,
    finite_size_fit,
    lyapunov,
    lyapunov_scan,
    tangent_product,
)
from .report import plot_correlations, plot_density, plot_spectrum, plot_sweep, write_report
from .simulate import (
    FixedPointResult,
    Network,
    find_fixed_point,
    initial_state,
    jacobian,
    make_network,
    nodes,
    rhs,
    run_to_steady_state,
    step,
    trajectory,
)
from .spectra import (
    SPECTRAL_ROUTES,
    FiniteSpectrum,
    RouteSites,
    binomial_error,
    finite_n_spectrum,
    fraction_in_disc,
    route_sites,
)
from .untied import UntiedResult, simulate_untied

__all__ = [
    "ROUTES", "Check", "SpectrumComparison", "ValidationReport", "fixed_point_spectrum",
    "plugin_spectrum", "validate", "plot_correlations", "plot_density", "plot_spectrum", "plot_sweep",
    "write_report",
    "FixedPointResult", "Network", "find_fixed_point", "initial_state", "jacobian", "make_network",
    "nodes", "rhs", "run_to_steady_state", "step", "trajectory",
    "SPECTRAL_ROUTES", "FiniteSpectrum", "RouteSites", "binomial_error", "finite_n_spectrum",
    "fraction_in_disc", "route_sites",
    "DynamicsReport", "SimulatedDynamics", "simulate_dynamics", "validate_dynamics",
    "LyapunovResult", "lyapunov", "tangent_product", "FiniteSizeScan", "finite_size_fit", "lyapunov_scan",
    "UntiedResult", "simulate_untied",
]
