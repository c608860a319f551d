"""gatefield: theory of random gated recurrent neural networks.

Write a cell once; gatefield derives its mean-field and spectral equations
with SymPy, generates fast numpy solvers, exports LaTeX and validates every
prediction against finite-N simulations of the same cell.

Layers (data flows one way): :mod:`gatefield.theory` (SymPy only) ->
:mod:`gatefield.numerics` (code generation and solvers) ->
:mod:`gatefield.validation` (simulation and comparison, no SymPy).
"""

from .cells import BUILTINS, load_cell
from .errors import GatefieldError, SolverError, SpecError
from .numerics import (
    compile_cell,
    continue_mean_field,
    fixed_point_sites,
    inside_support,
    mean_field_map,
    plugin_sites,
    solve_mean_field,
    support_rho,
    trace_support,
)
from .theory import (
    Cell,
    CellBuilder,
    fixed_point,
    jacobian_pencil,
    mean_field_equations,
    relu,
    sigmoid,
    softplus,
    support_matrix,
)
from .theory.parser import parse_cell
from .validation import fixed_point_spectrum, plugin_spectrum, validate

__version__ = "0.1.0"

__all__ = [
    "BUILTINS",
    "load_cell",
    "parse_cell",
    "Cell",
    "CellBuilder",
    "sigmoid",
    "softplus",
    "relu",
    "GatefieldError",
    "SpecError",
    "SolverError",
    "fixed_point",
    "mean_field_equations",
    "jacobian_pencil",
    "support_matrix",
    "compile_cell",
    "solve_mean_field",
    "continue_mean_field",
    "mean_field_map",
    "fixed_point_sites",
    "plugin_sites",
    "trace_support",
    "support_rho",
    "inside_support",
    "fixed_point_spectrum",
    "plugin_spectrum",
    "validate",
]
