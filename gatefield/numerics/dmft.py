"""Dynamical mean-field theory (DMFT) by sampling (THEORY.md section 6).

For N -> infinity each unit of a random gated network follows the
*single-unit process*

    s_{t+1} = F(s_t, eta_t)            (discrete time)
    ds/dt   = F(s, eta(t))             (continuous time)

driven by external node fields ``eta_a(t)``: zero-mean Gaussian processes,
independent across a, whose covariances are fixed self-consistently by the
unit's own node arguments,

    C_a(t, t') = E[ v_a(t) v_a(t') ],   v_a = v_a(s_t, eta_1(t), ..., eta_{a-1}(t)).

In a stationary state ``C_a(t, t') = C_a(t' - t)``. :func:`solve_dmft` finds
it by the standard sampling scheme (e.g. Eissfeller and Opper 1992; Roy et
al. 2019 for the numerical practice): draw many paths of ``eta`` with the
current ``C_a``, integrate the unit along each, re-estimate ``C_a`` from the
sampled ``v_a`` and iterate (damped) to a fixed point. The converged paths
are a site distribution P of the chaotic (or static) state for the spectral
engine (THEORY.md sections 4-5): :func:`dmft_sites` and
:func:`dmft_site_table` (route "dmft").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.fft

from ..errors import GatefieldError, SolverError, check_count
from ..theory.gates import gates
from ..theory.spec import Cell
from .codegen import CompiledCell, compile_cell, generate
from .support import SiteTable, plugin_sites

__all__ = [
    "DMFTResult",
    "solve_dmft",
    "stationary_gaussian_paths",
    "autocorrelation",
    "dmft_sites",
    "dmft_site_table",
]

#: Defaults for discrete-time cells, in steps: the recorded window, the
#: burn-in before it, and the longest lag kept. Gated discrete cells in their
#: chaotic state decorrelate within tens of steps; a lag window of 100 steps
#: and a record four times longer keep the bias of the lagged averages small.
DISCRETE_DEFAULTS = {"T": 400, "burn_in": 200, "max_lag": 100}
#: Defaults for continuous-time cells, in the cell's time unit (unit leak):
#: the rate network at g = 2 decorrelates over a few time units.
CONTINUOUS_DEFAULTS = {"T": 100.0, "burn_in": 20.0, "max_lag": 30.0, "dt": 0.1}

#: Amplitude ``C(0)`` of the initial correlation for start="large" and
#: start="small". Node arguments of the built-in cells are bounded by 1, so 1
#: is "large"; 1e-6 is far below any chaotic branch but far above round-off.
LARGE_START = 1.0
SMALL_START = 1e-6

#: Decay time of the initial ``C(tau)`` as a fraction of the lag window. The
#: tail of a chaotic C(tau) is a soft mode of the iteration (the
#: Sompolinsky-Crisanti-Sommers equation has a family of bounded, non-decaying
#: solutions next to the decaying one), and from a start that decays too
#: fast the iteration stalls at a wrong, too short correlation time; from a
#: slow start it creeps down to the decaying solution (monotonically, but
#: slowly: see ``min_iterations``).
INITIAL_DECAY = 0.25

#: Convergence: the self-consistency change, the root mean square over lags of
#: ``C_new(tau) - C(tau)`` over ``C(0)``, must be below ``tol + NOISE_SIGMAS *
#: noise``, with ``noise`` the root mean square over lags of the standard
#: error of ``C_new``, for ``QUIET_ITERATIONS`` iterations in a row. Pure
#: noise gives a change of about sqrt(2) noise (both ``C`` and ``C_new`` are
#: estimates), so 2 stops once a drift is no longer resolved; the root mean
#: square over lags (not the largest lag) catches a slow drift of the tail,
#: and two quiet iterations in a row make a stop by chance rare.
NOISE_SIGMAS = 2.0
QUIET_ITERATIONS = 2

#: A solution is static when its fluctuating part ``C(0) - C(inf)`` is below
#: this fraction of ``C(0)`` (a chaotic state has a fraction near 1).
STATIC_FRACTION = 0.05
#: A gate below this counts as shut in the ``P[gate shut]`` moments (and one
#: above ``1 - SHUT`` as open).
SHUT = 0.05

#: The tail of the lag window used for ``C(inf)`` and over which the
#: fluctuating part is tapered to zero: the last quarter.
TAIL_FRACTION = 0.25


# -- Gaussian paths -------------------------------------------------------------------


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


# -- result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DMFTResult:
    """A stationary solution of the single-unit process.

    Attributes
    ----------
    cell : str
    parameters : dict
    time : {"discrete", "continuous"}
    tau : (L,) array
        Lags: steps (discrete) or multiples of ``dt`` (continuous).
    correlations : dict
        Coupling name -> ``C_a(tau)`` (L,), the node covariance
        ``E[v_a(t) v_a(t + tau)] = E[eta_a(t) eta_a(t + tau)]``.
    correlation_errors : dict
        Coupling name -> standard error of ``C_a(tau)`` from the sample-to-sample scatter.
    moments : dict
        One-time moments: ``"E[s]"`` and ``"E[s^2]"`` for every state and
        every intermediate definition (gates, candidates) ``s``;
        ``"P[g shut]"`` and ``"P[g open]"``, the share of time a gate ``g``
        spends below ``SHUT`` or above ``1 - SHUT``; and ``"C_J(0)"``
        (= ``E[v^2]``) for every coupling ``J``.
    moment_errors : dict
        Standard errors of ``moments`` (independent sample paths).
    sampling_error : dict
        Coupling name -> standard error of ``C_a(0)``.
    state_correlations : dict
        State name -> ``E[s(t) s(t + tau)]`` (L,).
    static : bool
        True when every fluctuating part ``C_a(0) - C_a(inf)`` is below
        ``STATIC_FRACTION * C_a(0)`` (or ``C_a(0)`` is below ``atol``): a
        fixed-point (possibly zero) solution rather than a time-dependent one.
    decay_time : dict
        Coupling name -> first lag where ``C_a(tau) - C_a(inf)`` falls below
        ``(C_a(0) - C_a(inf)) / e`` (linear interpolation); nan when static
        or when it does not fall within the window.
    status : str
        "converged" or "max iterations".
    iterations : int
    residual : float
        The last self-consistency change ``max_a rms_tau (C_new - C) / C_a(0)``.
    noise : float
        The sampling-noise level of ``C_new`` (``max_a rms_tau`` of its
        standard error over ``C_a(0)``).
    clipped : float
        Largest clipped eigenvalue mass of the circulant embeddings in the
        final pass (0 = the paths had exactly the requested covariance).
    sites : tuple of arrays
        ``(states (m, S), nodes (K, S))`` of the sample paths at one time
        after the burn-in: a site distribution of the stationary state.
    start : str
    settings : dict
        samples, T, burn_in, max_lag, dt, damping, tol, seed (grid counts too).
    """

    cell: str
    parameters: dict
    time: str
    tau: np.ndarray = field(repr=False)
    correlations: dict = field(repr=False)
    correlation_errors: dict = field(repr=False)
    moments: dict
    moment_errors: dict
    sampling_error: dict
    state_correlations: dict = field(repr=False)
    static: bool
    decay_time: dict
    status: str
    iterations: int
    residual: float
    noise: float
    clipped: float
    sites: tuple = field(repr=False)
    start: str
    settings: dict

    def to_json(self) -> dict:
        return {
            "route": "dmft",
            "cell": self.cell,
            "parameters": self.parameters,
            "time": self.time,
            "start": self.start,
            "status": self.status,
            "iterations": self.iterations,
            "residual": self.residual,
            "noise": self.noise,
            "clipped": self.clipped,
            "static": self.static,
            "moments": self.moments,
            "moment_errors": self.moment_errors,
            "sampling_error": self.sampling_error,
            "decay_time": self.decay_time,
            "tau": self.tau.tolist(),
            "correlations": {k: v.tolist() for k, v in self.correlations.items()},
            "settings": self.settings,
        }


# -- the single-unit process ----------------------------------------------------------------


def _definitions(cell: Cell):
    """A generated function of every intermediate definition (gates etc.), or None."""
    if not cell.definitions:
        return None, ()
    expanded, subs = [], {}
    for symbol, expr in cell.definitions:
        e = expr.subs(subs)
        subs[symbol] = e
        expanded.append(e)
    everything = cell.states + cell.nodes + cell.parameter_symbols
    names = tuple(str(s) for s, _ in cell.definitions)
    return generate("definitions", expanded, everything), names


class _Process:
    """Integrates the single-unit process along given node paths and collects statistics."""

    def __init__(
        self, compiled: CompiledCell, values: dict, continuous: bool, dt: float, n_burn: int, n_T: int, L: int
    ):
        self.c = compiled
        self.values = values
        self.continuous = continuous
        self.dt = dt
        self.n_burn, self.n_T, self.L = n_burn, n_T, L
        self.definitions, self.definition_names = _definitions(compiled.cell)
        gate_names = {g.name for g in gates(compiled.cell)}
        self.gate_index = [j for j, name in enumerate(self.definition_names) if name in gate_names]

    def run(self, eta: np.ndarray, s0: np.ndarray) -> dict:
        """``eta``: (K, n, S) node paths (n = burn-in + T, +1 in continuous time)."""
        c, m, K = self.c, len(self.c.states), len(self.c.nodes)
        S = s0.shape[1]
        env = dict(self.values)
        s = s0.copy()
        v_rec = np.empty((K, S, self.n_T))
        s_rec = np.empty((m, S, self.n_T))
        d_sum = d_sq = None
        shut = np.zeros((len(self.gate_index), S))
        opened = np.zeros_like(shut)
        if self.definitions is not None:
            d_sum = np.zeros((len(self.definition_names), S))
            d_sq = np.zeros_like(d_sum)

        def load(state, t):
            env.update(zip(c.states, state))
            env.update(zip(c.nodes, eta[:, t]))

        n = self.n_burn + self.n_T
        for t in range(n):
            load(s, t)
            if t >= self.n_burn:
                r = t - self.n_burn
                v_rec[:, :, r] = np.array(c.arguments(env))
                s_rec[:, :, r] = s
                if self.definitions is not None:
                    d = np.array(self.definitions(env))
                    d_sum += d
                    d_sq += d * d
                    shut += d[self.gate_index] < SHUT
                    opened += d[self.gate_index] > 1 - SHUT
            f0 = np.array(c.update(env))
            if not self.continuous:
                s = f0
            else:
                # Heun (explicit trapezoidal rule, second order): eta is a
                # given path, sampled on the same grid.
                load(s + self.dt * f0, t + 1)
                f1 = np.array(c.update(env))
                s = s + 0.5 * self.dt * (f0 + f1)
            if not np.all(np.isfinite(s)):
                raise SolverError(
                    f"the single-unit process of cell '{c.cell.name}' diverged at "
                    f"step {t}; try a smaller dt or milder parameters"
                )
        # Sites: the last recorded time, states paired with the nodes acting on them.
        t_site = n - 1
        sites = (s_rec[:, :, -1].copy(), eta[:, t_site].copy())
        return {
            "acf_v": autocorrelation(v_rec, self.L),  # (K, S, L)
            "acf_s": autocorrelation(s_rec, self.L),  # (m, S, L)
            "mean_s": s_rec.mean(axis=2),  # (m, S)
            "mean_v": v_rec.mean(axis=2),  # (K, S)
            "mean_d": None if d_sum is None else d_sum / self.n_T,
            "sq_d": None if d_sq is None else d_sq / self.n_T,
            "shut": shut / self.n_T,  # (gates, S)
            "open": opened / self.n_T,
            "sites": sites,
        }


def _draw(C: np.ndarray, floors, length: int, samples: int, rng) -> tuple:
    K = C.shape[0]
    eta = np.empty((K, length, samples))
    clipped = 0.0
    for a in range(K):
        paths, cl = stationary_gaussian_paths(C[a], length, samples, rng, floors[a])
        eta[a] = paths.T
        clipped = max(clipped, cl)
    return eta, clipped


def _tail(C: np.ndarray) -> np.ndarray:
    """``C(inf)`` per coupling: the mean over the window's last quarter, in [0, C(0)]."""
    L = C.shape[1]
    k = max(1, int(round(TAIL_FRACTION * L)))
    return np.clip(C[:, L - k :].mean(axis=1), 0.0, np.maximum(C[:, 0], 0.0))


def _prepare(C: np.ndarray) -> tuple:
    """The floor and the tapered covariance actually sampled."""
    floors = _tail(C)
    taper = _taper(C.shape[1])
    return floors, floors[:, None] + (C - floors[:, None]) * taper


def _decay_time(C: np.ndarray, tau: np.ndarray, floor: float) -> float:
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


#: Tikhonov regularization of Anderson's least squares, relative to the
#: largest squared residual difference: sampled residuals are noisy, and an
#: unregularized fit amplifies that noise along near-collinear differences.
ANDERSON_RIDGE = 1e-3


def _next_iterate(C, C_new, damping: float, history: list, depth: int) -> np.ndarray:
    """The damped step, or with ``depth > 0`` Anderson's (type II) mixed step.

    With residuals ``f_k = C_new_k - C_k`` and the differences ``dX``, ``dF``
    of the last ``depth`` iterates and residuals,
    ``gamma = argmin |f_k - dF gamma|^2 + ridge |gamma|^2`` and
    ``C_{k+1} = C_k + b f_k - (dX + b dF) gamma`` (b = damping)
    (Walker and Ni 2011).
    """
    damped = C + damping * (C_new - C)
    if depth == 0:
        return damped
    x, f = C.ravel(), (C_new - C).ravel()
    history.append((x.copy(), f.copy()))
    del history[: -(depth + 1)]
    if len(history) < 2:
        return damped
    dX = np.stack([history[k + 1][0] - history[k][0] for k in range(len(history) - 1)], axis=1)
    dF = np.stack([history[k + 1][1] - history[k][1] for k in range(len(history) - 1)], axis=1)
    gram = dF.T @ dF
    ridge = ANDERSON_RIDGE * max(float(np.max(np.diag(gram))), 1e-300)
    gamma = np.linalg.solve(gram + ridge * np.eye(len(gram)), dF.T @ f)
    mixed = (x + damping * f - (dX + damping * dF) @ gamma).reshape(C.shape)
    if not np.all(np.isfinite(mixed)) or np.any(mixed[:, 0] < 0):
        history.clear()
        return damped
    return mixed


def _positive(value, what: str, allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GatefieldError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise GatefieldError(
            f"{what} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value!r}"
        )
    return x


def solve_dmft(
    cell: Cell,
    parameters: dict | None = None,
    *,
    samples: int = 2000,
    T=None,
    burn_in=None,
    max_lag=None,
    dt: float | None = None,
    iterations: int = 60,
    min_iterations: int = 40,
    anderson: int = 0,
    damping: float = 0.5,
    tol: float = 1e-3,
    atol: float = 1e-10,
    measure: int = 2,
    seed: int = 0,
    start: str = "large",
    progress=None,
    raise_on_failure: bool = False,
):
    """Solve the stationary single-unit (DMFT) process by sampling.

    Parameters
    ----------
    cell : Cell
    parameters : dict, optional
        Overrides of the cell's defaults.
    samples : int
        Sample paths per iteration (at least 2).
    T, burn_in, max_lag : int or float, optional
        The recorded window, the burn-in before it and the longest lag of
        ``C(tau)``: steps for a discrete-time cell, time for a continuous-time
        one (defaults :data:`DISCRETE_DEFAULTS`, :data:`CONTINUOUS_DEFAULTS`).
        ``max_lag`` must be shorter than ``T``.
    dt : float, optional
        Continuous time only: the integration step of the unit (Heun's
        method) and the grid of the node paths and lags (default 0.1).
    iterations : int
        Largest number of self-consistency iterations.
    min_iterations : int
        Iterate at least this often (unless ``C`` collapses below ``atol``).
        The tail of a chaotic ``C(tau)`` converges slowly (factor about 0.9
        per iteration for the rate network at g = 2) and its drift can hide
        in the sampling noise of one iteration, so a conservative floor on
        the iterations is the safe choice for correlation times.
    damping : float
        In (0, 1]: ``C <- (1 - damping) C + damping C_new``.
    anderson : int
        Depth of Anderson acceleration (0: plain damped iteration). The mixing
        extrapolates along the slow direction of the iteration (the tail of a
        chaotic ``C(tau)``); each step is checked (``C(0) >= 0``, finite)
        and replaced by the damped step when it fails.
    tol : float
        Converged when the change ``rms_tau (C_new - C) / C_a(0)`` is below
        ``tol + NOISE_SIGMAS * noise`` (``noise``: the rms sampling error of
        ``C_new``) in ``QUIET_ITERATIONS`` iterations in a row, or when every
        ``C_a(0)`` has fallen below ``atol``.
    atol : float
        Absolute floor of ``C_a(0)``: below it a solution counts as zero.
    measure : int
        Extra passes at the converged ``C``, pooled (with the last iteration's
        pass) for the reported correlations, moments and their errors.
    seed : int
        Seed of all sampling (paths and initial states).
    start : {"large", "small", "both"}
        Initial ``C_a(tau) = A exp(-tau / (INITIAL_DECAY max_lag))`` with ``A =``
        :data:`LARGE_START` or :data:`SMALL_START`, so that both a
        time-dependent (chaotic) branch and a static branch can be reached;
        "both" solves from each and returns ``(large, small)``.
    progress : callable, optional
        Called after each iteration with a dict (iteration, residual, noise,
        C0 and C (the damped iterate) per coupling).
    raise_on_failure : bool
        Raise :class:`SolverError` when ``iterations`` run out before
        convergence; otherwise the result's status says "max iterations".

    Returns
    -------
    DMFTResult, or a tuple (large, small) of them for start="both".

    Notes
    -----
    The single-unit process (THEORY.md section 6)::

        s_{t+1} = F(s_t, eta_t)   or   ds/dt = F(s, eta(t))
        v_a(t)  = v_a(s_t, eta_1(t), ..., eta_{a-1}(t))
        eta_a   ~ GP(0, C_a),  independent across a,  C_a(tau) = E[v_a(t) v_a(t + tau)]

    One iteration: draw ``samples`` paths of every ``eta_a`` of length
    ``burn_in + T`` with the current stationary ``C_a(tau)`` by circulant
    embedding (:func:`stationary_gaussian_paths`; ``C_a`` is known on lags
    ``0..max_lag``, its mean over the last quarter of the window is the
    static part ``C_a(inf)``, drawn as one offset per path, and the
    fluctuating rest is cosine-tapered to zero over that quarter); integrate
    the unit from ``s_0 ~ N(0, max_a C_a(0))`` along each path (discrete: the map;
    continuous: Heun's method with step ``dt``, where the node path is
    sampled on the same grid); record ``v_a`` after the burn-in and estimate
    ``C_new(tau)`` as the mean over paths and over all time origins of
    ``v_a(t) v_a(t + tau)`` (:func:`autocorrelation`); damp
    ``C <- (1 - damping) C + damping C_new``.

    Errors: paths are independent, so the standard error of any average is
    the scatter of the per-path time averages over ``sqrt(paths)``. The
    systematic errors are the time step (continuous, O(dt^2)), the finite lag
    window (the fluctuating part is set to zero beyond ``max_lag``) and the
    residual of the iteration; check them by changing ``dt``, ``max_lag`` and
    ``iterations``.
    """
    if start == "both":
        kw = dict(
            samples=samples,
            T=T,
            burn_in=burn_in,
            max_lag=max_lag,
            dt=dt,
            iterations=iterations,
            min_iterations=min_iterations,
            anderson=anderson,
            damping=damping,
            tol=tol,
            atol=atol,
            measure=measure,
            seed=seed,
            progress=progress,
            raise_on_failure=raise_on_failure,
        )
        return (
            solve_dmft(cell, parameters, start="large", **kw),
            solve_dmft(cell, parameters, start="small", **kw),
        )
    if start not in ("large", "small"):
        raise GatefieldError(f"start must be 'large', 'small' or 'both', got {start!r}")
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    continuous = cell.time == "continuous"
    samples = check_count(samples, "the number of samples", 2)
    iterations = check_count(iterations, "the number of iterations", 1)
    min_iterations = check_count(min_iterations, "min_iterations", 0)
    anderson = check_count(anderson, "the Anderson depth", 0)
    measure = check_count(measure, "the number of measuring passes", 0)
    seed = check_count(seed, "the seed", 0)
    damping = _positive(damping, "damping")
    if damping > 1:
        raise GatefieldError(f"damping must be in (0, 1], got {damping}")
    tol = _positive(tol, "tol", allow_zero=True)
    atol = _positive(atol, "atol", allow_zero=True)
    defaults = CONTINUOUS_DEFAULTS if continuous else DISCRETE_DEFAULTS
    T = defaults["T"] if T is None else T
    burn_in = defaults["burn_in"] if burn_in is None else burn_in
    max_lag = defaults["max_lag"] if max_lag is None else max_lag
    if continuous:
        dt = _positive(defaults["dt"] if dt is None else dt, "dt")
        n_T = int(round(_positive(T, "T") / dt))
        n_burn = int(round(_positive(burn_in, "burn_in", allow_zero=True) / dt))
        L = int(round(_positive(max_lag, "max_lag") / dt)) + 1
    else:
        if dt is not None:
            raise GatefieldError(
                f"cell '{cell.name}' is discrete-time; dt applies only to "
                "continuous-time cells, so leave it out"
            )
        n_T = check_count(T, "T (steps)", 2)
        n_burn = check_count(burn_in, "burn_in (steps)", 0)
        L = check_count(max_lag, "max_lag (steps)", 1) + 1
    if L >= n_T:
        raise GatefieldError(
            f"max_lag must be shorter than T (got {L - 1} and {n_T} grid steps); "
            "lengthen T or shorten max_lag"
        )
    step = dt if continuous else 1.0
    tau = step * np.arange(L)
    K, m = len(compiled.nodes), len(compiled.states)
    names = [cp.matrix for cp in cell.couplings]
    process = _Process(compiled, values, continuous, step, n_burn, n_T, L)
    length = n_burn + n_T + (1 if continuous else 0)
    rng = np.random.default_rng([seed, 0xD3F7])

    amp = LARGE_START if start == "large" else SMALL_START
    C = np.tile(amp * np.exp(-tau / (INITIAL_DECAY * tau[-1])), (K, 1))

    def one_pass(C):
        floors, sampled = _prepare(C)
        eta, clipped = _draw(sampled, floors, length, samples, rng)
        # Initial states on the scale of the current fields, so that the
        # transient left after the burn-in is small relative to C itself
        # (also when C collapses towards zero).
        s0 = math.sqrt(max(float(np.max(C[:, 0])), 0.0)) * rng.standard_normal((m, samples))
        out = process.run(eta, s0)
        out["clipped"] = clipped
        return out

    status, residual, noise, it = "max iterations", float("nan"), float("nan"), 0
    last, quiet, history = None, 0, []
    for it in range(1, iterations + 1):
        out = one_pass(C)
        C_new = out["acf_v"].mean(axis=1)
        se = out["acf_v"].std(axis=1, ddof=1) / math.sqrt(samples)
        scale = np.maximum(C[:, 0], C_new[:, 0]) + atol
        residual = float(np.max(np.sqrt(np.mean((C_new - C) ** 2, axis=1)) / scale))
        noise = float(np.max(np.sqrt(np.mean(se**2, axis=1)) / scale))
        C = _next_iterate(C, C_new, damping, history, anderson)
        last = out
        quiet = quiet + 1 if residual <= tol + NOISE_SIGMAS * noise else 0
        if progress is not None:
            progress(
                {
                    "iteration": it,
                    "residual": residual,
                    "noise": noise,
                    "C0": {n: float(C[a, 0]) for a, n in enumerate(names)},
                    "C": {n: C[a].copy() for a, n in enumerate(names)},
                }
            )
        if (quiet >= QUIET_ITERATIONS and it >= min_iterations) or np.all(C[:, 0] < atol):
            status = "converged"
            break
    if status != "converged" and raise_on_failure:
        raise SolverError(
            f"DMFT for cell '{cell.name}' did not converge in {iterations} iterations "
            f"(residual {residual:.3g}, noise {noise:.3g}); raise iterations or samples"
        )

    # Measurement: the last iteration's pass plus `measure` passes at the final C, pooled.
    passes = [last] + [one_pass(C) for _ in range(measure)]
    acf_v = np.concatenate([p["acf_v"] for p in passes], axis=1)
    acf_s = np.concatenate([p["acf_s"] for p in passes], axis=1)
    mean_s = np.concatenate([p["mean_s"] for p in passes], axis=1)
    n_paths = acf_v.shape[1]
    root = math.sqrt(n_paths)

    def avg(x):  # mean and standard error over paths (last axis is paths)
        return x.mean(axis=-1), x.std(axis=-1, ddof=1) / root

    C_est = acf_v.mean(axis=1)
    C_err = acf_v.std(axis=1, ddof=1) / root
    moments, errors = {}, {}
    s2, s2e = avg(acf_s[:, :, 0])
    s1, s1e = avg(mean_s)
    for k, name in enumerate(compiled.states):
        moments[f"E[{name}]"], errors[f"E[{name}]"] = float(s1[k]), float(s1e[k])
        moments[f"E[{name}^2]"], errors[f"E[{name}^2]"] = float(s2[k]), float(s2e[k])
    if process.definitions is not None:
        d1, d1e = avg(np.concatenate([p["mean_d"] for p in passes], axis=1))
        d2, d2e = avg(np.concatenate([p["sq_d"] for p in passes], axis=1))
        for j, name in enumerate(process.definition_names):
            moments[f"E[{name}]"], errors[f"E[{name}]"] = float(d1[j]), float(d1e[j])
            moments[f"E[{name}^2]"], errors[f"E[{name}^2]"] = float(d2[j]), float(d2e[j])
        for key in ("shut", "open"):
            share, share_e = avg(np.concatenate([p[key] for p in passes], axis=1))
            for g, j in enumerate(process.gate_index):
                name = process.definition_names[j]
                moments[f"P[{name} {key}]"], errors[f"P[{name} {key}]"] = float(share[g]), float(share_e[g])
    for a, name in enumerate(names):
        moments[f"C_{name}(0)"], errors[f"C_{name}(0)"] = float(C_est[a, 0]), float(C_err[a, 0])

    floors = _tail(C_est)
    fluct = C_est[:, 0] - floors
    static = bool(np.all((C_est[:, 0] < atol) | (fluct <= STATIC_FRACTION * C_est[:, 0])))
    decay = {
        n: (float("nan") if static else _decay_time(C_est[a], tau, floors[a])) for a, n in enumerate(names)
    }
    settings = {
        "samples": samples,
        "T": T,
        "burn_in": burn_in,
        "max_lag": max_lag,
        "dt": dt if continuous else None,
        "damping": damping,
        "tol": tol,
        "atol": atol,
        "measure": measure,
        "seed": seed,
        "grid": {"T": n_T, "burn_in": n_burn, "lags": L},
        "integrator": "heun" if continuous else "map",
    }
    return DMFTResult(
        cell=cell.name,
        parameters=dict(values),
        time=cell.time,
        tau=tau,
        correlations={n: C_est[a] for a, n in enumerate(names)},
        correlation_errors={n: C_err[a] for a, n in enumerate(names)},
        moments=moments,
        moment_errors=errors,
        sampling_error={n: float(C_err[a, 0]) for a, n in enumerate(names)},
        state_correlations={n: acf_s[k].mean(axis=0) for k, n in enumerate(compiled.states)},
        static=static,
        decay_time=decay,
        status=status,
        iterations=it,
        residual=residual,
        noise=noise,
        clipped=max(p["clipped"] for p in passes),
        sites=passes[-1]["sites"],
        start=start,
        settings=settings,
    )


def dmft_sites(result: DMFTResult) -> tuple:
    """``(states (m, S), nodes (K, S))`` of the DMFT sample paths at one time.

    The stationary state's site distribution P (THEORY.md section 6): use it
    where the plug-in route uses per-unit values of a simulation.
    """
    return result.sites


def dmft_site_table(cell: Cell, result: DMFTResult) -> SiteTable:
    """The :class:`SiteTable` of a DMFT solution (route "dmft") for the spectral engine."""
    if cell.name != result.cell:
        raise GatefieldError(f"the DMFT result is for cell '{result.cell}', not '{cell.name}'")
    states, nodes = result.sites
    table = plugin_sites(compile_cell(cell), result.parameters, states, nodes)
    return replace(table, route="dmft")
