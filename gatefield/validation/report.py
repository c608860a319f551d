"""Theory against finite-N simulation of the same cell: :func:`validate`.

If the mean-field equations have a stable solution, networks are relaxed to
a fixed point and compared with it on the fixed-point route (theory alone);
otherwise a time-dependent state is expected and each network's snapshot is
compared with the prediction from that snapshot (the plug-in route, labelled
as such). The checks and their tolerances (:mod:`.tolerances`):

- order parameters ``q_a`` against the population averages ``<v_a^2>``;
- the share of Jacobian eigenvalues outside the predicted support;
- the spectral radius against the largest ``|eigenvalue|``, within the edge
  scale;
- stability: where theory says the fixed point is stable, every network has
  one that is stable: it relaxes to it, or (where slow modes make relaxation
  crawl) the fixed point of its gate-free fixed-point map is linearly stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .. import _checks
from .._json import encode
from ..numerics.problems import MeanField
from ..numerics.solve import solve
from ..numerics.spectrum import (
    EdgePrediction,
    Spill,
    Support,
    edge_prediction,
    edge_spill,
    from_fixed_point,
    from_snapshot,
    inside_support,
)
from ..simulate import find_fixed_point, initial_state, make_network, population_q, snapshot
from ..theory.spec import Cell
from .checks import Check, Report
from .spectra import eigenvalues
from .tolerances import outside_tolerance, q_tolerance

if TYPE_CHECKING:
    from .dynamics import DynamicsReport

__all__ = ["SpectrumComparison", "ValidationReport", "validate", "population_q"]


@dataclass(frozen=True)
class SpectrumComparison:
    """Eigenvalues of one network's Jacobian against a predicted support."""

    route: str
    support: Support
    eigenvalues: np.ndarray
    outside_fraction: float
    order_parameters: dict = field(default_factory=dict)
    edge: EdgePrediction | None = None
    spill: Spill | None = None

    @property
    def max_abs(self) -> float:
        return float(np.max(np.abs(self.eigenvalues)))


def compare_snapshot(cell, parameters, N: int, seed: int) -> SpectrumComparison:
    """The plug-in route for one network: its eigenvalues against the support
    predicted from its own snapshot."""
    snap = snapshot(cell, parameters, N, seed)
    sites = from_snapshot(snap)
    eig = eigenvalues(snap.network, snap.state)
    outside = float(np.mean(~inside_support(sites, eig, N)))
    edge = edge_prediction(sites, N, EDGE_BAND)
    spill = edge_spill(sites, N, draws=0)  # the network's own support: its edge does not move
    return SpectrumComparison("plug-in", sites.support, eig, outside, dict(sites.order_parameters), edge, spill)


@dataclass(frozen=True)
class ValidationReport(Report):
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
    dynamics: DynamicsReport | None = field(default=None, repr=False)  # on the DMFT route

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
            "mean_field_solutions": encode(self.solutions),
            "support": self.spectra[0].support.to_json() if self.spectra else None,
            "edge_predictions": [s.edge.to_json() for s in self.spectra if s.edge is not None],
            "dynamics": None if self.dynamics is None else self.dynamics.to_json(),
        }


#: The stability check's name.
STABLE_CHECK = "stable: each seed's fixed point is stable"


def _linearly_stable(eigenvalues, time: str) -> bool:
    """Every eigenvalue inside the unit disc (discrete time) or the left half-plane."""
    if time == "discrete":
        return bool(np.max(np.abs(eigenvalues)) < 1.0)
    return bool(np.max(eigenvalues.real) < 0.0)


#: The probability with which each seed's largest eigenvalue is held to lie
#: in its predicted band: 3 seeds all inside with probability 97%.
EDGE_BAND = 0.99


def _spectrum_checks(spectra, N, label) -> list:
    outside = [s.outside_fraction for s in spectra]
    tols = [outside_tolerance(N, s.spill) for s in spectra]
    tol = max(tols)
    edges = [s.edge for s in spectra]
    measured = [s.max_abs for s in spectra]
    median = float(np.mean([e.median for e in edges]))
    spread = max(max(e.high - e.median, e.median - e.low) for e in edges)
    return [
        Check(
            f"fraction of eigenvalues outside the support ({label})",
            0.0,
            float(np.mean(outside)),
            tol,
            all(x <= t for x, t in zip(outside, tols)),
            "mean over seeds; pass requires every seed within tolerance: the edge's spill for the "
            "support's shape plus 3 standard errors (the spill's count and the network's own law); "
            "an eigenvalue within the edge scale of a whisker counts as on it",
        ),
        Check(
            f"largest |eigenvalue| ({label})",
            median,
            float(np.mean(measured)),
            spread,
            all(e.contains(x) for e, x in zip(edges, measured)),
            f"means over seeds; pass requires every seed inside its predicted {EDGE_BAND:.0%} band "
            "(bulk edge law and the largest own eigenvalue of the units beyond the bulk)",
        ),
    ]


def validate(
    cell: Cell,
    parameters: dict | None = None,
    N: int = 1000,
    seeds: int = 3,
    eigen_seeds: int | None = None,
    progress=None,
    chaotic_route: str = "dmft",
    dmft_progress=None,
) -> ValidationReport:
    """Check every prediction for ``cell`` against simulations over ``seeds``
    coupling draws (eigenvalues for the first ``eigen_seeds``, default all).

    Parameters
    ----------
    chaotic_route : {"dmft", "plug-in"}
        Without a stable fixed point: predict from the DMFT alone
        (:func:`~.chaotic.dmft_route`: moments, correlation functions and
        times, the Lyapunov exponent, the support, the largest eigenvalue and
        the slow-mode share), or the support from each simulated snapshot
        itself ("plug-in", a check of the spectral theory given the state).
    dmft_progress : callable, optional
        Passed to the DMFT solver (``PathSampling(progress=...)``).

    Notes
    -----
    With a stable mean-field solution, each network is relaxed to a fixed
    point from a random state (seed-separated from the couplings) and
    compared with the stable solution of largest ``q``.
    """
    N = _checks.count(N, "N", 2)
    chaotic_route = _checks.choice(chaotic_route, "chaotic_route", ("dmft", "plug-in"))
    seeds = _checks.count(seeds, "--seeds", 1)
    eigen_seeds = seeds if eigen_seeds is None else min(_checks.count(eigen_seeds, "eigen_seeds", 0), seeds)
    result = solve(MeanField(cell, parameters), throw=False)
    values = result.parameters
    every = [from_fixed_point(result, solution=k) for k in range(len(result.roots))]
    stable = [k for k, sites in enumerate(every) if sites.support.stable]
    solutions = [
        {
            "order_parameters": r.order_parameters,
            "residual": r.residual,
            "quadrature_error": r.quadrature_error,
            "stable": s.support.stable,
            "spectral_radius": s.support.spectral_radius,
            "rightmost_real": s.support.rightmost_real,
        }
        for r, s in zip(result.roots, every)
    ]
    checks: list = []
    spectra: list = []
    dynamics = None
    tick = progress or (lambda *a: None)
    if stable:
        index = stable[-1]
        sites = every[index]
        sim_q, stable_seeds, edge, spill = [], 0, None, None
        for seed in range(seeds):
            net = make_network(cell, N, seed, values)
            s0 = initial_state(net, seed)
            fp = find_fixed_point(net, s0)
            relaxed = fp.converged
            if not relaxed:  # slow modes make relaxation crawl: solve the fixed-point map instead
                fp = find_fixed_point(net, s0, equations="reduced")
            tick(seed + 1, seeds)
            if not fp.converged:
                continue
            sim_q.append(population_q(net, fp.state))
            eig = eigenvalues(net, fp.state) if (len(spectra) < eigen_seeds or not relaxed) else None
            stable_seeds += bool(relaxed or _linearly_stable(eig, cell.time))
            if eig is not None and len(spectra) < eigen_seeds:
                outside = float(np.mean(~inside_support(sites, eig, N)))
                if edge is None:  # the same sites for every seed
                    edge, spill = edge_prediction(sites, N, EDGE_BAND), edge_spill(sites, N)
                spectra.append(SpectrumComparison("fixed-point", sites.support, eig, outside, sim_q[-1], edge, spill))
        checks.append(
            Check(
                STABLE_CHECK,
                1.0,
                stable_seeds / seeds,
                0.0,
                stable_seeds == seeds,
                "each seed relaxed to a fixed point, or has a linearly stable one (its fixed-point map solved)",
            )
        )
        for name, q in sites.order_parameters.items():
            if not sim_q:
                break
            measured = np.array([s[name] for s in sim_q])
            tol, note = q_tolerance(q, measured, N)
            mean = float(np.mean(measured))
            checks.append(Check(f"q[{name}]", q, mean, tol, bool(abs(mean - q) <= tol), note))
        if spectra:
            checks += _spectrum_checks(spectra, N, "fixed-point")
        regime, route = f"fixed point (solution {index})", "fixed-point"
    elif chaotic_route == "dmft":
        from .chaotic import dmft_route

        found, spectra, dynamics = dmft_route(
            cell, values, N, seeds, eigen_seeds, progress=progress, dmft_progress=dmft_progress
        )
        checks += found
        regime, route = "time-dependent (no stable mean-field fixed point)", "dmft"
    else:
        for seed in range(eigen_seeds):
            spectra.append(compare_snapshot(cell, values, N, seed))
            tick(seed + 1, eigen_seeds)
        if spectra:
            checks += _spectrum_checks(spectra, N, "plug-in")
        regime, route = "time-dependent (no stable mean-field fixed point)", "plug-in"
    return ValidationReport(
        cell.name, values, N, seeds, regime, route, tuple(checks), solutions, tuple(spectra), dynamics
    )
