"""How to solve: solver objects whose options are their constructor's arguments.

Each solver names the problems it solves (``solver.problems``) and is used
through :func:`gatefield.solve`:

- :class:`AllRoots`: every root of the mean-field equations (``MeanField``);
- :class:`PathSampling`: the DMFT by sampling single-unit paths (``DMFT``);
- :class:`FourierIteration`: the Gaussian-closure DMFT by FFT
  (``GaussianClosureDMFT``);
- :class:`TangentSampling`: the two-replica Lyapunov exponent
  (``TangentDMFT``);
- :class:`PopulationDynamics`: the annealed mean field (``Annealed``).
"""

from .fourier import FourierDMFTSolution, FourierIteration
from .population import AnnealedSolution, PopulationDynamics
from .roots import AllRoots, MeanFieldSolution, Root, continue_mean_field, mean_field_map
from .sampling import DMFTSolution, PathSampling
from .tangent import LyapunovSolution, TangentSampling

__all__ = [
    "AllRoots",
    "PathSampling",
    "FourierIteration",
    "TangentSampling",
    "PopulationDynamics",
    "MeanFieldSolution",
    "Root",
    "DMFTSolution",
    "FourierDMFTSolution",
    "LyapunovSolution",
    "AnnealedSolution",
    "mean_field_map",
    "continue_mean_field",
]
