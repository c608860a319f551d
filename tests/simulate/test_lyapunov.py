"""Tests of the QR (Benettin) Lyapunov exponents of finite networks.

References: the dense Jacobian of :func:`gatefield.simulate.jacobian`
for the tangent products; at a stable fixed point the maximal exponent is
exactly ``log`` of the Jacobian's spectral radius (map) or the largest real
part of its eigenvalues (flow), from a dense eigendecomposition of the same
finite network; for a linear map the sum of all exponents is
``log |det J|`` exactly. Tolerances are stated next to each assertion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import EXACT_RTOL, MC_SIGMAS, ginibre_cell

from gatefield.cells.builtins import gru, lstm, rate, vanilla
from gatefield.errors import GatefieldError
from gatefield.simulate import (
    finite_size_fit,
    initial_state,
    jacobian,
    lyapunov,
    lyapunov_scan,
    make_network,
    run_to_steady_state,
    tangent_product,
)


@pytest.mark.parametrize("cell, parameters", [(lstm, {"beta_f": 2.0}), (gru, {}), (rate, {})])
def test_tangent_product_is_the_dense_jacobian(cell, parameters):
    net = make_network(cell(), 40, 1, parameters)
    s = initial_state(net, 2)
    V = np.random.default_rng(3).standard_normal((net.m, net.N, 3))
    got = tangent_product(net, s, V)
    want = (jacobian(net, s) @ V.reshape(-1, 3)).reshape(V.shape)
    # Same products summed in a different order: round-off of O(1) sums.
    np.testing.assert_allclose(got, want, rtol=0, atol=EXACT_RTOL * 100 * np.abs(want).max())
    single = tangent_product(net, s, V[..., 0])
    np.testing.assert_allclose(single, got[..., 0], rtol=0, atol=EXACT_RTOL * np.abs(want).max())


def test_sum_of_all_exponents_of_a_linear_map_is_log_det():
    # h' = g J h: the product of the R factors' diagonals over T steps is
    # |det(g J)|^T exactly, so sum_i lambda_i = log |det(g J)| up to round-off
    # of the QR (about 1e-13 per step relative, over 60 steps).
    N, g = 24, 0.9
    net = make_network(ginibre_cell(), N, 4, {"g": g})
    res = lyapunov(net, initial_state(net, 5), 60, k=N, blocks=3)
    _, logdet = np.linalg.slogdet(g * np.asarray(net.couplings[0]))
    assert math.isclose(float(np.sum(res.exponents)), logdet, rel_tol=1e-9, abs_tol=1e-9)


def test_vanilla_map_below_one_gives_log_spectral_radius():
    # h' = tanh(g J h), g = 0.5: the state decays to 0, where Jac = g J, so the
    # exponent is log of the spectral radius of g J for this finite matrix.
    N, g = 400, 0.5
    net = make_network(vanilla(), N, 1, {"g": g})
    res = lyapunov(net, initial_state(net, 2), 400, burn_in=200)
    radius = np.max(np.abs(np.linalg.eigvals(g * np.asarray(net.couplings[0]))))
    # Sampling: MC_SIGMAS block-mean errors; the top eigenvalue here is a
    # complex pair (its phase rotation is what the blocks scatter over).
    assert abs(res.exponent - math.log(radius)) <= MC_SIGMAS * res.stderr
    # Large N: the spectral radius of a Ginibre matrix exceeds 1 by
    # O(sqrt(log N / N)) (Rider 2003), 0.12 at N = 400, so log g is reached
    # within that window (measured offset 0.052).
    assert abs(res.exponent - math.log(g)) <= math.sqrt(math.log(N) / N)
    assert res.integrator == "map" and res.dt is None and res.steps == 400


def test_rate_network_below_one_gives_largest_real_part():
    # dx/dt = -x + g J tanh(x), g = 0.5: x -> 0, where Jac = -1 + g J, so the
    # exponent is max Re eig(-1 + g J) (about -0.5 at large N). Coupling seed
    # 0 at N = 200 has a gap of 0.048 between the two largest real parts, so
    # a burn-in of 100 time units leaves a misalignment of exp(-4.8) in the
    # tangent vector: a bias of order 1e-2 / 100 = 1e-4 on the exponent,
    # below the sampling error.
    N, g, dt = 200, 0.5, 0.1
    net = make_network(rate(), N, 0, {"g": g})
    res = lyapunov(net, initial_state(net, 1), 1000, burn_in=1000, dt=dt)
    eig = np.linalg.eigvals(-np.eye(N) + g * np.asarray(net.couplings[0]))
    # Window: MC_SIGMAS block-mean errors plus the 1e-4 alignment bias above.
    assert abs(res.exponent - eig.real.max()) <= MC_SIGMAS * res.stderr + 1e-4
    assert res.integrator == "rk4" and res.time == pytest.approx(100.0, rel=EXACT_RTOL)
    assert abs(res.exponent + 0.5) < 0.1  # large-N value -1 + g, finite-N edge O(g / sqrt(N))


@pytest.mark.slow
def test_rate_network_at_g2_is_chaotic():
    # Sompolinsky, Crisanti and Sommers (1988): chaos for g > 1. Measured
    # (N = 1000, seeds 0-2, dt = 0.1, 200 time units): 0.104 +- 0.006,
    # 0.108 +- 0.005, 0.105 +- 0.004 per unit time. At N = 400 the exponent
    # must be positive by more than MC_SIGMAS errors.
    net = make_network(rate(), 400, 1, {"g": 2.0})
    res = lyapunov(net, initial_state(net, 1), 1000, burn_in=300, dt=0.1, blocks=10)
    assert res.exponent > MC_SIGMAS * res.stderr


def test_settings_are_checked():
    net = make_network(vanilla(), 10, 0)
    s = initial_state(net, 0)
    with pytest.raises(GatefieldError, match="discrete-time"):
        lyapunov(net, s, 10, dt=0.1)
    with pytest.raises(GatefieldError, match="at most"):
        lyapunov(net, s, 10, k=11)
    with pytest.raises(GatefieldError, match="blocks"):
        lyapunov(net, s, 10, blocks=1)
    with pytest.raises(GatefieldError, match="shape"):
        tangent_product(net, s, np.zeros((2, 10)))
    flow = make_network(rate(), 10, 0)
    with pytest.raises(GatefieldError, match="dt"):
        lyapunov(flow, initial_state(flow, 0), 10, dt=-1.0)


# -- finite-size extrapolation --------------------------------------------------------------------


def test_finite_size_fit_recovers_an_exact_one_over_n_law():
    sizes = [250, 500, 1000, 2000]
    values = [0.1125 - 11.6 / n for n in sizes]
    limit, limit_error, slope, slope_error, chi2, dof = finite_size_fit(sizes, values, [1e-3] * 4)
    assert limit == pytest.approx(0.1125, abs=1e-12)
    assert slope == pytest.approx(-11.6, abs=1e-9)
    assert chi2 == pytest.approx(0.0, abs=1e-18)
    assert dof == 2
    # Unscaled weighted least squares: var(limit) = sum w x^2 / (sum w sum w x^2 - (sum w x)^2).
    x, w = 1.0 / np.array(sizes, dtype=float), np.full(4, 1e6)
    var = (w * x**2).sum() / (w.sum() * (w * x**2).sum() - (w * x).sum() ** 2)
    assert limit_error == pytest.approx(math.sqrt(var), rel=EXACT_RTOL * 1e3)


def test_finite_size_fit_errors_are_honest():
    # 4000 synthetic scans with Gaussian errors of known size: the pulls
    # (limit - truth) / limit_error must have unit standard deviation, to
    # MC_SIGMAS times its sampling error 1 / sqrt(2 * 4000) = 0.011, and the
    # mean chi^2 must be the number of degrees of freedom (2), to MC_SIGMAS
    # times sqrt(2 * 2 / 4000) = 0.032.
    rng = np.random.default_rng(5)
    sizes = np.array([500, 1000, 2000, 4000])
    errors = np.array([0.004, 0.003, 0.002, 0.002])
    pulls, chi2s = [], []
    for _ in range(4000):
        values = 0.11 - 12.0 / sizes + errors * rng.standard_normal(4)
        limit, limit_error, _, _, chi2, _ = finite_size_fit(sizes, values, errors, birge=False)
        pulls.append((limit - 0.11) / limit_error)
        chi2s.append(chi2)
    assert abs(np.std(pulls) - 1.0) <= MC_SIGMAS / math.sqrt(2 * 4000)
    assert abs(np.mean(chi2s) - 2.0) <= MC_SIGMAS * math.sqrt(4 / 4000)


def test_finite_size_fit_refuses_what_it_cannot_fit():
    with pytest.raises(GatefieldError, match="two different network sizes"):
        finite_size_fit([500, 500], [0.1, 0.1], [0.01, 0.01])
    with pytest.raises(GatefieldError, match="positive, finite error"):
        finite_size_fit([500, 1000], [0.1, 0.1], [0.0, 0.01])


def test_lyapunov_scan_is_the_runs_it_reports():
    # The scan is lyapunov() on make_network(seed) per size and seed: its
    # per-size mean is the mean of those runs, and its fit is finite_size_fit
    # of the per-size means and errors.
    cell = rate()
    scan = lyapunov_scan(cell, {"g": 0.5}, [40, 20], 3, 200, dt=0.1, relax_time=5.0)
    assert scan.sizes == (20, 40)
    net = make_network(cell, 20, 1, {"g": 0.5})
    s = run_to_steady_state(net, initial_state(net, 1), 5.0)
    direct = lyapunov(net, s, 200, burn_in=20, dt=0.1)
    assert scan.runs[20][1] == pytest.approx((direct.exponent, direct.stderr), rel=EXACT_RTOL)
    assert scan.exponents[0] == pytest.approx(np.mean([r[0] for r in scan.runs[20]]), rel=EXACT_RTOL)
    assert np.all(scan.errors > 0)
    assert (scan.limit, scan.dof) == pytest.approx(
        finite_size_fit(scan.sizes, scan.exponents, scan.errors)[::5], rel=EXACT_RTOL
    )
    with pytest.raises(GatefieldError, match="two different network sizes"):
        lyapunov_scan(cell, {}, [20, 20], 3, 10)
    with pytest.raises(GatefieldError, match="at least 3 seeds"):
        lyapunov_scan(cell, {}, [20, 40], 2, 10)


def test_finite_size_fit_widens_errors_by_the_birge_ratio():
    # Points off any 1/N law: the limit's error grows by sqrt(chi^2 / dof).
    sizes, values, errors = [500, 1000, 2000, 4000], [0.09, 0.11, 0.10, 0.112], [1e-3] * 4
    plain = finite_size_fit(sizes, values, errors, birge=False)
    scaled = finite_size_fit(sizes, values, errors)
    assert plain[4] / plain[5] > 1
    assert scaled[1] == pytest.approx(plain[1] * math.sqrt(plain[4] / plain[5]), rel=EXACT_RTOL)
    assert scaled[0] == plain[0]
