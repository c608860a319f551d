"""Every tolerance that holds theory against finite-N simulation, in one place.

Each is derived from a stated error model (``docs/theory/9-checks.md#tolerances``):

- :func:`outside_tolerance`: the share of eigenvalues outside the predicted
  support; finite-N edge eigenvalues spill over by O(N^-1/2) (an N x N
  Ginibre matrix loses a share ``1/sqrt(2 pi N)`` past its disc; a support
  of another shape, and a network whose own law moves its edge, more or
  less: :func:`~gatefield.numerics.spectrum.spill.edge_spill`);
- :func:`edge_tolerance`: the largest ``|eigenvalue|`` of an iid matrix
  fluctuates about the edge ``r`` on the scale ``2 r sqrt(log N / N)``
  (Rider 2003);
- :func:`q_tolerance`: an order parameter against its seed average, 3
  standard errors of the seed scatter, or of a mean of N squared Gaussians
  when fewer than 3 seeds are available;
- :func:`moment_tolerance`, :func:`correlation_tolerance`: DMFT moments and
  correlation functions, the larger of a relative accuracy and 3 combined
  standard errors;
- :func:`share_error`: the error of a share of eigenvalues in a region, the
  largest of the seed scatter, the binomial error and one eigenvalue's share.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "SIGMAS",
    "MOMENT_RTOL",
    "Q_FLOOR",
    "outside_tolerance",
    "edge_tolerance",
    "q_tolerance",
    "moment_tolerance",
    "correlation_tolerance",
    "lyapunov_tolerance",
    "binomial_error",
    "share_error",
]

#: Standard errors a comparison may differ by: a two-sided 3-sigma window
#: fails by chance with probability 0.3% per comparison.
SIGMAS = 3.0
#: Relative agreement asked of DMFT moments and correlation functions: the
#: accuracy at which the founding papers' figures are read.
MOMENT_RTOL = 0.02
#: Absolute floor of the q tolerance: the relaxation and Newton tolerance
#: (1e-10) and its squared-order effects stay far below it.
Q_FLOOR = 1e-8


def outside_tolerance(N: int, spill=None) -> float:
    """Largest share of one network's eigenvalues allowed outside the predicted support.

    Without ``spill``: 1.5 times the expected spill of an N x N Ginibre
    matrix past its limiting disc, ``1/sqrt(2 pi N)``, and at least 1% (4.2%
    at N = 200, 1.3% at N = 2000). With a
    :class:`~gatefield.numerics.spectrum.spill.Spill` of the support at hand:
    its expected share (the edge's spill for the support's shape) plus 3 of
    its standard errors (the spill as a count, and the share the network's
    own law moves across the edge), and at least 1%.
    """
    if spill is None:
        return max(0.01, 1.5 / math.sqrt(2 * math.pi * N))
    return max(0.01, spill.expected + SIGMAS * spill.stderr)


def edge_tolerance(radius: float, N: int) -> float:
    """``2 r sqrt(log N / N)``: the scale of the edge's fluctuation at size N."""
    return 2 * radius * math.sqrt(math.log(N) / N)


def q_tolerance(q: float, seeds_values, N: int) -> tuple:
    """``(tolerance, note)`` for an order parameter ``q`` against the values of
    several seeds."""
    values = np.asarray(seeds_values, dtype=float)
    if len(values) >= 3:
        # A network's q is a mean of N squared node values, so networks
        # scatter by at least q sqrt(2/N) (measured: the GRU's scatter is
        # about that); a standard deviation of 3 values falls below half of
        # its true value one time in five, so it is not allowed below the floor.
        scatter = max(float(np.std(values, ddof=1)), abs(q) * math.sqrt(2.0 / N))
        tol = SIGMAS * scatter / math.sqrt(len(values))
        note = "3 standard errors over seeds (the seed scatter, at least q sqrt(2/N) per network)"
    else:
        tol = SIGMAS * q * math.sqrt(2.0 / N)
        note = "3 q sqrt(2/N): sampling error of a mean of N squares"
    return max(tol, Q_FLOOR), note  # a zero fixed point is matched to round-off


def moment_tolerance(theory: float, stderr: float, zero: float = 0.0) -> float:
    """``max(2% of theory, 3 combined standard errors, zero)`` (``zero``: the
    theory's own floor, below which a relative tolerance compares round-off)."""
    return max(MOMENT_RTOL * abs(theory), SIGMAS * stderr, zero)


def correlation_tolerance(c0: float, resolution: float, zero: float = 0.0) -> float:
    """``max(2% of C(0), 3 rms combined standard error, zero)`` for the rms over
    lags of the difference of two correlation functions."""
    return max(MOMENT_RTOL * abs(c0), SIGMAS * resolution, zero)


def lyapunov_tolerance(*errors: float) -> float:
    """3 combined standard errors."""
    return SIGMAS * math.hypot(*errors)


def binomial_error(fraction: float, n: int) -> float:
    """``sqrt(p (1 - p) / n)``: the standard error of a share of n independent
    draws (eigenvalues repel, so this overstates the error of a share of the
    bulk; it is the conservative one)."""
    return math.sqrt(max(fraction * (1 - fraction), 0.0) / n) if n else float("nan")


def share_error(values, n_eigenvalues: int) -> float:
    """The error of the mean of per-network shares ``values``, each of
    ``n_eigenvalues / len(values)`` eigenvalues: the largest of the seed
    scatter, the binomial error and one eigenvalue's share (a share resolves
    ``1/n``, and the binomial error of 0 is 0)."""
    values = np.asarray(values, dtype=float)
    scatter = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return max(scatter, binomial_error(float(values.mean()), n_eigenvalues), 1.0 / n_eigenvalues)
