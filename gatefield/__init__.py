"""gatefield: theory of random gated recurrent neural networks.

Write a cell once; gatefield derives its mean-field, spectral and dynamical
mean-field equations with SymPy, generates fast numpy solvers, exports LaTeX
and validates every prediction against finite-N simulations of the same cell.

One verb per stage of the pipeline::

    import gatefield as gf

    cell = gf.load_cell("gru")                                  # spec
    gf.mean_field_equations(cell)                               # derive (SymPy)
    mf = gf.solve(gf.problems.MeanField(cell, {"g_h": 1.6}))    # solve
    sites = gf.sites.from_fixed_point(mf)                       # site distribution
    gf.trace_support(sites), gf.density(sites, 0.5 + 0.3j)      # spectrum
    gf.validate(cell, {"g_h": 1.6}, N=1000)                     # against simulation

The layers (data flows one way): :mod:`gatefield.theory` (SymPy only) ->
:mod:`gatefield.numerics` (generated code, quadrature, problems and solvers,
the spectral engine) -> :mod:`gatefield.simulate` (finite-N networks) ->
:mod:`gatefield.validation` (comparisons, no SymPy); :mod:`gatefield.io`
reads cell files and writes LaTeX and reports, :mod:`gatefield.plot` draws
(imported only when used), :mod:`gatefield.cli` is the command line.
"""

from . import simulate
from .cells import load_cell
from .errors import GatefieldError, SolverError, SpecError
from .numerics import compile_cell, problems, solve, solvers
from .numerics.spectrum import density, share_inside, sites, trace_support
from .theory import Cell, CellBuilder, jacobian_pencil, mean_field_equations, support_matrix
from .validation import validate

__version__ = "0.2.0"

__all__ = [
    "load_cell",
    "Cell",
    "CellBuilder",
    "mean_field_equations",
    "jacobian_pencil",
    "support_matrix",
    "compile_cell",
    "problems",
    "solvers",
    "solve",
    "sites",
    "trace_support",
    "density",
    "share_inside",
    "simulate",
    "validate",
    "GatefieldError",
    "SpecError",
    "SolverError",
]
