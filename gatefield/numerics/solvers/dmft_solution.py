"""The result of the sampled DMFT (:class:`~.sampling.PathSampling`): moments
and correlation functions with their errors, the stopping diagnostics and
the paths at one time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..problems import DMFT
from ..solution import Solution
from .stopping import TREND_SIGMAS

__all__ = ["DMFTSolution", "STATIC_FRACTION", "SHUT"]

#: A solution is static when its fluctuating part ``C(0) - C(inf)`` is below
#: this fraction of ``C(0)`` (a chaotic state has a fraction near 1).
STATIC_FRACTION = 0.05
#: A gate below this counts as shut in the ``P[g shut]`` moments (and one
#: above ``1 - SHUT`` as open).
SHUT = 0.05


@dataclass(frozen=True, kw_only=True)
class DMFTSolution(Solution):
    """A stationary solution of the single-unit process (by sampling).

    Attributes
    ----------
    problem : DMFT
    parameters : dict
    time : {"discrete", "continuous"}
    tau : (L,) array
        Lags: steps (discrete) or multiples of ``dt`` (continuous).
    correlations : dict
        Coupling name -> ``Estimate`` of ``C_a(tau)`` (arrays over lags), the
        node covariance ``E[v_a(t) v_a(t + tau)]``, with its standard error
        from the path-to-path scatter.
    moments : dict
        One-time moments as ``Estimate``: ``"E[s]"`` and ``"E[s^2]"`` for
        every state and intermediate definition; ``"P[g shut]"`` and
        ``"P[g open]"``, the share of time a gate spends below ``SHUT`` or
        above ``1 - SHUT``; and ``"C_J(0)"`` (= ``E[v^2]``) per coupling.
    state_correlations : dict
        State name -> ``E[s(t) s(t + tau)]`` (L,).
    static : bool
        True when every fluctuating part ``C_a(0) - C_a(inf)`` is below
        ``STATIC_FRACTION * C_a(0)`` (or ``C_a(0)`` is below ``atol``).
    decay_time : dict
        Coupling name -> first lag where ``C_a(tau) - C_a(inf)`` falls below
        ``1/e`` of its start; nan when static or beyond the window.
    noise : float
        The sampling-noise level of ``C_new`` (``max_a rms_tau`` of its
        standard error over ``C_a(0)``); ``residual`` is the last change
        ``max_a rms_tau (C_new - C) / C_a(0)``.
    drift, drift_error : float
        The trend of the iteration over its last ``window`` iterations and
        its standard error, relative to ``C_a(0)`` (:class:`Trend`); the
        stopping rule asks ``drift <= tol + 2 drift_error``.
    clipped : float
        Largest clipped eigenvalue mass of the circulant embeddings in the
        final passes (0: the paths had exactly the requested covariance).
    samples : tuple of arrays
        ``(states (m, S), nodes (K, S))`` of the sample paths at one time
        after the burn-in: a site distribution of the stationary state.
    start : {"large", "small"}
    """

    problem: DMFT = field(repr=False, metadata={"json": False})
    parameters: dict
    time: str
    tau: np.ndarray = field(repr=False)
    correlations: dict = field(repr=False)
    moments: dict
    state_correlations: dict = field(repr=False)
    static: bool
    decay_time: dict
    noise: float
    clipped: float
    samples: tuple = field(repr=False, metadata={"json": False})
    start: str
    drift: float = float("nan")
    drift_error: float = float("nan")

    @property
    def estimated_bias(self) -> float:
        """The bias the remaining drift may leave, relative to ``C(0)``: the
        window's mean lags a linear drift by half the window, so half the
        drift, or the resolution of the trend (``TREND_SIGMAS`` errors) if
        larger."""
        return 0.5 * max(self.drift, TREND_SIGMAS * self.drift_error)

    def to_json(self) -> dict:
        from ..._json import encode

        data = encode({k: getattr(self, k) for k in ("parameters", "time", "tau", "moments", "static")})
        return {
            "route": "dmft",
            "method": "sampling",
            "cell": self.problem.cell.name,
            **data,
            "start": self.start,
            "status": self.status.value,
            "iterations": self.iterations,
            "residual": self.residual,
            "noise": self.noise,
            "drift": self.drift,
            "drift_error": self.drift_error,
            "estimated_bias": self.estimated_bias,
            "clipped": self.clipped,
            "decay_time": self.decay_time,
            "correlations": {k: v.mean for k, v in self.correlations.items()},
            "correlation_errors": {k: v.stderr for k, v in self.correlations.items()},
            "settings": self.settings,
        }
