"""The dynamical mean-field theory by sampling single-unit paths.

For N -> infinity each unit of a random gated network follows the
single-unit process ``s_{t+1} = F(s_t, eta_t)`` (or ``ds/dt = F(s, eta(t))``)
driven by zero-mean Gaussian fields ``eta_a``, independent across ``a``, whose
covariances ``C_a(t, t') = E[v_a(t) v_a(t')]`` are fixed self-consistently by
the unit's own node arguments. :class:`PathSampling` finds the stationary
state by the standard sampling scheme (e.g. Eissfeller and Opper 1992): draw
many paths of ``eta`` with the current ``C_a``, integrate the unit along each,
re-estimate ``C_a`` from the sampled ``v_a`` and iterate (damped) to a fixed
point (``docs/theory/6-dmft.md#sampling``). The converged paths at one time
are a site distribution of the state (``gatefield.sites.from_dmft``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ... import _checks, _sampling
from ..._integrate import heun
from ...errors import GatefieldError, SolverError
from ..codegen import CompiledCell, compile_cell
from ..problems import DMFT
from ..solution import Estimate, Status
from .dmft_solution import SHUT, STATIC_FRACTION, DMFTSolution
from .mixing import Anderson
from .paths import autocorrelation, decay_time, draw, prepare, tail
from .stopping import TREND_SIGMAS, WINDOW_BATCHES, Trend, window_error, window_trend

__all__ = ["PathSampling", "DMFTSolution", "DISCRETE_DEFAULTS", "CONTINUOUS_DEFAULTS", "SHUT"]

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
STARTS = {"large": 1.0, "small": 1e-6}
#: Decay time of the initial ``C(tau)`` as a fraction of the lag window. The
#: tail of a chaotic C(tau) is a soft mode of the iteration, and from a start
#: that decays too fast the iteration stalls at a wrong, too short
#: correlation time; from a slow start it creeps down to the decaying
#: solution (monotonically, but slowly: see ``min_iterations``).
INITIAL_DECAY = 0.25
#: Convergence (``docs/theory/6-dmft.md#stopping-rule``): over the last
#: ``WINDOW`` iterations, the least-squares trend of each ``C_a(0)`` and of
#: each lag average of ``C_a(tau)`` (the tail, the iteration's slowest mode)
#: must be below ``tol`` plus ``TREND_SIGMAS`` standard errors of the trend,
#: relative to ``C_a(0)``. A change per iteration below the sampling noise
#: can still add up to a bias over many iterations (the GRU at g_h = 3 creeps
#: by 2% of E[h^2] after its change per iteration drops below the noise);
#: the trend over a window resolves such a creep down to about
#: ``2 sqrt(12 / WINDOW)`` noise.
WINDOW = 60
#: Tikhonov ridge of Anderson's least squares, relative to the largest squared
#: residual difference: sampled residuals are noisy, and an unregularized fit
#: amplifies that noise along near-collinear differences.
ANDERSON_RIDGE = 1e-3


class _Process:
    """Integrates the single-unit process along given node paths and collects statistics."""

    def __init__(self, compiled: CompiledCell, values: dict, continuous: bool, dt: float, n_burn, n_T, L):
        self.c = compiled
        self.values = values
        self.continuous = continuous
        self.dt = dt
        self.n_burn, self.n_T, self.L = n_burn, n_T, L
        gate_names = set(compiled.gate_names)
        self.gate_index = [j for j, name in enumerate(compiled.definition_names) if name in gate_names]

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
        if c.definitions is not None:
            d_sum = np.zeros((len(c.definition_names), S))
            d_sq = np.zeros_like(d_sum)

        def load(state, t):
            env.update(zip(c.states, state))
            env.update(zip(c.nodes, eta[:, t]))

        def flow(y, t):
            load(y[0], t)
            return (np.array(c.update(env)),)

        n = self.n_burn + self.n_T
        for t in range(n):
            load(s, t)
            if t >= self.n_burn:
                r = t - self.n_burn
                v_rec[:, :, r] = np.array(c.arguments(env))
                s_rec[:, :, r] = s
                if c.definitions is not None:
                    d = np.array(c.definitions(env))
                    d_sum += d
                    d_sq += d * d
                    shut += d[self.gate_index] < SHUT
                    opened += d[self.gate_index] > 1 - SHUT
            if self.continuous:
                # eta is a given path, sampled on the integration grid.
                (s,) = heun(flow, (s,), t, self.dt)
            else:
                s = np.array(c.update(env))
            if not np.all(np.isfinite(s)):
                raise SolverError(
                    f"the single-unit process of cell '{c.cell.name}' diverged at step {t}; try a smaller dt "
                    "or milder parameters"
                )
        # Sites: the last recorded time, states paired with the nodes acting on them.
        sites = (s_rec[:, :, -1].copy(), eta[:, n - 1].copy())
        return {
            "acf_v": autocorrelation(v_rec, self.L),  # (K, S, L)
            "acf_s": autocorrelation(s_rec, self.L),  # (m, S, L)
            "mean_s": s_rec.mean(axis=2),  # (m, S)
            "mean_d": None if d_sum is None else d_sum / self.n_T,
            "sq_d": None if d_sq is None else d_sq / self.n_T,
            "shut": shut / self.n_T,  # (gates, S)
            "open": opened / self.n_T,
            "sites": sites,
        }


def grid(cell, T, burn_in, max_lag, dt) -> tuple:
    """The integration grid of a DMFT solve: ``(step, n_T, n_burn, L)`` in grid
    steps, from times (continuous) or steps (discrete), with their checks."""
    continuous = cell.time == "continuous"
    defaults = CONTINUOUS_DEFAULTS if continuous else DISCRETE_DEFAULTS
    T = defaults["T"] if T is None else T
    burn_in = defaults["burn_in"] if burn_in is None else burn_in
    max_lag = defaults["max_lag"] if max_lag is None else max_lag
    if continuous:
        dt = _checks.positive(defaults["dt"] if dt is None else dt, "dt")
        n_T = int(round(_checks.positive(T, "T") / dt))
        n_burn = int(round(_checks.positive(burn_in, "burn_in", allow_zero=True) / dt))
        L = int(round(_checks.positive(max_lag, "max_lag") / dt)) + 1
    else:
        if dt is not None:
            raise GatefieldError(
                f"cell '{cell.name}' is discrete-time; dt applies only to continuous-time cells, so leave it out"
            )
        dt = 1.0
        n_T = _checks.count(T, "T (steps)", 2)
        n_burn = _checks.count(burn_in, "burn_in (steps)", 0)
        L = _checks.count(max_lag, "max_lag (steps)", 1) + 1
    if L >= n_T:
        raise GatefieldError(
            f"max_lag must be shorter than T (got {L - 1} and {n_T} grid steps); lengthen T or shorten max_lag"
        )
    return float(dt), n_T, n_burn, L


@dataclass(frozen=True)
class PathSampling:
    """Solve a :class:`~gatefield.numerics.problems.DMFT` by sampling paths.

    Attributes
    ----------
    samples : int
        Sample paths per iteration (at least 2).
    T, burn_in, max_lag : int or float, optional
        The recorded window, the burn-in before it and the longest lag of
        ``C(tau)``: steps for a discrete-time cell, time for a continuous-time
        one (defaults :data:`DISCRETE_DEFAULTS`, :data:`CONTINUOUS_DEFAULTS`).
    dt : float, optional
        Continuous time only: the integration step (Heun) and the grid of the
        paths and lags (default 0.1).
    iterations : int
        Most self-consistency iterations.
    min_iterations : int
        Iterate at least this often (unless ``C`` collapses below ``atol``):
        the tail of a chaotic ``C(tau)`` converges slowly (factor about 0.9
        per iteration for the rate network at g = 2) and its drift can hide in
        the sampling noise of one iteration.
    anderson : int
        Depth of Anderson acceleration (0: the damped iteration); a mixed
        step that makes ``C(0)`` negative is replaced by the damped one.
    damping : float
        In (0, 1]: ``C <- (1 - damping) C + damping C_new`` (default 1, the
        plain iteration: the window's average removes its noise, and damping
        only slows the approach).
    tol : float
        Converged when the drift over the last ``window`` iterations is
        below ``tol + 2`` of its standard errors (see ``WINDOW``), or when
        every ``C_a(0)`` is below ``atol``; the measured ``C`` is then the
        mean over that window.
    window : int
        Iterations in the trend test and the final average (default
        ``WINDOW``).
    atol : float
        Absolute floor of ``C_a(0)``: below it a solution counts as zero.
    measure : int
        Extra passes at the converged ``C`` (beyond one), pooled for the
        reported correlations and moments.
    seed : int
        Seed of all sampling (paths and initial states).
    start : {"large", "small"}
        Initial ``C_a(tau) = A exp(-tau / (INITIAL_DECAY max_lag))``: "large"
        reaches a time-dependent (chaotic) branch, "small" a static one.
    progress : callable, optional
        Called after each iteration with a dict (iteration, residual, noise,
        C0 per coupling).
    """

    samples: int = 2000
    T: float | None = None
    burn_in: float | None = None
    max_lag: float | None = None
    dt: float | None = None
    iterations: int = 200
    min_iterations: int = 60
    anderson: int = 0
    damping: float = 1.0
    tol: float = 1e-3
    window: int = WINDOW
    atol: float = 1e-10
    measure: int = 2
    seed: int = 0
    start: str = "large"
    progress: Callable | None = field(default=None, repr=False, compare=False)

    problems = (DMFT,)

    def __post_init__(self):
        _checks.count(self.samples, "the number of samples", 2)
        _checks.count(self.iterations, "the number of iterations", 1)
        _checks.count(self.min_iterations, "min_iterations", 0)
        _checks.count(self.anderson, "the Anderson depth", 0)
        _checks.count(self.measure, "the number of measuring passes", 0)
        _checks.count(self.window, "the window", 2 * WINDOW_BATCHES)
        _checks.count(self.seed, "the seed", 0)
        _checks.fraction(self.damping, "damping")
        _checks.positive(self.tol, "tol", allow_zero=True)
        _checks.positive(self.atol, "atol", allow_zero=True)
        _checks.choice(self.start, "start", tuple(STARTS))

    def settings(self, cell) -> dict:
        step, n_T, n_burn, L = grid(cell, self.T, self.burn_in, self.max_lag, self.dt)
        defaults = CONTINUOUS_DEFAULTS if cell.time == "continuous" else DISCRETE_DEFAULTS
        return {
            "samples": self.samples,
            "T": defaults["T"] if self.T is None else self.T,
            "burn_in": defaults["burn_in"] if self.burn_in is None else self.burn_in,
            "max_lag": defaults["max_lag"] if self.max_lag is None else self.max_lag,
            "dt": step if cell.time == "continuous" else None,
            "damping": self.damping,
            "tol": self.tol,
            "window": self.window,
            "atol": self.atol,
            "measure": self.measure,
            "seed": self.seed,
            "grid": {"T": n_T, "burn_in": n_burn, "lags": L},
            "integrator": "heun" if cell.time == "continuous" else "map",
        }

    def run(self, problem: DMFT) -> DMFTSolution:
        cell = problem.cell
        compiled = compile_cell(cell)
        values = problem.values
        continuous = cell.time == "continuous"
        step, n_T, n_burn, L = grid(cell, self.T, self.burn_in, self.max_lag, self.dt)
        tau = step * np.arange(L)
        K, m = len(compiled.nodes), len(compiled.states)
        names = compiled.couplings
        process = _Process(compiled, values, continuous, step, n_burn, n_T, L)
        length = n_burn + n_T + (1 if continuous else 0)
        rng = _sampling.rng(self.seed, "dmft")
        samples, atol = self.samples, self.atol
        C = np.tile(STARTS[self.start] * np.exp(-tau / (INITIAL_DECAY * tau[-1])), (K, 1))

        def one_pass(C):
            floors, sampled = prepare(C)
            eta, clipped = draw(sampled, floors, length, samples, rng)
            # Initial states on the scale of the current fields, so that the
            # transient left after the burn-in is small relative to C itself.
            s0 = math.sqrt(max(float(np.max(C[:, 0])), 0.0)) * rng.standard_normal((m, samples))
            out = process.run(eta, s0)
            out["clipped"] = clipped
            return out

        status, residual, noise, it = Status.MAX_ITERATIONS, float("nan"), float("nan"), 0
        trend = Trend(float("nan"), float("nan"))
        history: list = []
        moment_history: list = []
        mixing = Anderson(self.anderson, ANDERSON_RIDGE)
        for it in range(1, self.iterations + 1):
            out = one_pass(C)
            C_new = out["acf_v"].mean(axis=1)
            se = out["acf_v"].std(axis=1, ddof=1) / math.sqrt(samples)
            scale = np.maximum(C[:, 0], C_new[:, 0]) + atol
            residual = float(np.max(np.sqrt(np.mean((C_new - C) ** 2, axis=1)) / scale))
            noise = float(np.max(np.sqrt(np.mean(se**2, axis=1)) / scale))
            history.append(C_new)
            moment_history.append(_pass_moments(compiled, out))
            C = mixing.step(C, C_new - C, self.damping, valid=lambda x: bool(np.all(x[:, 0] >= 0)))
            if np.all(C[:, 0] < atol):  # collapsed onto the zero solution
                status = Status.SUCCESS
                break
            if len(history) >= self.window:
                trend = window_trend(np.array(history[-self.window :]))
                if self.progress is not None:
                    self.progress(
                        {
                            "iteration": it,
                            "residual": residual,
                            "noise": noise,
                            "drift": trend.drift,
                            "C0": {n: float(C[a, 0]) for a, n in enumerate(names)},
                        }
                    )
                if it >= self.min_iterations and trend.drift <= self.tol + TREND_SIGMAS * trend.error:
                    status = Status.SUCCESS
                    # The stationary C: the mean over the window, so that one
                    # iteration's sampling noise does not stay in it.
                    C = np.mean(history[-self.window :], axis=0)
                    break
            elif self.progress is not None:
                self.progress(
                    {
                        "iteration": it,
                        "residual": residual,
                        "noise": noise,
                        "drift": float("nan"),
                        "C0": {n: float(C[a, 0]) for a, n in enumerate(names)},
                    }
                )
        passes = [one_pass(C) for _ in range(1 + self.measure)]
        window = moment_history[-self.window :] if status.ok and len(moment_history) >= self.window else []
        return _measure(problem, compiled, passes, tau, status, it, residual, noise, trend, self, window)


def _pass_moments(compiled, out) -> dict:
    """The one-time moments of one pass (means over its paths)."""
    values = {}
    for k, name in enumerate(compiled.states):
        values[f"E[{name}]"] = float(out["mean_s"][k].mean())
        values[f"E[{name}^2]"] = float(out["acf_s"][k, :, 0].mean())
    if out["mean_d"] is not None:
        for j, name in enumerate(compiled.definition_names):
            values[f"E[{name}]"] = float(out["mean_d"][j].mean())
            values[f"E[{name}^2]"] = float(out["sq_d"][j].mean())
    for a, name in enumerate(compiled.couplings):
        values[f"C_{name}(0)"] = float(out["acf_v"][a, :, 0].mean())
    return values


def _measure(problem, compiled, passes, tau, status, it, residual, noise, trend, solver, window) -> DMFTSolution:
    """Pool the passes at the final ``C`` into the reported statistics."""
    acf_v = np.concatenate([p["acf_v"] for p in passes], axis=1)
    acf_s = np.concatenate([p["acf_s"] for p in passes], axis=1)
    mean_s = np.concatenate([p["mean_s"] for p in passes], axis=1)
    root = math.sqrt(acf_v.shape[1])

    def avg(x):  # mean and standard error over paths (the last axis)
        return x.mean(axis=-1), x.std(axis=-1, ddof=1) / root

    C_est = acf_v.mean(axis=1)
    C_err = acf_v.std(axis=1, ddof=1) / root
    moments = {}
    s2, s2e = avg(acf_s[:, :, 0])
    s1, s1e = avg(mean_s)
    for k, name in enumerate(compiled.states):
        moments[f"E[{name}]"] = Estimate(s1[k], s1e[k])
        moments[f"E[{name}^2]"] = Estimate(s2[k], s2e[k])
    if compiled.definitions is not None:
        d1, d1e = avg(np.concatenate([p["mean_d"] for p in passes], axis=1))
        d2, d2e = avg(np.concatenate([p["sq_d"] for p in passes], axis=1))
        for j, name in enumerate(compiled.definition_names):
            moments[f"E[{name}]"] = Estimate(d1[j], d1e[j])
            moments[f"E[{name}^2]"] = Estimate(d2[j], d2e[j])
        gate_index = [j for j, n in enumerate(compiled.definition_names) if n in compiled.gate_names]
        for key in ("shut", "open"):
            share, share_e = avg(np.concatenate([p[key] for p in passes], axis=1))
            for g, j in enumerate(gate_index):
                moments[f"P[{compiled.definition_names[j]} {key}]"] = Estimate(share[g], share_e[g])
    names = compiled.couplings
    for a, name in enumerate(names):
        moments[f"C_{name}(0)"] = Estimate(C_est[a, 0], C_err[a, 0])
    if window:  # the uncertainty the converged C itself carries (see window_error)
        for key, estimate in list(moments.items()):
            if key in window[0]:
                spread = window_error([w[key] for w in window])
                moments[key] = Estimate(estimate.mean, float(np.hypot(estimate.stderr, spread)))
    floors = tail(C_est)
    fluct = C_est[:, 0] - floors
    atol = solver.atol
    static = bool(np.all((C_est[:, 0] < atol) | (fluct <= STATIC_FRACTION * C_est[:, 0])))
    decay = {n: (float("nan") if static else decay_time(C_est[a], tau, floors[a])) for a, n in enumerate(names)}
    cell = problem.cell
    message = ""
    if not status.ok:
        message = (
            f"DMFT for cell '{cell.name}' did not become stationary in {solver.iterations} iterations "
            f"(drift {trend.drift:.3g} +- {trend.error:.3g} of C(0) over the last {solver.window}); "
            "raise iterations or samples"
        )
    return DMFTSolution(
        problem=problem,
        parameters=dict(problem.values),
        time=cell.time,
        tau=tau,
        correlations={n: Estimate(C_est[a], C_err[a]) for a, n in enumerate(names)},
        moments=moments,
        state_correlations={n: acf_s[k].mean(axis=0) for k, n in enumerate(compiled.states)},
        static=static,
        decay_time=decay,
        noise=noise,
        clipped=max(p["clipped"] for p in passes),
        samples=passes[-1]["sites"],
        start=solver.start,
        status=status,
        iterations=it,
        residual=residual,
        settings=solver.settings(cell),
        message=message,
        drift=trend.drift,
        drift_error=trend.error,
    )
