"""Theory alone for a time-dependent (chaotic) state: the DMFT route against simulation.

Where no mean-field fixed point is stable, every prediction comes from the
dynamical mean-field theory, with no simulated input
(``docs/theory/9-checks.md#dmft-route``):

- the one-time moments and the correlation functions ``C_a(tau)``
  (:func:`~.dynamics.validate_dynamics`);
- the correlation time, the first lag where ``C_a(tau) - C_a(inf)`` falls
  to ``1/e`` of its start;
- the maximal Lyapunov exponent of the two-replica DMFT against QR
  exponents at N/4, N/2 and N (at least 3 networks each) extrapolated in
  1/N (:func:`~.dynamics.lyapunov_check`);
- the support of the Jacobian's spectrum, the largest eigenvalue at N and
  the share of slow modes, from the DMFT's sample paths at one time taken as
  the site distribution (the ``dmft`` route), against the eigenvalues of
  simulated snapshots.
"""

from __future__ import annotations

import math

import numpy as np

from ..numerics.problems import DMFT
from ..numerics.solve import solve
from ..numerics.solvers.paths import decay_time, tail
from ..numerics.spectrum import (
    edge_prediction,
    edge_spill,
    from_dmft,
    inside_support,
    radius_scatter,
    slow_mode_fraction,
    slow_point,
    widened,
)
from ..simulate import snapshot
from ..simulate.finite_size import SCAN_MIN_SEEDS
from .checks import Check
from .claims import DELTA
from .dynamics import DEFAULT_SOLVER, lyapunov_check, validate_dynamics
from .spectra import eigenvalues, fraction_in_disc
from .tolerances import MOMENT_RTOL, SIGMAS, binomial_error, share_error

__all__ = ["dmft_route", "DEFAULT_LYAPUNOV_STEPS"]

#: QR steps per network for the Lyapunov scan (discrete: map steps;
#: continuous: RK4 steps of the DMFT's dt).
DEFAULT_LYAPUNOV_STEPS = 1000


def _decay_check(name, dmft, sim) -> Check | None:
    """The correlation time of coupling ``name``: DMFT against simulation.

    Error model: a decay time moves by ``dC / |C'|`` when ``C`` moves by
    ``dC`` at the crossing, so its standard error is the combined standard
    error of the two ``C(tau*)`` over the slope there; the tolerance is the
    larger of 2% and 3 of those. None where either decay, ``C(0) -
    C(inf)``, is within 3 combined standard errors of ``C(0)`` (unresolved)
    or does not reach ``1/e`` within the window.
    """
    th, si = dmft.correlations[name], sim.correlations[name]
    n = min(len(th.mean), len(si.mean))
    tau = dmft.tau[:n]
    floor_th, floor_si = float(tail(th.mean[None, :n])[0]), float(tail(si.mean[None, :n])[0])
    # A decay smaller than the resolution of C(0) has no time to compare
    # (a nearly frozen state): no check rather than one that cannot fail.
    resolution = SIGMAS * math.hypot(float(th.stderr[0]), float(np.nan_to_num(si.stderr[0])))
    if min(th.mean[0] - floor_th, si.mean[0] - floor_si) <= resolution:
        return None
    t_th = decay_time(th.mean[:n], tau, floor_th)
    t_si = decay_time(si.mean[:n], tau, floor_si)
    if not (np.isfinite(t_th) and np.isfinite(t_si)):
        return None
    k = min(max(int(np.searchsorted(tau, t_th)), 1), n - 1)
    slope = abs(th.mean[k] - th.mean[k - 1]) / (tau[k] - tau[k - 1])
    se = math.hypot(float(np.nan_to_num(si.stderr[k])), float(th.stderr[k])) / max(slope, 1e-300)
    tol = max(MOMENT_RTOL * t_th, SIGMAS * se)
    return Check(
        f"correlation time of C_{name}",
        t_th,
        t_si,
        tol,
        bool(abs(t_si - t_th) <= tol),
        "first lag where C - C(inf) falls to 1/e of C(0) - C(inf); max(2%, 3 combined standard errors "
        "propagated through the slope of C)",
    )


def dmft_route(cell, values: dict, N: int, seeds: int, eigen_seeds: int, *, progress=None, dmft_progress=None):
    """The DMFT route's checks for ``cell`` at ``values``.

    Returns ``(checks, spectra, dynamics)``: the checks, one
    :class:`~.report.SpectrumComparison` per eigen seed, and the
    :class:`~.dynamics.DynamicsReport` of the moments and correlations.
    """
    from .report import EDGE_BAND, SpectrumComparison

    solver = DEFAULT_SOLVER if dmft_progress is None else type(DEFAULT_SOLVER)(progress=dmft_progress)
    dmft = solve(DMFT(cell, values), solver, throw=False)
    dynamics = validate_dynamics(cell, values, N, seeds, dmft=dmft, progress=progress)
    checks = list(dynamics.checks)
    for name in dmft.correlations:
        check = _decay_check(name, dmft, dynamics.simulated)
        if check is not None:
            checks.append(check)
    if not dmft.static:
        sizes = sorted({max(N // 4, 2), max(N // 2, 2), N})
        check, _, _ = lyapunov_check(
            cell, dmft, sizes, max(seeds, SCAN_MIN_SEEDS), DEFAULT_LYAPUNOV_STEPS, progress=progress
        )
        checks.append(check)
    sites = from_dmft(dmft)
    spectra = []
    # A network of N units has its own one-time law, N draws from the DMFT's,
    # so its radius scatters about the limit's (radius_scatter): the edge
    # band widens by that scatter, and the outside fraction's tolerance counts
    # the share that scatter moves across the edge (edge_spill;
    # docs/theory/9-checks.md#dmft-route).
    edge = widened(edge_prediction(sites, N, EDGE_BAND), radius_scatter(sites, N)) if eigen_seeds else None
    spill = edge_spill(sites, N) if eigen_seeds else None
    for seed in range(eigen_seeds):
        snap = snapshot(cell, values, N, seed)
        eig = eigenvalues(snap.network, snap.state)
        outside = float(np.mean(~inside_support(sites, eig, N)))
        spectra.append(
            SpectrumComparison("dmft", sites.support, eig, outside, dict(sites.order_parameters), edge, spill)
        )
    if spectra:
        from .report import _spectrum_checks

        checks += _spectrum_checks(spectra, N, "dmft")
        slow = slow_point(cell.time)
        theory = float(slow_mode_fraction(sites, [DELTA])[0])
        shares = [fraction_in_disc(s.eigenvalues, slow, DELTA) for s in spectra]
        n_eig = sum(len(s.eigenvalues) for s in spectra)
        samples = dmft.samples[0].shape[-1]  # states (m, S) of the DMFT paths
        error = math.hypot(share_error(shares, n_eig), binomial_error(theory, samples * cell.m) if samples else 0.0)
        measured = float(np.mean(shares))
        checks.append(
            Check(
                f"share of eigenvalues within {DELTA} of the slow point (dmft)",
                theory,
                measured,
                SIGMAS * error,
                bool(abs(measured - theory) <= SIGMAS * error),
                "3 combined errors: the simulated share's (seed scatter, binomial, one eigenvalue) and the "
                "DMFT site sample's (binomial)",
            )
        )
    return checks, spectra, dynamics
