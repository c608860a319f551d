"""Phase diagrams of a cell over two parameters.

- :func:`phase_diagram`: regions (stable zero fixed point, stable non-zero
  fixed point, exponentially many fixed points beside a stable one, no stable
  fixed point) and lines (zero-fixed-point stability, mean-field branches,
  the complexity onset, the chaos line) by continuation over the grid;
- :func:`chaos_checks`: the DMFT and its Lyapunov exponent at a few points,
  against the region the diagram gives them;

Finite-N points over a diagram (fixed-point counts, QR Lyapunov exponents)
are simulation: :func:`gatefield.validation.landscape.finite_n_points`.

The mathematics is docs/theory/11-phase.md.
"""

from .checks import chaos_checks, check_points
from .diagram import MAPS, REGIONS, PhaseDiagram, phase_diagram

__all__ = ["phase_diagram", "PhaseDiagram", "REGIONS", "MAPS", "chaos_checks", "check_points"]
