"""Numerics: the one place SymPy becomes numpy (code generation, quadrature, solvers)."""

from .annealed import AnnealedResult, solve_annealed
from .codegen import CompiledCell, GeneratedFunction, compile_cell, generate
from .dmft import DMFTResult, dmft_site_table, dmft_sites, solve_dmft
from .dmft_fourier import FourierDMFTResult, gaussian_closure, rate_potential_solution, solve_dmft_fourier
from .dmft_lyapunov import DMFTLyapunovResult, dmft_lyapunov
from .meanfield import (
    MeanFieldResult,
    MeanFieldSolution,
    continue_mean_field,
    mean_field_map,
    solve_mean_field,
)
from .quadrature import Rule, node_rule, sample_rule, standard_rule, tensor_rule
from .resolvent import (
    PencilSites,
    ResolventResult,
    count_annulus,
    count_inside,
    density,
    fixed_point_pencil_sites,
    plugin_pencil_sites,
    resolvent,
    resolvent_grid,
)
from .spectral import (
    Atom,
    accumulation_law,
    edge_gap,
    log_potential,
    marginal_window,
    marginals,
    site_atoms,
    slow_mode_fraction,
    slow_mode_sites,
    slow_point,
    step_gate_atoms,
)
from .support import (
    SiteTable,
    Support,
    fixed_point_sites,
    inside_support,
    plugin_sites,
    support_rho,
    support_values,
    trace_support,
)

__all__ = [
    "CompiledCell", "GeneratedFunction", "compile_cell", "generate",
    "DMFTResult", "solve_dmft", "dmft_sites", "dmft_site_table",
    "AnnealedResult", "solve_annealed", "FourierDMFTResult", "gaussian_closure", "rate_potential_solution",
    "solve_dmft_fourier", "DMFTLyapunovResult", "dmft_lyapunov",
    "PencilSites", "ResolventResult", "fixed_point_pencil_sites", "plugin_pencil_sites", "resolvent",
    "resolvent_grid", "density", "count_inside", "count_annulus",
    "Atom", "accumulation_law", "edge_gap", "log_potential", "marginal_window", "marginals", "site_atoms",
    "slow_mode_fraction", "slow_mode_sites", "slow_point", "step_gate_atoms",
    "MeanFieldResult", "MeanFieldSolution", "solve_mean_field", "continue_mean_field", "mean_field_map",
    "Rule", "node_rule", "sample_rule", "standard_rule", "tensor_rule",
    "SiteTable", "Support", "fixed_point_sites", "plugin_sites", "support_values", "support_rho",
    "inside_support", "trace_support",
]
