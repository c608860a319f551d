"""The fixed-point complexity of a cell (Kac-Rice), numerically.

- :class:`Complexity`, :class:`Saddles`, :class:`ComplexitySolution`: the
  annealed ``Sigma`` as every saddle of the action, with the untilted
  mean-field value alongside as a lower bound;
- :func:`onset`: where ``Sigma`` turns positive along one parameter;
- :class:`TiltedSites`: the tilted site measure as an importance-sampling proposal;
- :func:`compile_kac_rice`: the generated node-space functions ``v(eta)``,
  ``T(eta)`` the finite-N counting (:mod:`gatefield.simulate.counting`) uses.

The mathematics is docs/theory/10-complexity.md.
"""

from ._compiled import CompiledKacRice, compile_kac_rice
from .onset import Onset, complexity_sweep, onset
from .saddles import Complexity, ComplexitySolution, Saddle, Saddles, Typical, solve_complexity
from .sites import TiltedSites

__all__ = [
    "Complexity",
    "Saddles",
    "Saddle",
    "Typical",
    "ComplexitySolution",
    "solve_complexity",
    "CompiledKacRice",
    "compile_kac_rice",
    "Onset",
    "onset",
    "complexity_sweep",
    "TiltedSites",
]
