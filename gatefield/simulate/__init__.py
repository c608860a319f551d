"""Finite-N simulation of the same cell the theory is derived from.

Every function evaluates the numpy code :func:`gatefield.compile_cell`
generates, so simulation and theory read one specification; this package
never imports SymPy.

- :mod:`.network`: networks of N units, trajectories, steady states;
- :mod:`.linearize`: the finite-N Jacobian from the cell's pencil;
- :mod:`.fixed_point`: fixed points by relaxation and Newton's method;
- :mod:`.snapshot`: steady-state snapshots (the plug-in route's input);
- :mod:`.lyapunov`: QR (Benettin) Lyapunov exponents; :mod:`.finite_size`: their scans in 1/N;
- :mod:`.counting`: all fixed points of one network (multi-start Newton), the
  exact finite-N Kac-Rice integral, and the growth of the count with N;
- :mod:`.untied`: networks whose weights are redrawn every step.
"""

from .counting import FixedPointCount, count_fixed_points, growth_fit, kac_rice_integral
from .finite_size import FiniteSizeScan, OrderParameterScan, finite_size_fit, lyapunov_scan, order_parameter_scan
from .fixed_point import FixedPointResult, find_fixed_point
from .linearize import finite_difference_jacobian, jacobian
from .lyapunov import LyapunovResult, lyapunov, tangent_product
from .network import (
    Network,
    initial_state,
    make_network,
    nodes,
    population_q,
    rhs,
    run_to_steady_state,
    step,
    trajectory,
)
from .snapshot import Snapshot, snapshot
from .untied import UntiedResult, untied

__all__ = [
    "Network",
    "make_network",
    "initial_state",
    "nodes",
    "population_q",
    "rhs",
    "step",
    "trajectory",
    "run_to_steady_state",
    "jacobian",
    "finite_difference_jacobian",
    "FixedPointResult",
    "find_fixed_point",
    "Snapshot",
    "snapshot",
    "LyapunovResult",
    "lyapunov",
    "tangent_product",
    "FiniteSizeScan",
    "finite_size_fit",
    "lyapunov_scan",
    "OrderParameterScan",
    "order_parameter_scan",
    "FixedPointCount",
    "count_fixed_points",
    "kac_rice_integral",
    "growth_fit",
    "UntiedResult",
    "untied",
]
