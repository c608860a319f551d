"""Stationary Gaussian paths and the statistics of sampled paths.

Shared by the sampling DMFT (:mod:`.sampling`) and its tangent process
(:mod:`.tangent`): circulant-embedding draws of stationary Gaussian
processes with a static floor and a tapered window, all-time-origin
autocorrelations, and the decay time of a correlation function
(``docs/theory/6-dmft.md#sampling``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

__all__ = ["stationary_gaussian_paths", "autocorrelation", "draw", "tail", "prepare", "decay_time"]

#: The tail of the lag window used for ``C(inf)`` and over which the
#: fluctuating part is tapered to zero: the last quarter.
TAIL_FRACTION = 0.25


def _taper(L: int) -> np.ndarray:
    """1 on the first 3/4 of the window, a half cosine to 0 over the last quarter."""
    w = np.ones(L)
    k = max(1, int(round(TAIL_FRACTION * L)))
    if L > 1:
        w[L - k :] = 0.5 * (1 + np.cos(np.pi * (np.arange(k) + 1) / k))
    return w


def stationary_gaussian_paths(
    correlation, length: int, samples: int, rng: np.random.Generator, floor: float = 0.0
) -> tuple:
    """Paths of a stationary zero-mean Gaussian process, by circulant embedding.

    Parameters
    ----------
    correlation : (L,) array
        ``C(tau)`` at lags ``tau = 0..L-1`` (grid steps), including ``floor``.
    length : int
        Number of time points of each path.
    samples : int
        Number of independent paths.
    rng : numpy.random.Generator
    floor : float
        ``C(inf)``: the covariance at lags beyond the window. It is drawn as a
        static Gaussian offset per path (variance ``floor``), the rest,
        ``C(tau) - floor``, as the fluctuating part, taken as zero beyond the
        window.

    Returns
    -------
    paths : (samples, length) array
    clipped : float
        Mass of negative eigenvalues of the circulant embedding that were set
        to zero, as a fraction of the total eigenvalue mass; 0 when the
        embedding is non-negative definite (then the paths have exactly the
        requested covariance).

    Notes
    -----
    The fluctuating part ``c(k) = C(k) - floor`` is placed in the first row of
    an M x M circulant, ``row[k] = row[M-k] = c(k)`` for ``k < L`` and zero
    between, with ``M >= length + L`` so that the leading ``length x length``
    block is the Toeplitz covariance. The circulant's eigenvalues are
    ``lam = FFT(row)`` (real); with ``Z = Z1 + i Z2`` standard complex normal,
    ``Y = FFT(sqrt(lam / M) Z)`` has independent real and imaginary parts,
    each with covariance ``row`` (Dietrich and Newsam 1997). Negative ``lam``
    (a sampled ``C`` need not be positive definite) are clipped to zero.
    """
    c = np.asarray(correlation, dtype=float)
    L = len(c)
    floor = float(max(floor, 0.0))
    fluct = c - floor
    M = scipy.fft.next_fast_len(length + L, real=True)
    row = np.zeros(M)
    row[:L] = fluct
    row[M - L + 1 :] = fluct[1:][::-1]
    lam = scipy.fft.rfft(row).real  # row is symmetric: a real spectrum
    # Full spectrum weights: lam[k] and lam[M-k] coincide.
    mult = np.full(len(lam), 2.0)
    mult[0] = 1.0
    if M % 2 == 0:
        mult[-1] = 1.0
    total = float(np.sum(mult * np.abs(lam)))
    clipped = float(np.sum(mult * np.maximum(-lam, 0.0)) / total) if total > 0 else 0.0
    lam_full = np.concatenate([lam, lam[1 : M - len(lam) + 1][::-1]])
    amp = np.sqrt(np.maximum(lam_full, 0.0) / M)
    half = (samples + 1) // 2
    Z = rng.standard_normal((half, M)) + 1j * rng.standard_normal((half, M))
    Y = scipy.fft.fft(amp * Z, axis=1)[:, :length]
    paths = np.concatenate([Y.real, Y.imag])[:samples]
    if floor > 0:
        paths = paths + math.sqrt(floor) * rng.standard_normal((samples, 1))
    return paths, clipped


def autocorrelation(x, lags: int) -> np.ndarray:
    """Per-path time-averaged products ``mean_t x(t) x(t + tau)``, ``tau < lags``.

    Parameters
    ----------
    x : (..., T) array
    lags : int
        At most T.

    Returns
    -------
    (..., lags) array
        Entry ``tau`` is ``sum_{t < T - tau} x(t) x(t + tau) / (T - tau)``
        (every time origin in the window, unbiased), by FFT.
    """
    x = np.asarray(x, dtype=float)
    T = x.shape[-1]
    n = scipy.fft.next_fast_len(T + lags, real=True)
    f = scipy.fft.rfft(x, n=n, axis=-1)
    acf = scipy.fft.irfft(f * np.conj(f), n=n, axis=-1)[..., :lags]
    return acf / (T - np.arange(lags))


def draw(C: np.ndarray, floors, length: int, samples: int, rng) -> tuple:
    """Paths of every coupling's field: ``(K, length, samples)``, and the largest clipped mass."""
    K = C.shape[0]
    eta = np.empty((K, length, samples))
    clipped = 0.0
    for a in range(K):
        paths, cl = stationary_gaussian_paths(C[a], length, samples, rng, floors[a])
        eta[a] = paths.T
        clipped = max(clipped, cl)
    return eta, clipped


def tail(C: np.ndarray) -> np.ndarray:
    """``C(inf)`` per coupling: the mean over the window's last quarter, in [0, C(0)]."""
    L = C.shape[1]
    k = max(1, int(round(TAIL_FRACTION * L)))
    return np.clip(C[:, L - k :].mean(axis=1), 0.0, np.maximum(C[:, 0], 0.0))


def prepare(C: np.ndarray) -> tuple:
    """The floor and the tapered covariance actually sampled."""
    floors = tail(C)
    taper = _taper(C.shape[1])
    return floors, floors[:, None] + (C - floors[:, None]) * taper


def decay_time(C: np.ndarray, tau: np.ndarray, floor: float) -> float:
    """First lag where ``C - floor`` falls below ``(C(0) - floor) / e`` (linear
    interpolation); nan when it does not fall within the window."""
    amp = C[0] - floor
    if not amp > 0:
        return float("nan")
    target = amp / math.e
    x = C - floor
    below = np.nonzero(x < target)[0]
    if len(below) == 0:
        return float("nan")
    k = int(below[0])
    if k == 0:
        return float(tau[0])
    frac = (x[k - 1] - target) / (x[k - 1] - x[k])
    return float(tau[k - 1] + frac * (tau[k] - tau[k - 1]))
