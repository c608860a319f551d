"""Gaussian-closure (Fourier) DMFT: rate network, vanilla map, constant-gate GRU."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import MC_SIGMAS, ROOT_RTOL, gauss_expect
from references import rate_potential_solution
from scipy.interpolate import CubicSpline

import gatefield as gf
from gatefield import load_cell
from gatefield.errors import UnsupportedCellError
from gatefield.numerics.problems import DMFT, GaussianClosureDMFT, MeanField
from gatefield.numerics.solution import Status
from gatefield.numerics.solvers import AllRoots, FourierIteration, PathSampling
from gatefield.numerics.solvers.fourier import _correlate, _Unit
from gatefield.theory.closure import gaussian_closure

#: Fourier route against the potential route for Delta(0): both are converged
#: to 1e-12, the Fourier route with graded quadrature accurate to ~1e-10
#: (gatefield.numerics.quadrature), the reference (references.py) with adaptive
#: quad at 1e-13; the measured differences were 5e-12 (g = 2) and 1e-12 (g = 3).
DELTA0_RTOL = 1e-8

#: Delta(tau) at the lags the potential route gives for fixed levels, read off
#: the Fourier grid (dt = 0.1) by a cubic spline: interpolation error
#: ~ dt^4 |Delta''''| / 384 ~ 1e-6 for Delta'''' = O(1); 1e-5 leaves a factor 10.
SHAPE_ATOL = 1e-5

#: The Schrodinger operator applied to the zero mode dDelta/dtau with fourth
#: order differences on dt = 0.1: O(dt^4) = 1e-4 times fifth derivatives of
#: Delta of O(1); 1e-3 relative to |dDelta/dtau| is a factor 10 above it.
ZERO_MODE_RTOL = 1e-3


def solve_dmft_fourier(cell, parameters=None, **options):
    """The Gaussian-closure DMFT of ``cell`` (``options``: those of ``FourierIteration``), without raising."""
    return gf.solve(GaussianClosureDMFT(cell, parameters), FourierIteration(**options), throw=False)


@pytest.fixture(scope="module")
def rate():
    return load_cell("rate")


@pytest.fixture(scope="module")
def rate_g2(rate):
    return solve_dmft_fourier(rate, {"g": 2.0})


@pytest.mark.parametrize("start", ["large", "small"])
def test_rate_network_below_g1_is_static(rate, start):
    r = solve_dmft_fourier(rate, {"g": 0.8}, start=start)
    assert r.status is Status.SUCCESS
    assert r.static
    assert r.moments["E[x^2]"].mean < 1e-10
    # Static zero state: lambda = -1 + g (edge of the circular law of -1 + g J).
    assert r.lyapunov == pytest.approx(0.8 - 1.0, abs=1e-9)


@pytest.mark.parametrize("g", [2.0, 3.0])
def test_rate_delta0_matches_the_potential_solution(rate, rate_g2, g):
    r = rate_g2 if g == 2.0 else solve_dmft_fourier(rate, {"g": g})
    p = rate_potential_solution(g)
    assert r.status is Status.SUCCESS and not r.static
    assert r.moments["E[x^2]"].mean == pytest.approx(p.delta0, rel=DELTA0_RTOL)
    # Energy conservation in its two forms: Var[log cosh] (Brent root, by quad)
    # and E[Phi(x) Phi(x')] at Delta = 0 (tensor Gauss-Legendre) give the
    # same turning point.
    assert abs(p.potential_gap(0.0)) < 1e-9 * p.delta0**2
    # -Delta''(0) = g^2 E[tanh^2] - Delta0, by an independent quadrature.
    tanh2 = gauss_expect(lambda x: np.tanh(x) ** 2, p.delta0)
    assert p.curvature == pytest.approx(g * g * tanh2 - p.delta0, rel=1e-8)


def test_rate_correlation_shape_matches_the_potential_solution(rate_g2):
    g = 2.0
    r = rate_g2
    p = rate_potential_solution(g)
    spline = CubicSpline(r.tau, r.state_correlations["x"])
    for fraction in (0.9, 0.5, 1 / math.e, 0.1):
        tau = p.time_to(fraction * p.delta0)
        assert float(spline(tau)) == pytest.approx(fraction * p.delta0, abs=SHAPE_ATOL)
    # The 1/e time of the state autocovariance is the potential's time_to(Delta0 / e).
    assert r.state_decay_time["x"] == pytest.approx(p.time_to(p.delta0 / math.e), abs=1e-3)


def test_lyapunov_zero_mode(rate_g2):
    """dDelta/dtau solves [-d^2 + 1 - g^2 q] psi = 0 (Sompolinsky et al. 1988), so the
    ground state lies below 0 and lambda = -1 + sqrt(1 - E0) > 0."""
    g = 2.0
    r = rate_g2
    dt = r.tau[1]
    D = r.state_correlations["x"]
    cl = r.closure
    unit = _Unit.of(cl, "rate")  # the closure's w = tanh with its generated derivative w'
    q, _ = _correlate(unit.derivative, unit.derivative, D, 0.0, 8, cl.switches)
    k = np.arange(2, 200)
    d1 = (D[k - 2] - 8 * D[k - 1] + 8 * D[k + 1] - D[k + 2]) / (12 * dt)
    ext = np.concatenate([D[::-1], D[1:]])
    i = k + len(D) - 1
    d3 = (-ext[i + 3] + 8 * ext[i + 2] - 13 * ext[i + 1] + 13 * ext[i - 1] - 8 * ext[i - 2] + ext[i - 3]) / (8 * dt**3)
    residual = -d3 + (1 - g * g * q[k]) * d1
    assert np.max(np.abs(residual)) < ZERO_MODE_RTOL * np.max(np.abs(d1))
    assert r.ground_state_energy < 0
    assert r.lyapunov == pytest.approx(-1 + math.sqrt(1 - r.ground_state_energy), rel=1e-12)
    assert 0 < r.lyapunov < g - 1


@pytest.mark.slow
def test_rate_agrees_with_the_sampling_solver(rate, rate_g2):
    g = 2.0
    r = rate_g2
    s = gf.solve(
        DMFT(rate, {"g": g}), PathSampling(samples=1000, iterations=40, min_iterations=30, seed=1), throw=False
    )
    # Sampling error plus the sampler's Heun bias at dt = 0.1 (O(dt^2) ~ 1e-2
    # relative was the largest seen between dt = 0.1 and 0.05): floor 0.02.
    x2 = s.moments["E[x^2]"]
    assert abs(x2.mean - r.moments["E[x^2]"].mean) < MC_SIGMAS * x2.stderr + 0.02
    C = np.interp(s.tau, r.tau, r.correlations["J"].mean)
    sampled = s.correlations["J"]
    assert np.all(np.abs(sampled.mean - C) < MC_SIGMAS * sampled.stderr + 0.02)


def test_vanilla_map_chaotic_state_is_white():
    g = 2.0
    cell = load_cell("vanilla")
    r = solve_dmft_fourier(cell, {"g": g, "beta": 0.0})
    q_mf = max(root.order_parameters["J"] for root in gf.solve(MeanField(cell, {"g": g}), AllRoots()).roots)
    C = r.correlations["J"].mean
    assert C[0] == pytest.approx(q_mf, rel=ROOT_RTOL * 10)
    # Converged to 1e-12 relative change per lag (the solver's tol).
    assert np.max(np.abs(C[1:])) < 1e-10 * C[0]
    assert not r.static
    # lambda = log(g^2 E[sech^4(g eta)]) / 2, eta ~ N(0, q).
    chi = gauss_expect(lambda e: (g / np.cosh(g * e) ** 2) ** 2, q_mf)
    assert r.lyapunov == pytest.approx(0.5 * math.log(chi), rel=1e-8)


@pytest.mark.slow
def test_constant_gate_gru_closes_in_form_b():
    cell = load_cell("cgru")
    params = {"alpha_z": 0.0, "alpha_r": 0.0, "beta_z": 0.0, "beta_r": 0.0, "g_h": 3.0}
    cl = gaussian_closure(cell, cell.resolve(params))
    assert cl.form == "B" and cl.leak == pytest.approx(0.5) and cl.gain == pytest.approx(0.5)
    r = solve_dmft_fourier(cell, params)
    assert r.status is Status.SUCCESS and not r.static
    # The node of J_h is (r h) with r = 1/2; J_z and J_r read h itself.
    h2 = r.moments["E[h^2]"].mean
    assert r.correlations["J_h"].mean[0] == pytest.approx(0.25 * h2, rel=1e-12)
    assert r.correlations["J_z"].mean[0] == pytest.approx(h2, rel=1e-12)


@pytest.mark.parametrize("name", ["gru", "lstm", "gated"])
def test_cells_without_gaussian_closure_are_refused(name):
    # Refused when the problem is built, naming the sampling DMFT as the way out.
    with pytest.raises(UnsupportedCellError, match=r"DMFT problem \(sampling\)"):
        GaussianClosureDMFT(load_cell(name))
