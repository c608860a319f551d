"""Theory against finite-N simulation of the same cell.

Two routes to the site distribution of THEORY.md section 4:

- **fixed-point**: the mean-field solution's quadrature (theory alone);
- **plug-in**: the per-unit values of a simulated network at one time, for
  time-dependent (chaotic or driven) states. It borrows the one-time law
  from the simulation, so it is labelled "plug-in" in every output.

Checks, each with the tolerance it is held to and why:

- order parameters ``q_a`` against the population averages ``<v_a^2>`` at a
  found fixed point: 3 standard errors of the mean over seeds (the
  seed-to-seed scatter), or ``3 q sqrt(2/N)`` (the sampling error of a mean
  of N squared Gaussians) when fewer than 3 seeds converged;
- the fraction of Jacobian eigenvalues outside the predicted support: at
  most ``outside_tolerance(N)`` = max(1%, 1.5/sqrt(2 pi N)) (finite-N edge
  eigenvalues spill over by O(N^-1/2); a Ginibre matrix loses a fraction
  1/sqrt(2 pi N) past its disc);
- the spectral radius: the largest |eigenvalue| lies within
  ``2 r sqrt(log N / N)`` of the predicted radius ``r`` (the edge of an iid
  matrix fluctuates on that scale; Rider 2003);
- stability: the simulation relaxes to a fixed point iff theory says the
  fixed point is stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GatefieldError
from ..numerics.codegen import compile_cell
from ..numerics.meanfield import MeanFieldResult, solve_mean_field
from ..numerics.support import Support, fixed_point_sites, inside_support, plugin_sites, trace_support
from ..theory.spec import Cell
from . import simulate

__all__ = [
    "Check",
    "SpectrumComparison",
    "ValidationReport",
    "fixed_point_spectrum",
    "plugin_spectrum",
    "validate",
    "ROUTES",
]

ROUTES = ("fixed-point", "plug-in")
#: Absolute floor of the q tolerance: the relaxation and Newton tolerance
#: (1e-10) squared-order effects stay far below it.
Q_FLOOR = 1e-8


def outside_tolerance(N: int) -> float:
    """Largest fraction of eigenvalues allowed outside the predicted support:
    1.5 times the expected spill of an N x N Ginibre matrix past its limiting
    disc, 1/sqrt(2 pi N), and at least 1% (2.7% at N = 200, 1.3% at N = 2000)."""
    return max(0.01, 1.5 / math.sqrt(2 * math.pi * N))


@dataclass(frozen=True)
class Check:
    """One theory-vs-simulation comparison."""

    quantity: str
    theory: float
    simulation: float
    tolerance: float
    passed: bool
    note: str = ""

    def to_json(self) -> dict:
        return {
            "quantity": self.quantity,
            "theory": self.theory,
            "simulation": self.simulation,
            "tolerance": self.tolerance,
            "pass": self.passed,
            "note": self.note,
        }


@dataclass(frozen=True)
class SpectrumComparison:
    """Eigenvalues of one network's Jacobian against a predicted support."""

    route: str
    support: Support
    eigenvalues: np.ndarray
    outside_fraction: float
    order_parameters: dict = field(default_factory=dict)

    @property
    def max_abs(self) -> float:
        return float(np.max(np.abs(self.eigenvalues)))


def _population_q(net, state) -> dict:
    """``<v_a^2>`` over units: the simulated order parameters."""
    env = dict(net.parameters)
    env.update({n: state[k] for k, n in enumerate(net.compiled.states)})
    eta = simulate.nodes(net, state)
    env.update({n: eta[k] for k, n in enumerate(net.compiled.nodes)})
    v = net.compiled.arguments(env)
    return {c.matrix: float(np.mean(v[k] ** 2)) for k, c in enumerate(net.cell.couplings)}


def _eigenvalues(net, state) -> np.ndarray:
    return np.linalg.eigvals(simulate.jacobian(net, state))


def fixed_point_spectrum(
    cell: Cell, parameters: dict | None = None, solution: int = -1, result: MeanFieldResult | None = None
) -> tuple:
    """The predicted support at a mean-field fixed point.

    Returns
    -------
    (MeanFieldResult, int, Support, SiteTable)
        The solve, the chosen index, its support and its site distribution.
    """
    result = result or solve_mean_field(cell, parameters)
    n = len(result.solutions)
    if not -n <= solution < n:
        raise GatefieldError(
            f"solution index {solution} is out of range: the mean-field solve found {n} "
            f"solution(s), so use 0..{n - 1}"
        )
    index = solution % n
    chosen = result.solutions[index]
    sites = fixed_point_sites(compile_cell(cell), result.parameters, chosen.node_variances)
    support = chosen.support or trace_support(sites, cell.time)
    return result, index, support, sites


def plugin_spectrum(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seed: int = 0,
    burn_in: float | None = None,
    eigenvalues: bool = True,
) -> SpectrumComparison:
    """The **plug-in** route: simulate, take one snapshot of the units, and
    predict the support from their empirical distribution.

    Parameters
    ----------
    burn_in : float, optional
        Steps (discrete) or time (continuous) before the snapshot; default
        500 steps or 200 time units.
    """
    net = simulate.make_network(cell, N, seed, parameters)
    s0 = simulate.initial_state(net, seed)
    if burn_in is None:
        burn_in = 500 if cell.time == "discrete" else 200.0
    state = simulate.run_to_steady_state(net, s0, int(burn_in) if cell.time == "discrete" else burn_in)
    eta = simulate.nodes(net, state)
    sites = plugin_sites(net.compiled, net.parameters, state, eta)
    support = trace_support(sites, cell.time)
    eig = _eigenvalues(net, state) if eigenvalues else np.empty(0, complex)
    outside = float(np.mean(~inside_support(sites, eig))) if eig.size else float("nan")
    return SpectrumComparison("plug-in", support, eig, outside, _population_q(net, state))


@dataclass(frozen=True)
class ValidationReport:
    """Theory against simulation for one cell and parameter set."""

    cell: str
    parameters: dict
    N: int
    seeds: int
    regime: str
    route: str
    checks: tuple
    solutions: list
    spectra: tuple = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "N": self.N,
            "seeds": self.seeds,
            "regime": self.regime,
            "route": self.route,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "mean_field_solutions": self.solutions,
            "support": self.spectra[0].support.to_json() if self.spectra else None,
        }


def _spectrum_checks(spectra, N, label) -> list:
    checks = []
    outside = [s.outside_fraction for s in spectra]
    tol = outside_tolerance(N)
    checks.append(
        Check(
            f"fraction of eigenvalues outside the support ({label})",
            0.0,
            float(np.mean(outside)),
            tol,
            bool(max(outside) <= tol),
            "mean over seeds; pass requires every seed within tolerance",
        )
    )
    radius = spectra[0].support.spectral_radius
    tol = 2 * radius * math.sqrt(math.log(N) / N)
    measured = float(np.mean([s.max_abs for s in spectra]))
    checks.append(
        Check(f"spectral radius ({label})", radius, measured, tol, bool(abs(measured - radius) <= tol))
    )
    return checks


def validate(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seeds: int = 3,
    eigen_seeds: int | None = None,
    progress=None,
) -> ValidationReport:
    """Check every prediction for ``cell`` against simulations over ``seeds``
    coupling draws.

    Notes
    -----
    If the mean-field equations have a stable solution, the network is
    relaxed to a fixed point from a random state (seed-separated from the
    couplings) and compared with the stable solution of largest ``q``. If no
    solution is stable (a time-dependent state is expected) the plug-in route
    is used. Eigenvalues are computed for the first ``eigen_seeds`` seeds
    (default all).
    """
    if seeds < 1:
        raise GatefieldError(f"--seeds must be at least 1, got {seeds}")
    eigen_seeds = seeds if eigen_seeds is None else min(eigen_seeds, seeds)
    result = solve_mean_field(cell, parameters)
    values = result.parameters
    stable = [k for k, s in enumerate(result.solutions) if s.stable]
    solutions = [s.to_json() for s in result.solutions]
    checks: list = []
    spectra: list = []
    tick = progress or (lambda *a: None)
    if stable:
        _, index, support, sites = fixed_point_spectrum(cell, result=result, solution=stable[-1])
        chosen = result.solutions[index]
        sim_q, converged = [], 0
        for seed in range(seeds):
            net = simulate.make_network(cell, N, seed, values)
            fp = simulate.find_fixed_point(net, simulate.initial_state(net, seed))
            tick(seed + 1, seeds)
            if not fp.converged:
                continue
            converged += 1
            sim_q.append(_population_q(net, fp.state))
            if len(spectra) < eigen_seeds:
                eig = _eigenvalues(net, fp.state)
                spectra.append(
                    SpectrumComparison(
                        "fixed-point", support, eig, float(np.mean(~inside_support(sites, eig))), sim_q[-1]
                    )
                )
        checks.append(
            Check("stable: seeds relaxed to a fixed point", 1.0, converged / seeds, 0.0, converged == seeds)
        )
        for name, q in chosen.order_parameters.items():
            if not sim_q:
                break
            values_q = np.array([s[name] for s in sim_q])
            if len(values_q) >= 3:
                tol = 3 * float(np.std(values_q, ddof=1)) / math.sqrt(len(values_q))
                note = "3 standard errors over seeds"
            else:
                tol = 3 * q * math.sqrt(2.0 / N)
                note = "3 q sqrt(2/N): sampling error of a mean of N squares"
            tol = max(tol, Q_FLOOR)  # a zero fixed point is matched to round-off
            measured = float(np.mean(values_q))
            checks.append(Check(f"q[{name}]", q, measured, tol, bool(abs(measured - q) <= tol), note))
        if spectra:
            checks += _spectrum_checks(spectra, N, "fixed-point")
        regime, route = f"fixed point (solution {index})", "fixed-point"
    else:
        for seed in range(eigen_seeds):
            spectra.append(plugin_spectrum(cell, values, N, seed))
            tick(seed + 1, eigen_seeds)
        checks += _spectrum_checks(spectra, N, "plug-in")
        regime, route = "time-dependent (no stable mean-field fixed point)", "plug-in"
    return ValidationReport(
        cell.name, values, N, seeds, regime, route, tuple(checks), solutions, tuple(spectra)
    )
