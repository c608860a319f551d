"""Time-dependent states: the dynamical mean-field theory against simulation.

:func:`simulate_dynamics` measures, over seeds, what the DMFT predicts: the
one-time moments of the states, the node autocorrelations
``C_a(tau) = E[eta_a(t) eta_a(t + tau)]`` (averaged over units and time
origins; at large N this is ``E[v_a(t) v_a(t + tau)]``, the DMFT's ``C_a``)
and, optionally, the maximal Lyapunov exponent by the QR method.
:func:`validate_dynamics` holds the DMFT solution against it:

- a one-time moment passes within ``max(2% of the theory, 3 combined
  standard errors)`` (the DMFT's sampling error and the seed scatter); the
  2% is the issue's criterion, the standard errors the resolution of the
  measurement;
- a correlation function passes when the rms over lags of ``(C_dmft -
  C_sim) / C_sim(0)`` is within ``max(2%, 3 rms combined standard error /
  C_sim(0))``;
- both tolerances have the DMFT's ``atol`` as a floor: below it a solution
  counts as zero (a static zero state), where relative errors are round-off;
- with ``lyapunov_sizes``, the maximal Lyapunov exponent of the linearized
  two-replica DMFT (:func:`gatefield.numerics.dmft_lyapunov`) is held against
  the QR exponents of networks of those sizes extrapolated to N = infinity
  with the law ``lambda(N) = lambda_inf + a / N``
  (:func:`gatefield.validation.lyapunov.lyapunov_scan`): it passes within 3
  combined standard errors. A single size is not compared: the finite-N
  exponent is biased low by several percent even at N = 2000 (rate network,
  g = 2, mean over networks: 0.104 at N = 1000, 0.108 at N = 2000 and 4000,
  0.1128 at N = 8000, against 0.1125).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GatefieldError
from ..numerics.dmft import DMFTResult, autocorrelation, solve_dmft
from ..theory.spec import Cell
from . import simulate
from .compare import Check

__all__ = [
    "SimulatedDynamics",
    "DynamicsReport",
    "simulate_dynamics",
    "validate_dynamics",
    "MOMENT_RTOL",
    "plot_dynamics",
]

#: Relative agreement asked of one-time moments and correlation functions.
MOMENT_RTOL = 0.02


@dataclass(frozen=True)
class SimulatedDynamics:
    """Seed-averaged statistics of steady-state trajectories.

    Attributes
    ----------
    tau : array
        Lags (steps, or time in units of the cell's time).
    correlations, correlation_errors : dict
        Coupling name -> mean over seeds of ``C_a(tau)`` and its standard
        error (seed scatter).
    moments, moment_errors : dict
        ``E[s]``, ``E[s^2]`` per state and ``C_J(0)`` per coupling (the
        DMFT's names), mean over seeds and standard error.
    lyapunov, lyapunov_error : float or None
        Mean over seeds of the QR estimate and its standard error.
    """

    cell: str
    parameters: dict
    N: int
    seeds: int
    time: str
    tau: np.ndarray = field(repr=False)
    correlations: dict = field(repr=False)
    correlation_errors: dict = field(repr=False)
    moments: dict
    moment_errors: dict
    lyapunov: float | None
    lyapunov_error: float | None

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "N": self.N,
            "seeds": self.seeds,
            "moments": self.moments,
            "moment_errors": self.moment_errors,
            "lyapunov": self.lyapunov,
            "lyapunov_error": self.lyapunov_error,
            "tau": self.tau.tolist(),
            "correlations": {k: v.tolist() for k, v in self.correlations.items()},
        }


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
        lags). The integrator is :func:`simulate.trajectory`'s (RK45).
    lyapunov_steps : int
        If positive, also the maximal Lyapunov exponent by the QR method
        (:func:`gatefield.validation.lyapunov.lyapunov`) over that many steps
        (RK4 steps of ``dt`` in continuous time) after the burn-in.
    """
    from ..numerics.dmft import CONTINUOUS_DEFAULTS, DISCRETE_DEFAULTS

    if seeds < 1 or N < 2:
        raise GatefieldError("simulate_dynamics needs N >= 2 and at least one seed")
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
        net = simulate.make_network(cell, N, seed, values)
        s = simulate.run_to_steady_state(
            net,
            simulate.initial_state(net, seed),
            int(burn_in) if cell.time == "discrete" else float(burn_in),
        )
        traj = simulate.trajectory(net, s, steps, dt=step_dt)
        eta = np.stack([simulate.nodes(net, x) for x in traj])  # (T, K, N)
        per_seed_C.append([autocorrelation(eta[:, a, :].T, lags).mean(axis=0) for a in range(len(names))])
        moments = {}
        for k, state in enumerate(cell.states):
            moments[f"E[{state}]"] = float(traj[:, k, :].mean())
            moments[f"E[{state}^2]"] = float((traj[:, k, :] ** 2).mean())
        for a, name in enumerate(names):
            moments[f"C_{name}(0)"] = float(per_seed_C[-1][a][0])
        per_seed_m.append(moments)
        if lyapunov_steps > 0:
            from .lyapunov import lyapunov

            result = lyapunov(
                net, traj[-1], int(lyapunov_steps), burn_in=min(200, int(lyapunov_steps)), dt=step_dt
            )
            exponents.append(result.exponent)
        if progress is not None:
            progress(seed + 1, seeds)
    C, C_err = _mean_error(per_seed_C)
    keys = list(per_seed_m[0])
    m, m_err = _mean_error([[d[k] for k in keys] for d in per_seed_m])
    lyap = lyap_err = None
    if exponents:
        lyap = float(np.mean(exponents))
        if len(exponents) > 1:
            lyap_err = float(np.std(exponents, ddof=1) / math.sqrt(len(exponents)))
    tau = np.arange(lags) * (1.0 if cell.time == "discrete" else dt)
    return SimulatedDynamics(
        cell.name,
        values,
        N,
        seeds,
        cell.time,
        tau,
        dict(zip(names, C)),
        dict(zip(names, C_err)),
        dict(zip(keys, map(float, m))),
        dict(zip(keys, map(float, m_err))),
        lyap,
        lyap_err,
    )


@dataclass(frozen=True)
class DynamicsReport:
    """DMFT against simulation for one cell and parameter set."""

    cell: str
    parameters: dict
    checks: tuple
    dmft: DMFTResult = field(repr=False)
    simulated: SimulatedDynamics = field(repr=False)
    lyapunov_scan: object = field(default=None, repr=False)
    dmft_lyapunov: object = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "dmft": self.dmft.to_json(),
            "simulation": self.simulated.to_json(),
            "lyapunov_scan": None if self.lyapunov_scan is None else self.lyapunov_scan.to_json(),
            "dmft_lyapunov": None
            if self.dmft_lyapunov is None
            else {
                "exponent": self.dmft_lyapunov.exponent,
                "stderr": self.dmft_lyapunov.stderr,
                "status": self.dmft_lyapunov.status,
            },
        }


def validate_dynamics(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seeds: int = 3,
    *,
    dmft: DMFTResult | None = None,
    lyapunov_steps: int = 0,
    lyapunov_sizes=(),
    progress=None,
    dmft_progress=None,
    lyapunov_progress=None,
    **dmft_kwargs,
) -> DynamicsReport:
    """Solve the DMFT (unless given) and check it against ``seeds`` simulations.

    ``lyapunov_steps`` adds the QR exponent of the N-unit networks (reported,
    not compared). ``lyapunov_sizes`` (two or more sizes, with
    ``lyapunov_steps``) adds the check of the DMFT exponent against QR
    exponents at those sizes, ``seeds`` networks each, extrapolated in 1/N.
    """
    if len(lyapunov_sizes) and lyapunov_steps <= 0:
        raise GatefieldError(
            "a Lyapunov finite-size scan needs the number of QR steps; "
            "give lyapunov_steps (--lyapunov-steps) as well"
        )
    if dmft is None:
        dmft = solve_dmft(cell, parameters, progress=dmft_progress, **dmft_kwargs)
        if isinstance(dmft, tuple):
            dmft = dmft[0]
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
        se = math.hypot(sim.moment_errors.get(key) or 0.0, dmft.moment_errors.get(key) or 0.0)
        tol = max(MOMENT_RTOL * abs(theory), 3 * se, zero)
        checks.append(
            Check(
                key,
                theory,
                value,
                tol,
                bool(abs(value - theory) <= tol),
                "max(2% of theory, 3 combined standard errors, the DMFT's zero); simulation mean over seeds",
            )
        )
    for name, c_sim in sim.correlations.items():
        c_th = dmft.correlations[name]
        n = min(len(c_th), len(c_sim))
        scale = max(abs(c_sim[0]), zero) or 1.0
        rms = float(np.sqrt(np.mean((c_th[:n] - c_sim[:n]) ** 2)))
        err = np.hypot(sim.correlation_errors[name][:n], dmft.correlation_errors[name][:n])
        resolution = float(np.sqrt(np.nanmean(err**2))) if np.any(np.isfinite(err)) else 0.0
        tol = max(MOMENT_RTOL * abs(c_sim[0]), 3 * resolution, zero)
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
        from ..numerics.dmft_lyapunov import dmft_lyapunov
        from .lyapunov import lyapunov_scan

        scan = lyapunov_scan(
            cell,
            dmft.parameters,
            lyapunov_sizes,
            seeds,
            lyapunov_steps,
            dt=(settings.get("dt") or 0.1) if cell.time == "continuous" else None,
            progress=lyapunov_progress,
        )
        ly = dmft_lyapunov(cell, dmft.parameters, dmft=dmft)
        tol = 3 * math.hypot(scan.limit_error, ly.stderr)
        fit = f"chi^2 = {scan.chi2:.2f} on {scan.dof} dof" if scan.dof else "two sizes, law untested"
        checks.append(
            Check(
                "maximal Lyapunov exponent, QR extrapolated to 1/N = 0",
                ly.exponent,
                scan.limit,
                tol,
                bool(abs(scan.limit - ly.exponent) <= tol),
                f"3 combined standard errors; lambda(N) = lambda_inf + a/N over N = "
                f"{', '.join(map(str, scan.sizes))} ({fit}); theory: two-replica DMFT "
                f"({ly.status})",
            )
        )
    return DynamicsReport(cell.name, dmft.parameters, tuple(checks), dmft, sim, scan, ly)


def plot_dynamics(path, report: DynamicsReport):
    """DMFT ``C_a(tau)`` (lines) over the simulated ones (points with error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    sim, dmft = report.simulated, report.dmft
    stride = max(1, len(sim.tau) // 40)
    for k, (name, c) in enumerate(dmft.correlations.items()):
        ax.plot(dmft.tau[: len(c)], c, "-", color=f"C{k}", label=f"DMFT C[{name}]")
        s = sim.correlations[name]
        ax.errorbar(
            sim.tau[::stride],
            s[::stride],
            yerr=sim.correlation_errors[name][::stride],
            fmt="o",
            ms=3,
            color=f"C{k}",
            capsize=2,
            label=f"N = {sim.N}, {sim.seeds} seeds",
        )
    ax.set_xlabel("lag tau" + (" (steps)" if sim.time == "discrete" else ""))
    ax.set_ylabel("C(tau) = E[eta(t) eta(t + tau)]")
    ax.set_title(f"{report.cell}: dynamical mean-field theory against simulation", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
