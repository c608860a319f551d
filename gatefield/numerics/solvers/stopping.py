"""When the sampled DMFT iteration stops: the trend of its last window and
the error of the window's mean (``docs/theory/6-dmft.md#stopping-rule``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..._sampling import batch_means

__all__ = ["Trend", "window_trend", "window_error", "TREND_SIGMAS", "WINDOW_BATCHES", "TREND_BATCHES"]

#: Standard errors of the trend that a drift may reach and still stop the
#: iteration (with ``tol``; :class:`~.sampling.PathSampling`).
TREND_SIGMAS = 2.0
#: Batches of the window for the error of its mean (:func:`window_error`)
#: and for its trend (:func:`window_trend`).
WINDOW_BATCHES = 3
TREND_BATCHES = 6


@dataclass(frozen=True)
class Trend:
    """The drift of the iteration over its last window: the largest least-
    squares change over the window of ``C_a(0)`` or of the lag average of
    ``C_a(tau)``, relative to ``C_a(0)``, and its standard error."""

    drift: float
    error: float


def window_trend(window: np.ndarray) -> Trend:
    """:class:`Trend` of ``window``: (W, K, L) outputs ``C_new`` of the last W
    iterations, fitted to the means of ``TREND_BATCHES`` contiguous batches
    (successive iterates are correlated along the slow mode, batches of
    several iterations much less, so the fit's scatter measures the noise
    a trend must exceed)."""
    W = len(window)
    scale = np.abs(window[:, :, 0]).mean(axis=0) + 1e-300
    series = np.concatenate([window[:, :, 0], window.mean(axis=2)], axis=1) / np.concatenate([scale, scale])
    per = W // TREND_BATCHES
    series = series[W - per * TREND_BATCHES :].reshape(TREND_BATCHES, per, -1).mean(axis=1)
    t = (np.arange(TREND_BATCHES) - (TREND_BATCHES - 1) / 2) * per
    slope = t @ (series - series.mean(axis=0)) / (t @ t)
    fitted = series.mean(axis=0) + np.outer(t, slope)
    spread = np.sqrt(np.sum((series - fitted) ** 2, axis=0) / (TREND_BATCHES - 2))
    error = spread / math.sqrt(t @ t)
    k = int(np.argmax(np.abs(slope) / np.maximum(error, 1e-300)))
    return Trend(float(abs(slope[k]) * W), float(error[k] * W))


def window_error(series) -> float:
    """The standard error of the mean of a window of iterates, by batch
    means over ``WINDOW_BATCHES`` contiguous batches: the iteration carries
    each pass's sampling noise forward along its slow mode, so successive
    iterates are correlated over several iterations (the GRU at g_h = 3
    wanders by about 1% of E[h^2] over tens of iterations), and a batch of a
    third of the window is longer than that."""
    return float(batch_means(np.asarray(series, dtype=float), WINDOW_BATCHES)[1])
