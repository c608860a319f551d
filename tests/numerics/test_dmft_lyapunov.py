"""Tests of the maximal Lyapunov exponent from the linearized two-replica DMFT.

References: closed forms where the tangent self-consistency reduces by hand
(``docs/theory/7-lyapunov.md#two-replica``):
``log g`` for the vanilla map and ``log(a b)`` for a product of two Ginibre
couplings at their zero state, ``-1 + g`` for the rate network's zero fixed
point, and ``log(g^2 E[tanh'(g eta)^2]) / 2`` for the vanilla map's chaotic
state (one-dimensional integrals by ``scipy.integrate.quad``); for the
chaotic rate network, the ground state of the Schroedinger problem of
Crisanti and Sompolinsky (2018) built from the same DMFT state's
correlation function (an independent route through the same state); and QR
(Benettin) exponents of finite networks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from helpers import MC_SIGMAS, gauss_expect, product_cell

import gatefield as gf
from gatefield.cells.builtins import rate, vanilla
from gatefield.errors import GatefieldError
from gatefield.numerics.problems import DMFT, TangentDMFT
from gatefield.numerics.solution import Status
from gatefield.numerics.solvers import PathSampling, TangentSampling
from gatefield.simulate import initial_state, make_network, run_to_steady_state
from gatefield.simulate.lyapunov import lyapunov

#: DMFT settings for the discrete zero-state checks: a collapsing state needs
#: few paths; start="small" reaches zero (C(0) < atol) in a few iterations.
ZERO_STATE = dict(samples=100, T=60, burn_in=20, max_lag=10, start="small")


def solve_dmft(cell, parameters=None, **options):
    """The sampling DMFT state (``options``: those of ``PathSampling``), without raising on failure."""
    return gf.solve(DMFT(cell, parameters), PathSampling(**options), throw=False)


def dmft_lyapunov(cell, dmft, **options):
    """The two-replica exponent about the DMFT state ``dmft`` (``options``: those of ``TangentSampling``)."""
    return gf.solve(TangentDMFT(cell, dmft.parameters, state=dmft), TangentSampling(**options), throw=False)


@pytest.mark.parametrize("g", [0.5, 0.8])
def test_vanilla_zero_state_gives_log_g(g):
    # At h = 0, K(t+1, t+1) = g^2 K(t, t): lambda = log g. The only error is
    # the sampling of the tangent field's variance (stderr).
    # No state given: the solver solves it with the DMFT solver passed (the
    # same path count, window and seed as the tangent iteration).
    r = gf.solve(
        TangentDMFT(vanilla(), {"g": g}),
        TangentSampling(
            samples=400,
            T=60,
            burn_in=20,
            iterations=12,
            average=8,
            dmft=PathSampling(samples=400, T=60, burn_in=20, max_lag=10, start="small"),
        ),
        throw=False,
    )
    assert r.dmft.static and r.status is Status.SUCCESS
    assert abs(r.exponent.mean - math.log(g)) <= MC_SIGMAS * r.exponent.stderr
    # Memory of the map: the tangent is fed back after exactly one step.
    np.testing.assert_allclose(r.history["memory"][-1], 1.0, rtol=1e-12)


def test_nested_nodes_give_log_of_the_product():
    # h' = a J2 (b J1 h) at its zero state: dv_1 = dh, dv_2 = b d_eta_1 (the
    # E block), dh' = a d_eta_2, so K_h grows by (a b)^2 per step. The
    # two-node cycle gives the tangent iteration eigenvalues +-a b e^-mu, so
    # (k_1, k_2) swing with period 2; an even averaging window averages the
    # swing out (damping 1/2 would remove it but also halves the Newton step).
    a, b = 0.6, 1.2
    dmft = solve_dmft(product_cell(), {"a": a, "b": b}, **ZERO_STATE)
    r = dmft_lyapunov(product_cell(), dmft, samples=400, iterations=16, average=8)
    assert r.status is Status.SUCCESS
    assert abs(r.exponent.mean - math.log(a * b)) <= MC_SIGMAS * r.exponent.stderr


def test_rate_zero_fixed_point_gives_minus_one_plus_g():
    # dx/dt = -x + g J tanh(x), g = 0.5: lambda = -1 + g (the largest real
    # part of -1 + g J at large N). The tangent field tends to a constant
    # (a static offset per path), so each path contributes one chi-square
    # number: many paths, a short window.
    g = 0.5
    dmft = solve_dmft(rate(), {"g": g}, samples=100, T=30.0, burn_in=10.0, max_lag=5.0, start="small")
    assert dmft.static
    r = dmft_lyapunov(rate(), dmft, samples=1000, iterations=14, average=8)
    assert abs(r.exponent.mean - (-1 + g)) <= MC_SIGMAS * r.exponent.stderr
    # M = 1 / (1 + lambda): the low-pass delay of the leak at the tilt.
    np.testing.assert_allclose(np.mean(r.history["memory"][-8:]), 1 / g, rtol=0.1)


def _vanilla_exponent(g: float, q: float) -> float:
    """``log(g^2 E[tanh'(g eta)^2]) / 2``, ``eta ~ N(0, q)``, by quad."""
    return 0.5 * math.log(g * g * gauss_expect(lambda e: (1 - np.tanh(g * e) ** 2) ** 2, q))


def test_vanilla_chaotic_state_matches_closed_form():
    g = 2.0
    q = 1.0
    for _ in range(200):  # q = E[tanh(g eta)^2]: a contraction at g = 2 (factor ~0.3)
        q = gauss_expect(lambda e: np.tanh(g * e) ** 2, q)
    want = _vanilla_exponent(g, q)
    dmft = solve_dmft(vanilla(), {"g": g}, samples=500, T=100, burn_in=50, max_lag=20, seed=1)
    r = dmft_lyapunov(vanilla(), dmft, samples=500, iterations=16, average=10, seed=1)
    assert not r.dmft.static and r.status is Status.SUCCESS
    # Errors: the tangent iteration's own (stderr) and the DMFT's q = C(0)
    # propagated through the closed form (slope by a central difference).
    dq = 1e-3 * q
    slope = (_vanilla_exponent(g, q + dq) - _vanilla_exponent(g, q - dq)) / (2 * dq)
    se = math.hypot(r.exponent.stderr, slope * dmft.correlations["J"].stderr[0])
    assert abs(r.exponent.mean - want) <= MC_SIGMAS * se, (r.exponent, want, se)
    # The tangent field is white: E[tanh' tanh'] at a lag is below its value at zero.
    k = r.tangent_correlations["J"]
    assert np.max(np.abs(k[1:])) < 0.05 * k[0]


def test_result_and_bad_arguments():
    dmft = solve_dmft(vanilla(), {"g": 0.5}, **ZERO_STATE)
    r = dmft_lyapunov(vanilla(), dmft, samples=50, iterations=4, average=2)
    j = r.to_json()
    assert j["route"] == "dmft" and j["static"] and len(j["history"]["estimate"]) == 4
    assert r.settings["integrator"] == "map" and r.settings["lags"] == len(r.tau)
    with pytest.raises(GatefieldError, match="average"):
        TangentSampling(iterations=4, average=4)
    # dt is the DMFT solver's option now; for a discrete-time cell it is refused there.
    with pytest.raises(GatefieldError, match="discrete-time"):
        gf.solve(TangentDMFT(vanilla(), {"g": 0.5}), TangentSampling(dmft=PathSampling(dt=0.1)), throw=False)
    with pytest.raises(GatefieldError, match="cell 'vanilla'"):
        TangentDMFT(rate(), {"g": 0.5}, state=dmft)
    with pytest.raises(GatefieldError, match="parameters differ"):
        TangentDMFT(vanilla(), {"g": 0.7}, state=dmft)
    with pytest.raises(GatefieldError, match="damping"):
        TangentSampling(damping=2.0)


def _schroedinger_exponent(dmft) -> float:
    """``lambda = -1 + sqrt(-E0)``, ``E0`` the ground state of
    ``-psi'' - g^2 E[phi'(x(0)) phi'(x(tau))] psi`` (Crisanti and Sompolinsky
    2018, Phys. Rev. E 98, 062120; Schuecker, Goedeke and Helias 2018): the
    tangent equation ``(d_t + 1)(d_t' + 1) K = g^2 E[phi' phi'] K`` with
    ``K = exp(lambda (t + t')) psi(t - t')``. ``x`` is Gaussian with the DMFT's
    ``Delta(tau) = E[x(t) x(t + tau)]``; the 2-d expectation by a 60 x 60
    Gauss-Hermite rule; the potential is held at its last value beyond the
    lag window (x decorrelated there), on a grid four windows wider each side.
    """
    g = dmft.parameters["g"]
    delta = dmft.state_correlations["x"]
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    d0 = delta[0]

    def phi_prime_product(dt):
        c = np.clip(dt / d0, -1.0, 1.0)
        a = np.sqrt(d0) * x[:, None]
        b = np.sqrt(d0) * (c * x[:, None] + np.sqrt(1 - c * c) * x[None, :])
        return float(np.sum(np.outer(w, w) / (np.cosh(a) ** 2 * np.cosh(b) ** 2)))

    V = -g * g * np.array([phi_prime_product(v) for v in delta])
    h = float(dmft.tau[1] - dmft.tau[0])
    pad = np.full(4 * len(V), V[-1])
    V = np.concatenate([pad, V[::-1], V[1:], pad])
    E0 = scipy.linalg.eigh_tridiagonal(2 / h**2 + V, -np.ones(len(V) - 1) / h**2, select="i", select_range=(0, 0))[0][0]
    return -1.0 + math.sqrt(-E0)


@pytest.fixture(scope="module")
def rate_g2():
    """DMFT of the rate network at g = 2 (dt = 0.1, Heun) and its exponent (~35 s)."""
    dmft = solve_dmft(rate(), {"g": 2.0}, samples=500, T=60.0, burn_in=20.0, max_lag=20.0, dt=0.1)
    return dmft_lyapunov(rate(), dmft, samples=500, iterations=25, average=10)


@pytest.mark.slow
def test_rate_chaotic_matches_schroedinger_ground_state(rate_g2):
    # Same DMFT state, two routes: the sampled tangent iteration and the
    # deterministic eigenproblem (discretization error of the latter on the
    # dt = 0.1 grid is O(dt^2 E0) ~ 1e-3 relative, below the sampling error).
    r = rate_g2
    assert r.status is Status.SUCCESS
    want = _schroedinger_exponent(r.dmft)
    assert abs(r.exponent.mean - want) <= MC_SIGMAS * r.exponent.stderr, (r.exponent, want)


@pytest.mark.slow
@pytest.mark.long
def test_rate_chaotic_matches_qr_exponent(rate_g2):
    # Rate network at g = 2. DMFT: dt = 0.1 (Heun), 500 paths; the tangent
    # iteration's error is about 0.005. QR: N = 1000, two coupling seeds,
    # RK4 at dt = 0.1 over 150 time units after a 50-unit burn-in; the seed
    # scatter (about 0.005 at this length) sets the window. Measured: the DMFT
    # sits about 0.01 (10%) above QR at N = 1000 (0.113 +- 0.003 against
    # 0.100 +- 0.001 over three seeds of 300 time units), with the
    # Schroedinger route and dt = 0.05 agreeing with the DMFT: a finite-N
    # offset or one of the DMFT state's, still to be resolved by an N sweep.
    g, r = 2.0, rate_g2
    qr = []
    for seed in range(2):
        net = make_network(rate(), 1000, seed, {"g": g})
        s = run_to_steady_state(net, initial_state(net, seed), 50.0)
        qr.append(lyapunov(net, s, 1500, burn_in=200, dt=0.1))
    mean = float(np.mean([x.exponent for x in qr]))
    se = math.sqrt(sum(x.stderr**2 for x in qr)) / len(qr)
    assert abs(r.exponent.mean - mean) <= MC_SIGMAS * math.hypot(r.exponent.stderr, se), (r.exponent, mean)
    assert 0.05 < r.exponent.mean < 0.2  # chaotic: positive, of the measured size
