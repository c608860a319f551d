"""Numerics: the one place SymPy becomes numpy.

- :mod:`.codegen`: generated numpy functions of a cell (:func:`compile_cell`);
- :mod:`.quadrature`: Gaussian expectations (one :class:`~.quadrature.Rule` type);
- :mod:`.problems`, :mod:`.solvers`, :func:`solve`: what to solve, how, and the
  one entry point, returning a :class:`~.solution.Solution` with a
  :class:`~.solution.Status`;
- :mod:`.spectrum`: the spectral engine, every quantity a function of a
  :class:`~.spectrum.SiteDistribution`;
- :mod:`.complexity`: the Kac-Rice complexity of fixed points;
- :mod:`.phase`: phase diagrams over two parameters by continuation;
- :mod:`.sweep`: quantities over one or two parameters.
"""

from . import complexity, phase, problems, quadrature, solvers, spectrum
from .codegen import CompiledCell, GeneratedFunction, compile_cell, generate
from .solution import Estimate, Solution, Status
from .solve import solve
from .sweep import QUANTITIES, Sweep, sweep

__all__ = [
    "CompiledCell",
    "GeneratedFunction",
    "compile_cell",
    "generate",
    "problems",
    "solvers",
    "solve",
    "Solution",
    "Status",
    "Estimate",
    "spectrum",
    "complexity",
    "phase",
    "quadrature",
    "sweep",
    "Sweep",
    "QUANTITIES",
]
