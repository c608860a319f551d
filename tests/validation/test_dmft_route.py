"""The DMFT route of ``validate``: a chaotic state predicted from theory alone."""

from types import SimpleNamespace

import numpy as np
import pytest

import gatefield as gf
from gatefield.errors import GatefieldError
from gatefield.validation.chaotic import _decay_check


def _paths(tau, time, stderr):
    C = 0.2 + np.exp(-tau / time)
    return SimpleNamespace(mean=C, stderr=np.full_like(tau, stderr))


@pytest.mark.parametrize(("sim_time", "passes"), [(5.05, True), (5.5, False)])
def test_correlation_time_check(sim_time, passes):
    # C = 0.2 + exp(-tau / T): the decay time is T up to the grid's
    # interpolation. Standard errors 1e-3 and 2e-3 over the slope e^-1 / 5
    # give 0.030 in time, so the tolerance is 2% of 5 = 0.1: a 1% miss
    # passes and a 10% miss fails.
    tau = np.arange(0.0, 80.0, 0.25)
    dmft = SimpleNamespace(tau=tau, correlations={"J": _paths(tau, 5.0, 1e-3)})
    sim = SimpleNamespace(correlations={"J": _paths(tau, sim_time, 2e-3)})
    check = _decay_check("J", dmft, sim)
    assert check.theory == pytest.approx(5.0, rel=2e-3)
    assert check.simulation == pytest.approx(sim_time, rel=2e-3)
    assert check.tolerance == pytest.approx(0.02 * check.theory)
    assert check.passed is passes


def test_an_unknown_route_is_refused():
    with pytest.raises(GatefieldError, match="chaotic_route"):
        gf.validate(gf.load_cell("vanilla"), {"g": 2.0}, N=50, seeds=1, chaotic_route="dmf")


@pytest.mark.slow
def test_chaotic_vanilla_map_from_theory_alone():
    # g = 2: the zero fixed point is unstable and the map is chaotic. At N =
    # 800 (measured: 1.1% and 0.6% of the eigenvalues outside the DMFT
    # support for seeds 0 and 1, against 7.5% and 3% at N = 200, where one
    # network's own one-time statistics still scatter by several percent).
    report = gf.validate(gf.load_cell("vanilla"), {"g": 2.0}, N=800, seeds=3)
    assert report.route == "dmft" and report.dynamics is not None
    names = [c.quantity for c in report.checks]
    for expected in (
        "correlation time of C_J",
        "maximal Lyapunov exponent, QR extrapolated to 1/N = 0",
        "fraction of eigenvalues outside the support (dmft)",
        "largest |eigenvalue| (dmft)",
    ):
        assert expected in names, names
    failed = [c for c in report.checks if not c.passed]
    assert not failed, failed
    blob = report.to_json()
    assert blob["dynamics"]["checks"] and len(blob["edge_predictions"]) == 3


def test_an_unresolved_decay_is_not_compared():
    # A nearly frozen state: C falls by 0.01 where C(0) is known to 0.01.
    tau = np.arange(0.0, 80.0, 0.25)
    frozen = SimpleNamespace(mean=0.5 + 0.01 * np.exp(-tau / 5.0), stderr=np.full_like(tau, 1e-2))
    dmft = SimpleNamespace(tau=tau, correlations={"J": frozen})
    sim = SimpleNamespace(correlations={"J": _paths(tau, 5.0, 1e-3)})
    assert _decay_check("J", dmft, sim) is None
