"""Time-dependent states: the dynamical mean-field theory against simulation.

:func:`simulate_dynamics` measures, over seeds, what the DMFT predicts: the
one-time moments of the states, the node autocorrelations ``C_a(tau) =
E[eta_a(t) eta_a(t + tau)]`` (averaged over units and time origins; at large
N this is ``E[v_a(t) v_a(t + tau)]``, the DMFT's ``C_a``) and, optionally, the
maximal Lyapunov exponent by the QR method. :func:`validate_dynamics` holds
the DMFT solution against it (tolerances in :mod:`.tolerances`):

- a one-time moment within ``max(2% of the theory, 3 combined standard
  errors)``, the DMFT's sampling error and the seed scatter;
- a correlation function when the rms over lags of ``(C_dmft - C_sim) /
  C_sim(0)`` is within ``max(2%, 3 rms combined standard error / C_sim(0))``;
- both with the DMFT's ``atol`` as a floor: below it a solution counts as
  zero, where relative errors are round-off;
- with ``lyapunov_sizes``, the two-replica DMFT exponent against QR exponents
  at those sizes extrapolated to N = infinity with ``lambda(N) = lambda_inf +
  a / N``, within 3 combined standard errors. A single size is not compared:
  the finite-N exponent is biased low by several percent even at N = 2000
  (``docs/theory/7-lyapunov.md#finite-size``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _checks
from ..errors import GatefieldError
from ..numerics.problems import DMFT, TangentDMFT
from ..numerics.solution import Estimate
from ..numerics.solve import solve
from ..numerics.solvers import LyapunovSolution, PathSampling
from ..numerics.solvers.paths import autocorrelation
from ..numerics.solvers.sampling import CONTINUOUS_DEFAULTS, DISCRETE_DEFAULTS, DMFTSolution
from ..simulate import (
    FiniteSizeScan,
    initial_state,
    lyapunov,
    lyapunov_scan,
    make_network,
    nodes,
    run_to_steady_state,
    trajectory,
)
from ..theory.spec import Cell
from .checks import Check, Report
from .tolerances import correlation_tolerance, lyapunov_tolerance, moment_tolerance

__all__ = [
    "SimulatedDynamics",
    "DynamicsReport",
    "simulate_dynamics",
    "validate_dynamics",
    "DEFAULT_SOLVER",
]

#: The DMFT solver of :func:`validate_dynamics` when none is given.
DEFAULT_SOLVER = PathSampling()


@dataclass(frozen=True)
class SimulatedDynamics:
    """Seed-averaged statistics of steady-state trajectories.

    Attributes
    ----------
    tau : array
        Lags (steps, or time in units of the cell's time).
    correlations : dict
        Coupling name -> ``Estimate`` of ``C_a(tau)``: mean over seeds and its
        standard error (seed scatter).
    moments : dict
        ``E[s]``, ``E[s^2]`` per state and ``C_J(0)`` per coupling (the
        DMFT's names) as ``Estimate`` over seeds.
    lyapunov : Estimate or None
        Mean over seeds of the QR estimate and its standard error (nan with
        one seed).
    """

    cell: str
    parameters: dict
    N: int
    seeds: int
    time: str
    tau: np.ndarray = field(repr=False)
    correlations: dict = field(repr=False)
    moments: dict
    lyapunov: Estimate | None


def _mean_error(values) -> tuple:
    a = np.asarray(values, dtype=float)
    err = a.std(axis=0, ddof=1) / math.sqrt(len(a)) if len(a) > 1 else np.full(a.shape[1:], np.nan)
    return a.mean(axis=0), err


def simulate_dynamics(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seeds: int = 3,
    *,
    T=None,
    burn_in=None,
    max_lag=None,
    dt: float = 0.1,
    lyapunov_steps: int = 0,
    progress=None,
) -> SimulatedDynamics:
    """Simulate ``seeds`` networks of N units in their steady state.

    Parameters
    ----------
    T, burn_in, max_lag :
        Recorded window, burn-in and longest lag: steps (discrete) or time
        (continuous); defaults those of the DMFT solver.
    dt : float
        Continuous time: the sampling interval of the trajectory (and of the
        lags). The integrator is :func:`gatefield.simulate.trajectory`'s (RK45).
    lyapunov_steps : int
        If positive, also the maximal Lyapunov exponent by the QR method
        (:func:`gatefield.simulate.lyapunov`) over that many steps (RK4 steps
        of ``dt`` in continuous time) after the burn-in.
    """
    N = _checks.count(N, "N", 2)
    seeds = _checks.count(seeds, "the number of seeds", 1)
    defaults = DISCRETE_DEFAULTS if cell.time == "discrete" else CONTINUOUS_DEFAULTS
    T = defaults["T"] if T is None else T
    burn_in = defaults["burn_in"] if burn_in is None else burn_in
    max_lag = defaults["max_lag"] if max_lag is None else max_lag
    if cell.time == "discrete":
        steps, lags, step_dt = int(T), int(max_lag) + 1, None
    else:
        steps, lags, step_dt = int(round(T / dt)), int(round(max_lag / dt)) + 1, dt
    if lags > steps:
        raise GatefieldError(f"max_lag ({max_lag}) must be shorter than T ({T})")
    values = cell.resolve(parameters)
    names = [c.matrix for c in cell.couplings]
    per_seed_C, per_seed_m, exponents = [], [], []
    for seed in range(seeds):
        net = make_network(cell, N, seed, values)
        start = int(burn_in) if cell.time == "discrete" else float(burn_in)
        s = run_to_steady_state(net, initial_state(net, seed), start)
        traj = trajectory(net, s, steps, dt=step_dt)
        eta = np.stack([nodes(net, x) for x in traj])  # (T, K, N)
        per_seed_C.append([autocorrelation(eta[:, a, :].T, lags).mean(axis=0) for a in range(len(names))])
        moments = {}
        for k, state in enumerate(cell.states):
            moments[f"E[{state}]"] = float(traj[:, k, :].mean())
            moments[f"E[{state}^2]"] = float((traj[:, k, :] ** 2).mean())
        for a, name in enumerate(names):
            moments[f"C_{name}(0)"] = float(per_seed_C[-1][a][0])
        per_seed_m.append(moments)
        if lyapunov_steps > 0:
            result = lyapunov(net, traj[-1], int(lyapunov_steps), burn_in=min(200, int(lyapunov_steps)), dt=step_dt)
            exponents.append(result.exponent)
        if progress is not None:
            progress(seed + 1, seeds)
    C, C_err = _mean_error(per_seed_C)
    keys = list(per_seed_m[0])
    m, m_err = _mean_error([[d[k] for k in keys] for d in per_seed_m])
    lyap = None
    if exponents:
        error = float(np.std(exponents, ddof=1) / math.sqrt(len(exponents))) if len(exponents) > 1 else float("nan")
        lyap = Estimate(float(np.mean(exponents)), error)
    tau = np.arange(lags) * (1.0 if cell.time == "discrete" else dt)
    return SimulatedDynamics(
        cell.name,
        values,
        N,
        seeds,
        cell.time,
        tau,
        {n: Estimate(c, e) for n, c, e in zip(names, C, C_err)},
        {k: Estimate(v, e) for k, v, e in zip(keys, m, m_err)},
        lyap,
    )


@dataclass(frozen=True)
class DynamicsReport(Report):
    """DMFT against simulation for one cell and parameter set."""

    cell: str
    parameters: dict
    checks: tuple
    dmft: DMFTSolution = field(repr=False)
    simulated: SimulatedDynamics = field(repr=False)
    lyapunov_scan: FiniteSizeScan | None = field(default=None, repr=False)
    dmft_lyapunov: LyapunovSolution | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        from .._json import encode

        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "dmft": self.dmft.to_json(),
            "simulation": encode(self.simulated),
            "lyapunov_scan": None if self.lyapunov_scan is None else self.lyapunov_scan.to_json(),
            "dmft_lyapunov": None
            if self.dmft_lyapunov is None
            else {
                "exponent": self.dmft_lyapunov.exponent.mean,
                "stderr": self.dmft_lyapunov.exponent.stderr,
                "status": self.dmft_lyapunov.status.value,
            },
        }


def validate_dynamics(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seeds: int = 3,
    *,
    dmft: DMFTSolution | None = None,
    solver: PathSampling = DEFAULT_SOLVER,
    lyapunov_steps: int = 0,
    lyapunov_sizes=(),
    progress=None,
    lyapunov_progress=None,
) -> DynamicsReport:
    """Solve the DMFT (unless given) and check it against ``seeds`` simulations.

    ``lyapunov_steps`` adds the QR exponent of the N-unit networks (reported,
    not compared). ``lyapunov_sizes`` (two or more sizes, with
    ``lyapunov_steps``) adds the check of the DMFT exponent against QR
    exponents at those sizes, ``seeds`` networks each, extrapolated in 1/N.
    """
    if len(lyapunov_sizes) and lyapunov_steps <= 0:
        raise GatefieldError(
            "a Lyapunov finite-size scan needs the number of QR steps; give lyapunov_steps (--lyapunov-steps) as well"
        )
    if dmft is None:
        dmft = solve(DMFT(cell, parameters), solver, throw=False)
    settings = dmft.settings
    sim = simulate_dynamics(
        cell,
        dmft.parameters,
        N,
        seeds,
        T=settings.get("T"),
        burn_in=settings.get("burn_in"),
        max_lag=settings.get("max_lag"),
        dt=settings.get("dt") or 0.1,
        lyapunov_steps=lyapunov_steps,
        progress=progress,
    )
    # Below the DMFT's own zero (its atol) a moment is zero on both sides, and
    # a relative tolerance would compare round-off with round-off.
    zero = float(settings.get("atol") or 0.0)
    checks = []
    for key, value in sim.moments.items():
        if key not in dmft.moments or key.startswith("E[") and not key.endswith("^2]"):
            continue  # means of odd functions are zero to sampling error: nothing relative to check
        theory = dmft.moments[key]
        se = math.hypot(np.nan_to_num(value.stderr), theory.stderr)
        tol = moment_tolerance(theory.mean, se, zero)
        checks.append(
            Check(
                key,
                theory.mean,
                value.mean,
                tol,
                bool(abs(value.mean - theory.mean) <= tol),
                "max(2% of theory, 3 combined standard errors, the DMFT's zero); simulation mean over seeds",
            )
        )
    for name, c_sim in sim.correlations.items():
        c_th = dmft.correlations[name]
        n = min(len(c_th.mean), len(c_sim.mean))
        scale = max(abs(c_sim.mean[0]), zero) or 1.0
        rms = float(np.sqrt(np.mean((c_th.mean[:n] - c_sim.mean[:n]) ** 2)))
        err = np.hypot(c_sim.stderr[:n], c_th.stderr[:n])
        resolution = float(np.sqrt(np.nanmean(err**2))) if np.any(np.isfinite(err)) else 0.0
        tol = correlation_tolerance(c_sim.mean[0], resolution, zero)
        checks.append(
            Check(
                f"C_{name}(tau), rms over lags / C(0)",
                0.0,
                rms / scale,
                tol / scale,
                bool(rms <= tol),
                "max(2%, 3 rms combined standard error, the DMFT's zero) over max(C(0), the DMFT's zero)",
            )
        )
    scan = ly = None
    if len(lyapunov_sizes):
        check, scan, ly = lyapunov_check(cell, dmft, lyapunov_sizes, seeds, lyapunov_steps, lyapunov_progress)
        checks.append(check)
    return DynamicsReport(cell.name, dmft.parameters, tuple(checks), dmft, sim, scan, ly)


def lyapunov_check(cell: Cell, dmft: DMFTSolution, sizes, seeds: int, steps: int, progress=None) -> tuple:
    """The two-replica DMFT exponent against QR exponents at ``sizes``
    (``seeds`` networks each, ``steps`` QR steps), extrapolated in 1/N.

    Returns ``(check, scan, tangent_solution)``.
    """
    settings = dmft.settings
    scan = lyapunov_scan(
        cell,
        dmft.parameters,
        sizes,
        seeds,
        steps,
        dt=(settings.get("dt") or 0.1) if cell.time == "continuous" else None,
        progress=progress,
    )
    ly = solve(TangentDMFT(cell, dmft.parameters, state=dmft), throw=False)
    tol = lyapunov_tolerance(scan.limit_error, ly.exponent.stderr)
    fit = f"chi^2 = {scan.chi2:.2f} on {scan.dof} dof" if scan.dof else "two sizes, law untested"
    check = Check(
        "maximal Lyapunov exponent, QR extrapolated to 1/N = 0",
        ly.exponent.mean,
        scan.limit,
        tol,
        bool(abs(scan.limit - ly.exponent.mean) <= tol),
        f"3 combined standard errors; lambda(N) = lambda_inf + a/N over N = "
        f"{', '.join(map(str, scan.sizes))} ({fit}); theory: two-replica DMFT ({ly.status.value})",
    )
    return check, scan, ly
