"""The maximal Lyapunov exponent of a DMFT state: the linearized two-replica process.

Two replicas of a network with the same couplings, started a small distance
apart, separate at the rate of the maximal Lyapunov exponent. At N ->
infinity, linearized about the diagonal, the replica pair is the DMFT unit
with a tangent perturbation riding on it::

    ds/dt (or s_{t+1}) = F(s, eta)                                    (the DMFT unit)
    d ds/dt (or ds_{t+1}) = A ds + B d_eta,   dv = C ds + E d_eta    (its tangent)

with the per-unit pencil evaluated along the sample path and ``d_eta_a`` a
zero-mean Gaussian process, independent across ``a`` and of ``eta``, whose
covariance is fixed by the tangent itself, ``K_a(t, t') = E[dv_a(t)
dv_a(t')]``. Tilting by ``exp(-mu t)`` turns this causal linear problem into
a stationary eigenproblem ``k = L_mu[k]``; the exponent is the ``mu`` at which
its leading eigenvalue ``rho(mu)`` is 1 (the derivation, the Newton step on
``mu`` and the checks: ``docs/theory/7-lyapunov.md#two-replica``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ... import _checks, _sampling
from ..._integrate import heun
from ...errors import GatefieldError, SolverError
from ..codegen import compile_cell
from ..problems import DMFT, TangentDMFT
from ..solution import Estimate, Solution, Status
from .paths import autocorrelation, draw, prepare
from .sampling import DMFTSolution, PathSampling

__all__ = ["TangentSampling", "LyapunovSolution"]

#: Initial tangent covariance ``k_a(tau) = exp(-tau / INITIAL_CORRELATION)``,
#: in steps (discrete time) or time units (continuous time): short-correlated,
#: since the tangent field of a chaotic state is nearly white (exactly white
#: for the vanilla map); the iteration reshapes it.
INITIAL_CORRELATION = 1.0

#: Largest ``|log rho|`` one Newton step of the shift may use (a trust
#: region): the step is ``log rho / (2 M)`` and ``M`` itself changes with
#: ``mu`` on the scale ``1 / M`` (for a flow relaxing at rate ``1 + mu``,
#: ``M = 1 / (1 + mu)`` and ``d M / d mu = -M^2``), so over a step bounded by
#: ``1 / (2 M)`` the slope of ``log rho`` changes by at most half: the tilt
#: cannot overshoot past the unit's own relaxation rate, where the tilted
#: tangent would grow inside the window. The exact step for the vanilla map
#: at g = 0.5 from a zero shift (log 0.25 / 2) takes two bounded steps.
LOG_RHO_MAX = 1.0

#: Floor of the memory ``M`` (``-d log rho / d mu / 2``) in grid steps: a
#: noisy or vanishing estimate (a node argument that depends on the tangent
#: field directly, through ``E``, has no memory) must not make the Newton step
#: blow up. A floor above the true ``M`` only shortens the step (the
#: iteration still converges, geometrically with factor ``1 - M / floor``).
MEMORY_FLOOR_STEPS = 1.0

#: The averaging window is "converged" when the means of its two halves
#: differ by less than this many standard errors of their difference.
DRIFT_SIGMAS = 3.0


@dataclass(frozen=True, kw_only=True)
class LyapunovSolution(Solution):
    """The maximal Lyapunov exponent of a DMFT state.

    Attributes
    ----------
    problem : TangentDMFT
    parameters : dict
    time : {"discrete", "continuous"}
    exponent : Estimate
        ``lambda`` per step (discrete) or per unit time (continuous): the
        mean of the per-iteration estimates over the averaging window; its
        error is the larger of their scatter over the root of their number
        and the path-sampling error (``noise``).
    noise : float
        The error expected from the scatter of the sample paths alone.
    history : dict of arrays
        Per iteration: ``"shift"`` (``mu``), ``"rho"`` (growth factor of the
        tangent covariance), ``"memory"`` (``M``) and ``"estimate"``
        (``mu + log rho / (2 M)``): ``log rho`` against ``mu`` crosses zero at
        ``lambda``.
    tau : (L,) array
    tangent_correlations : dict
        Coupling name -> the self-consistent ``k_a(tau)`` of the tilted
        tangent field (normalized: ``sum_a k_a(0) = 1``).
    dmft : DMFTSolution
        The state linearized about.

    ``status`` is ``SUCCESS`` when the two halves of the averaging window
    agree within ``DRIFT_SIGMAS``, else ``NOT_STATIONARY``.
    """

    problem: TangentDMFT = field(repr=False, metadata={"json": False})
    parameters: dict
    time: str
    exponent: Estimate
    noise: float
    history: dict = field(repr=False)
    tau: np.ndarray = field(repr=False)
    tangent_correlations: dict = field(repr=False)
    dmft: DMFTSolution = field(repr=False, metadata={"json": False})

    def to_json(self) -> dict:
        from ..._json import encode

        return {
            "route": "dmft",
            "method": "two-replica",
            "cell": self.problem.cell.name,
            "parameters": self.parameters,
            "time": self.time,
            "exponent": self.exponent.mean,
            "stderr": self.exponent.stderr,
            "noise": self.noise,
            "status": self.status.value,
            "iterations": self.iterations,
            "history": encode(self.history),
            "tau": encode(self.tau),
            "tangent_correlations": encode(self.tangent_correlations),
            "dmft_status": self.dmft.status.value,
            "static": self.dmft.static,
            "settings": self.settings,
        }


class _Tangent:
    """Integrates the DMFT unit and its tilted tangent (and the tangent's
    derivative in the tilt) along given node and tangent-field paths."""

    def __init__(self, compiled, values: dict, continuous: bool, dt: float, n_burn: int, n_T: int, L: int):
        self.c = compiled
        self.values = values
        self.continuous = continuous
        self.dt = dt
        self.n_burn, self.n_T, self.L = n_burn, n_T, L
        m, K = len(compiled.states), len(compiled.nodes)
        self.m, self.K = m, K
        exprs = compiled.pencil.expressions

        # Structural zeros of the pencil are skipped: entry lists (i, j, index).
        def entries(offset, rows, cols):
            return [
                (i, j, offset + i * cols + j)
                for i in range(rows)
                for j in range(cols)
                if exprs[offset + i * cols + j] != 0
            ]

        self.A = entries(0, m, m)
        self.B = entries(m * m, m, K)
        self.C = entries(m * m + m * K, K, m)
        self.E = entries(m * m + 2 * m * K, K, K)

    def _fields(self, P, ds, xi_t=None):
        """``C ds + E xi`` (K, S) from the pencil values ``P`` at one time."""
        dv = np.zeros((self.K, ds.shape[1]))
        for a, k, i in self.C:
            dv[a] += P[i] * ds[k]
        if xi_t is not None:
            for a, b, i in self.E:
                dv[a] += P[i] * xi_t[b]
        return dv

    def _apply(self, P, x, mu, xi_t=None, source=None):
        """``(A - mu) x + B xi`` (or with ``source`` subtracted instead of the
        ``B`` term), the tilted tangent flow; ``mu`` is 0 for the map."""
        out = -mu * x if mu else np.zeros_like(x)
        for k, j, i in self.A:
            out[k] += P[i] * x[j]
        if xi_t is not None:
            for k, a, i in self.B:
                out[k] += P[i] * xi_t[a]
        if source is not None:
            out -= source
        return out

    def run(self, eta: np.ndarray, xi: np.ndarray, s0: np.ndarray, mu: float) -> dict:
        """``eta``, ``xi``: (K, n, S) node and tilted tangent-field paths."""
        c, m, K = self.c, self.m, self.K
        S = s0.shape[1]
        env = dict(self.values)
        s = s0.copy()
        ds = np.zeros((m, S))  # tilted tangent
        w = np.zeros((m, S))  # its derivative in the tilt mu
        dv_rec = np.empty((K, S, self.n_T))
        cross = np.zeros(S)  # per path: sum_t sum_a dv_a (C w)_a

        def pencil(state, t):
            env.update(zip(c.states, state))
            env.update(zip(c.nodes, eta[:, t]))
            return c.pencil(env)

        def flow(y, t, P=None):
            # The unit, its tilted tangent and the tangent's derivative in mu,
            # together: the exact tangent of the scheme the DMFT paths follow.
            s_, ds_, w_ = y
            P = pencil(s_, t) if P is None else P
            f = np.array(c.update(env))
            return f, self._apply(P, ds_, mu, xi[:, t]), self._apply(P, w_, mu, source=ds_)

        decay = math.exp(-mu) if not self.continuous else 1.0
        n = self.n_burn + self.n_T
        for t in range(n):
            P0 = pencil(s, t)
            if t >= self.n_burn:
                r = t - self.n_burn
                dv = self._fields(P0, ds, xi[:, t])
                dv_rec[:, :, r] = dv
                cw = self._fields(P0, w)
                cross += np.sum(dv * cw, axis=0)
            if not self.continuous:
                f0 = np.array(c.update(env))
                ds_next = decay * self._apply(P0, ds, 0.0, xi[:, t])
                w = decay * self._apply(P0, w, 0.0) - ds_next
                ds, s = ds_next, f0
            else:
                s, ds, w = heun(flow, (s, ds, w), t, self.dt, k0=flow((s, ds, w), t, P0))
            if not (np.all(np.isfinite(s)) and np.all(np.isfinite(ds)) and np.all(np.isfinite(w))):
                raise SolverError(
                    f"the tangent process of cell '{c.cell.name}' diverged at step {t}; try a smaller dt or "
                    "more iterations"
                )
        return {
            "acf": autocorrelation(dv_rec, self.L),  # (K, S, L)
            "power": np.sum(dv_rec**2, axis=0).mean(axis=1),  # (S,)
            "cross": cross / self.n_T,  # (S,)
        }


@dataclass(frozen=True)
class TangentSampling:
    """Solve a :class:`~gatefield.numerics.problems.TangentDMFT` by sampling.

    Attributes
    ----------
    samples : int
        Sample paths per iteration.
    T, burn_in : int or float, optional
        The recorded window and the burn-in before it (steps, or time in
        continuous time); default: those of the DMFT state. The burn-in lets
        the tangent forget its zero start.
    iterations : int
        Iterations of the tangent self-consistency (at least 3).
    average : int
        The last ``average`` iterations are averaged for the exponent (at
        least 2, fewer than ``iterations``).
    damping : float
        In (0, 1]: ``k <- (1 - damping) k + damping k_new``, and the Newton
        step of the shift is scaled by it.
    seed : int
        Seed of the tangent iteration's sampling.
    dmft : PathSampling, optional
        How to solve the DMFT state when the problem has none (default:
        ``PathSampling(samples=samples, T=T, burn_in=burn_in, seed=seed)``).
    """

    samples: int = 1000
    T: float | None = None
    burn_in: float | None = None
    iterations: int = 30
    average: int = 15
    damping: float = 1.0
    seed: int = 0
    dmft: PathSampling | None = None

    problems = (TangentDMFT,)

    def __post_init__(self):
        _checks.count(self.samples, "the number of samples", 2)
        _checks.count(self.iterations, "the number of iterations", 3)
        _checks.count(self.average, "the averaging window", 2)
        if self.average >= self.iterations:
            raise GatefieldError(f"average must be below iterations (got {self.average} and {self.iterations})")
        _checks.count(self.seed, "the seed", 0)
        _checks.fraction(self.damping, "damping")
        if self.dmft is not None and not isinstance(self.dmft, PathSampling):
            raise GatefieldError(f"dmft must be a PathSampling solver, got {type(self.dmft).__name__}")

    def _state(self, problem: TangentDMFT) -> DMFTSolution:
        if problem.state is not None:
            if self.dmft is not None:
                raise GatefieldError("the dmft solver applies only when the problem has no DMFT state")
            return problem.state
        from ..solve import solve

        solver = self.dmft or PathSampling(samples=self.samples, T=self.T, burn_in=self.burn_in, seed=self.seed)
        return solve(DMFT(problem.cell, problem.values), solver, throw=False)

    def run(self, problem: TangentDMFT) -> LyapunovSolution:
        cell = problem.cell
        compiled = compile_cell(cell)
        continuous = cell.time == "continuous"
        dmft = self._state(problem)
        values = dict(dmft.parameters)
        grid = dmft.settings["grid"]
        L = grid["lags"]
        step = dmft.settings["dt"] if continuous else 1.0
        if continuous:
            n_T = grid["T"] if self.T is None else int(round(_checks.positive(self.T, "T") / step))
            n_burn = (
                grid["burn_in"]
                if self.burn_in is None
                else int(round(_checks.positive(self.burn_in, "burn_in", allow_zero=True) / step))
            )
        else:
            n_T = grid["T"] if self.T is None else _checks.count(self.T, "T (steps)", 2)
            n_burn = grid["burn_in"] if self.burn_in is None else _checks.count(self.burn_in, "burn_in (steps)", 0)
        if L >= n_T:
            raise GatefieldError(f"the lag window ({L} grid steps) must be shorter than T ({n_T})")
        names = compiled.couplings
        K, m = len(names), len(compiled.states)
        samples, iterations, average, damping = self.samples, self.iterations, self.average, self.damping
        tau = step * np.arange(L)
        C = np.stack([dmft.correlations[n].mean for n in names])
        c_floor, c_sampled = prepare(C)
        tangent = _Tangent(compiled, values, continuous, step, n_burn, n_T, L)
        length = n_burn + n_T + (1 if continuous else 0)
        rng = _sampling.rng(self.seed, "tangent-dmft")
        memory_floor = MEMORY_FLOOR_STEPS * step

        k = np.tile(np.exp(-tau / INITIAL_CORRELATION), (K, 1)) / K
        mu = 0.0
        hist = {key: np.empty(iterations) for key in ("shift", "rho", "memory", "estimate", "error")}
        for it in range(iterations):
            eta, _ = draw(c_sampled, c_floor, length, samples, rng)
            k_floor, k_sampled = prepare(k)
            xi, _ = draw(k_sampled, k_floor, length, samples, rng)
            s0 = math.sqrt(max(float(np.max(C[:, 0])), 0.0)) * rng.standard_normal((m, samples))
            out = tangent.run(eta, xi, s0, mu)
            k_new = out["acf"].mean(axis=1)
            power = out["power"]
            rho = float(np.sum(k_new[:, 0]) / np.sum(k[:, 0]))
            if not (math.isfinite(rho) and rho > 0):
                raise SolverError(
                    f"the tangent field of cell '{cell.name}' vanished or overflowed (growth factor {rho}); "
                    "the state may be degenerate"
                )
            memory = max(-float(np.mean(out["cross"])) / float(np.mean(power)), memory_floor)
            log_rho = math.log(rho)
            estimate = mu + log_rho / (2 * memory)
            error = float(np.std(power, ddof=1) / math.sqrt(samples) / np.mean(power)) / (2 * memory)
            hist["shift"][it], hist["rho"][it], hist["memory"][it] = mu, rho, memory
            hist["estimate"][it], hist["error"][it] = estimate, error
            mu = mu + damping * max(-LOG_RHO_MAX, min(LOG_RHO_MAX, log_rho)) / (2 * memory)
            k = (1 - damping) * k + damping * k_new / float(np.sum(k_new[:, 0]))

        window = hist["estimate"][-average:]
        exponent = float(np.mean(window))
        scatter = float(np.std(window, ddof=1) / math.sqrt(average))
        noise = float(np.sqrt(np.mean(hist["error"][-average:] ** 2)) / math.sqrt(average))
        half = average // 2
        first, second = window[:half], window[-half:]
        drift_se = float(np.std(window, ddof=1)) * math.sqrt(2.0 / half)
        drift_se = max(drift_se, noise * math.sqrt(2.0 * average / half))
        drifting = abs(float(np.mean(first) - np.mean(second))) > DRIFT_SIGMAS * drift_se
        settings = {
            "samples": samples,
            "T": n_T * step,
            "burn_in": n_burn * step,
            "dt": step if continuous else None,
            "iterations": iterations,
            "average": average,
            "damping": damping,
            "seed": self.seed,
            "lags": L,
            "integrator": "heun" if continuous else "map",
        }
        return LyapunovSolution(
            problem=problem,
            parameters=values,
            time=cell.time,
            exponent=Estimate(exponent, max(scatter, noise)),
            noise=noise,
            history={key: hist[key] for key in ("shift", "rho", "memory", "estimate")},
            tau=tau,
            tangent_correlations={n: k[a].copy() for a, n in enumerate(names)},
            dmft=dmft,
            status=Status.NOT_STATIONARY if drifting else Status.SUCCESS,
            iterations=iterations,
            residual=abs(float(np.mean(first) - np.mean(second))),
            settings=settings,
            message=(
                f"the DMFT Lyapunov iteration of cell '{cell.name}' still drifts over its last {average} "
                "iterations; raise iterations"
                if drifting
                else ""
            ),
        )
