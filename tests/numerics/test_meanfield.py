"""The mean-field solver against independent references: scipy brentq on
scipy quad, scipy dblquad, Monte Carlo, and the closed-form stability
thresholds of THEORY.md section 8."""

import numpy as np
import pytest
from helpers import (
    MC_SIGMAS,
    QUAD_RTOL,
    ROOT_RTOL,
    STABILITY_ATOL,
    assert_within_sigmas,
    gauss_expect,
    mc_mean,
    sigmoid_cell,
)
from scipy import integrate, optimize
from scipy.special import expit

import gatefield as gf
from gatefield.cells import gru, lstm, rate, vanilla
from gatefield.errors import GatefieldError, SpecError
from gatefield.numerics import Status
from gatefield.numerics.problems import MeanField
from gatefield.numerics.solvers import AllRoots, continue_mean_field

#: The residual at which the solver accepts a root (relative to ``1 + |q|``).
RESIDUAL_TOL = AllRoots().residual_tol


def solve_mean_field(cell, parameters=None, **options):
    """Every mean-field root of ``cell``, raising if there is none."""
    return gf.solve(MeanField(cell, parameters), AllRoots(**options))


def support(result, k):
    """The predicted support at root ``k`` of a mean-field solution."""
    return gf.sites.from_fixed_point(result, solution=k).support


def _brentq(phi, a, b):
    """A root of ``phi(q) - q`` in [a, b], to 1e-14 relative."""
    return optimize.brentq(lambda q: phi(q) - q, a, b, xtol=1e-16, rtol=1e-14)


def _vanilla_phi(g):
    """``Phi(q) = E[tanh(g sqrt(q) x)^2]`` by scipy quad (THEORY.md section 8)."""
    return lambda q: gauss_expect(lambda e: np.tanh(g * e) ** 2, q, points=[0.0])


# -- vanilla map --------------------------------------------------------------------------


def test_vanilla_subcritical_has_only_the_zero_solution():
    result = solve_mean_field(vanilla(), {"g": 0.5})
    assert result.status == Status.SUCCESS
    assert len(result.roots) == 1
    (sol,) = result.roots
    assert sol.order_parameters == {"J": 0.0}
    sup = support(result, 0)
    assert sup.stable is True
    # At q = 0 the Jacobian is g times a Ginibre matrix: radius g.
    np.testing.assert_allclose(sup.spectral_radius, 0.5, rtol=0, atol=STABILITY_ATOL)


def test_vanilla_supercritical_solutions():
    g = 2.0
    result = solve_mean_field(vanilla(), {"g": g})
    assert len(result.roots) == 2
    zero, chaotic = result.roots
    assert zero.total <= chaotic.total  # sorted by total order parameter
    assert zero.order_parameters == {"J": 0.0}
    q_ref = _brentq(_vanilla_phi(g), 1e-3, 5.0)
    np.testing.assert_allclose(chaotic.order_parameters["J"], q_ref, rtol=ROOT_RTOL, atol=0)
    assert chaotic.residual <= RESIDUAL_TOL
    # The zero solution is unstable: radius g (closed form, Ginibre with gain g).
    zero_support = support(result, 0)
    assert zero_support.stable is False
    np.testing.assert_allclose(zero_support.spectral_radius, g, rtol=0, atol=STABILITY_ATOL)


@pytest.mark.parametrize("g", [0.9, 0.99, 1.01, 1.1])
def test_vanilla_zero_solution_loses_stability_at_one(g):
    result = solve_mean_field(vanilla(), {"g": g})
    zero = result.roots[0]
    assert zero.order_parameters == {"J": 0.0}
    zero_support = support(result, 0)
    np.testing.assert_allclose(zero_support.spectral_radius, g, rtol=0, atol=STABILITY_ATOL)
    assert zero_support.stable is (g < 1)
    # Above g = 1 a non-zero branch appears (transcritical bifurcation).
    assert len(result.roots) == (1 if g < 1 else 2)


# -- rate network ---------------------------------------------------------------------------


def test_rate_network_zero_fixed_point():
    # dx/dt = -x + g J tanh(x): at x = 0 the Jacobian is -1 + g Ginibre, a
    # disc of radius g centred at -1: rightmost point g - 1.
    result = solve_mean_field(rate(), {"g": 2.0})
    zero = result.roots[0]
    assert zero.order_parameters == {"J": 0.0}
    zero_support = support(result, 0)
    np.testing.assert_allclose(zero_support.rightmost_real, 1.0, rtol=0, atol=STABILITY_ATOL)
    assert zero_support.stable is False
    result = solve_mean_field(rate(), {"g": 0.5})
    assert len(result.roots) == 1
    zero_support = support(result, 0)
    np.testing.assert_allclose(zero_support.rightmost_real, -0.5, rtol=0, atol=STABILITY_ATOL)
    assert zero_support.stable is True


# -- GRU ------------------------------------------------------------------------------------------


def test_gru_single_stable_solution():
    params = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
    cell = gru()
    values = cell.resolve(params)
    result = solve_mean_field(cell, params)
    assert len(result.roots) == 1
    (sol,) = result.roots
    assert support(result, 0).stable is True
    q = sol.order_parameters
    # v_z = v_r = h*: the same integral, so the same order parameter.
    np.testing.assert_allclose(q["J_z"], q["J_r"], rtol=QUAD_RTOL, atol=0)
    g_h, beta_h, alpha_r, beta_r = (values[k] for k in ("g_h", "beta_h", "alpha_r", "beta_r"))
    # q_z = E[h*^2] with h* = tanh(g_h eta_h + beta_h), eta_h ~ N(0, q_h): a
    # self-consistency check, by quad, at the solver's own q (quadrature accuracy).
    q_z_ref = gauss_expect(lambda e: np.tanh(g_h * e + beta_h) ** 2, q["J_h"], points=[-beta_h / g_h])
    np.testing.assert_allclose(q["J_z"], q_z_ref, rtol=QUAD_RTOL, atol=0)
    # q_h = E[r^2 h*^2] over (eta_r, eta_h) with dblquad, not assuming the
    # factorisation the code uses. dblquad is asked for 1e-11 relative;
    # 1e-7 covers its nested-quadrature error with margin.
    sr, sh = np.sqrt(q["J_r"]), np.sqrt(q["J_h"])

    def integrand(eh, er):
        density = np.exp(-0.5 * (er / sr) ** 2 - 0.5 * (eh / sh) ** 2) / (2 * np.pi * sr * sh)
        return (expit(alpha_r * er + beta_r) * np.tanh(g_h * eh + beta_h)) ** 2 * density

    q_h_ref, _ = integrate.dblquad(integrand, -12 * sr, 12 * sr, -12 * sh, 12 * sh, epsabs=1e-13, epsrel=1e-11)
    np.testing.assert_allclose(q["J_h"], q_h_ref, rtol=1e-7, atol=0)


# -- a saddle-node pair ----------------------------------------------------------------------------

#: h' = sigmoid(g (J h) + beta) with a steep, mostly closed gate has three
#: solutions of q = E[sigmoid(g sqrt(q) x + beta)^2] (found by a scan with
#: scipy: q = 1.3e-4, 0.0275, 0.225); the upper two are born together at a
#: saddle-node as beta increases.
SADDLE = {"g": 15.0, "beta": -4.5}
#: Brackets around the three roots, from that scan.
SADDLE_BRACKETS = [(1e-5, 1e-3), (1e-2, 5e-2), (0.1, 0.5)]


def test_saddle_node_cell_has_three_solutions():
    g, beta = SADDLE["g"], SADDLE["beta"]

    def phi(q):
        return gauss_expect(lambda e: expit(g * e + beta) ** 2, q, points=[-beta / g])

    references = [_brentq(phi, a, b) for a, b in SADDLE_BRACKETS]
    # The brackets hold exactly one sign change each and the roots differ.
    assert references[0] < references[1] < references[2]
    result = solve_mean_field(sigmoid_cell(), SADDLE)
    found = [s.order_parameters["J"] for s in result.roots]
    assert len(found) == 3
    # The slope of Phi(q) - q at each root is O(1) or, at the smallest, ~-1, so
    # the root inherits the quadrature's relative accuracy: ROOT_RTOL.
    np.testing.assert_allclose(found, references, rtol=ROOT_RTOL, atol=0)
    for sol in result.roots:
        assert sol.residual <= RESIDUAL_TOL * (1 + sol.total)


# -- LSTM -------------------------------------------------------------------------------------------

#: Monte Carlo size for the LSTM check.
LSTM_SAMPLES = 4_000_000


def test_lstm_order_parameters_and_monte_carlo():
    cell = lstm()
    params = {"beta_f": 3.0}
    values = cell.resolve(params)
    result = solve_mean_field(cell, params)
    sol = result.roots[-1]  # the largest solution; q > 0 there
    q = sol.order_parameters
    assert set(q) == {"J_f", "J_i", "J_o", "J_g"}
    assert q["J_f"] > 0.1
    # All four integrands are E[h*^2]: one integral, so equal values.
    assert len(set(q.values())) == 1
    assert sol.residual < 1e-9
    # Independent estimate of E[h*^2] at that q, h* = o tanh(i g / (1 - f)).
    qq = q["J_f"]
    rng = np.random.default_rng(314159)
    eta = np.sqrt(qq) * rng.standard_normal((4, LSTM_SAMPLES))
    f = expit(values["alpha_f"] * eta[0] + values["beta_f"])
    i = expit(values["alpha_i"] * eta[1] + values["beta_i"])
    o = expit(values["alpha_o"] * eta[2] + values["beta_o"])
    gg = np.tanh(values["g_g"] * eta[3] + values["beta_g"])
    h_star = o * np.tanh(i * gg / (1 - f))
    mean, se = mc_mean(h_star**2)
    # The solution satisfies q = E[h*^2]: within MC_SIGMAS standard errors.
    assert_within_sigmas(qq, mean, se, MC_SIGMAS)


# -- continuation and errors -------------------------------------------------------------------


def test_continuation_counts_solutions():
    results = continue_mean_field(vanilla(), "g", [0.5, 1.5, 2.5])
    assert [len(r.roots) for r in results] == [1, 2, 2]
    assert [r.parameters["g"] for r in results] == [0.5, 1.5, 2.5]
    # The non-zero branch matches an independent root at each g > 1.
    for r in results[1:]:
        q_ref = _brentq(_vanilla_phi(r.parameters["g"]), 1e-3, 5.0)
        np.testing.assert_allclose(r.roots[1].order_parameters["J"], q_ref, rtol=ROOT_RTOL, atol=0)


@pytest.mark.parametrize("q_max", [-1.0, 0.0, np.nan, np.inf])
def test_bad_q_max_raises(q_max):
    with pytest.raises(GatefieldError, match="q_max"):
        solve_mean_field(vanilla(), q_max=q_max)


def test_unknown_parameter_raises():
    with pytest.raises(SpecError):
        solve_mean_field(vanilla(), {"gain": 2.0})
