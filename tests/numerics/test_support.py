"""The support of the Jacobian's spectrum (THEORY.md section 4) against the
closed forms of section 8 and against brute-force averages of
``|C_a (lam - A)^(-1) B_b + E_ab|^2`` written by hand in numpy."""

import numpy as np
import pytest
from helpers import (
    EXACT_RTOL,
    MC_SIGMAS,
    RADIUS_RTOL,
    SUPPORT_RTOL,
    assert_within_sigmas,
    gauss_expect,
    ginibre_cell,
    mc_mean,
    product_cell,
)
from scipy.special import expit

import gatefield as gf
from gatefield.cells import gru, lstm, rate, vanilla
from gatefield.numerics.problems import MeanField
from gatefield.numerics.spectrum import (
    from_fixed_point,
    from_samples,
    inside_support,
    support_rho,
    support_values,
    trace_support,
)

# -- Ginibre and products of Ginibre matrices -----------------------------------------------


@pytest.mark.parametrize("g", [0.5, 1.3, 3.0])
def test_ginibre_disc(g):
    cell = ginibre_cell()
    sites = from_fixed_point(cell, {"g": g}, q={"J": 0.0})
    support = trace_support(sites)
    # Closed form: the support of g * Ginibre is |lam| <= g.
    np.testing.assert_allclose(support.spectral_radius, g, rtol=RADIUS_RTOL, atol=0)
    assert len(support.boundary) > 100
    np.testing.assert_allclose(np.abs(support.boundary), g, rtol=RADIUS_RTOL, atol=0)
    assert support.stable is (g < 1)
    assert support.route == "fixed-point"
    # Inside and outside of the disc.
    assert bool(inside_support(sites, 0.0)) is True
    assert bool(inside_support(sites, 0.9 * g * np.exp(0.7j))) is True
    assert bool(inside_support(sites, 1.1 * g * np.exp(0.7j))) is False
    assert bool(inside_support(sites, 100.0 * g)) is False


@pytest.mark.parametrize("a, b", [(1.0, 1.0), (0.7, 1.3), (2.0, 0.4)])
def test_product_of_two_ginibre(a, b):
    # The Jacobian is a b J2 J1: a product of two Ginibre matrices (support
    # |lam| <= 1, THEORY.md section 8) scaled by a b.
    cell = product_cell()
    sites = from_fixed_point(cell, {"a": a, "b": b}, q={"J1": 0.0, "J2": 0.0})
    support = trace_support(sites)
    np.testing.assert_allclose(support.spectral_radius, a * b, rtol=RADIUS_RTOL, atol=0)
    np.testing.assert_allclose(np.abs(support.boundary), a * b, rtol=RADIUS_RTOL, atol=0)


# -- vanilla map at a non-zero q -------------------------------------------------------------


@pytest.mark.parametrize("g, beta, q", [(2.0, 0.0, 0.5303683920507947), (1.5, 0.3, 1.2)])
def test_vanilla_radius_at_nonzero_q(g, beta, q):
    # A = 0, so the support is the disc |lam|^2 <= E[B^2] = g^2 E[tanh'(g eta + beta)^2],
    # eta ~ N(0, q) (THEORY.md section 8); the formula holds at any q.
    cell = vanilla()
    sites = from_fixed_point(cell, {"g": g, "beta": beta}, q={"J": q})
    support = trace_support(sites)
    mean_slope2 = gauss_expect(lambda e: (1 - np.tanh(g * e + beta) ** 2) ** 2, q, points=[-beta / g])
    np.testing.assert_allclose(support.spectral_radius, np.sqrt(g**2 * mean_slope2), rtol=SUPPORT_RTOL, atol=0)
    assert bool(inside_support(sites, sites.moments.center)) is True
    assert bool(inside_support(sites, 100.0)) is False


# -- rate network ---------------------------------------------------------------------------


@pytest.mark.parametrize("g", [0.5, 2.0])
def test_rate_network_disc_centred_at_minus_one(g):
    cell = rate()
    sites = from_fixed_point(cell, {"g": g}, q={"J": 0.0})
    np.testing.assert_allclose(sites.moments.center, -1.0, rtol=0, atol=1e-15)
    for theta in (0.0, 0.9, 2.5, 4.0):
        for r in (0.5 * g, 0.9 * g, 1.1 * g, 2.0 * g):
            lam = -1.0 + r * np.exp(1j * theta)
            rho = support_rho(sites, lam)
            # Closed form: A = -1, B = g, C = 1 at x = 0, so M = g^2 / |lam + 1|^2.
            # A single site: the same arithmetic in another order (EXACT_RTOL).
            np.testing.assert_allclose(rho, g**2 / r**2, rtol=EXACT_RTOL, atol=0)
            assert bool(rho > 1) is (r < g)
    support = trace_support(sites)
    np.testing.assert_allclose(support.rightmost_real, g - 1, rtol=0, atol=RADIUS_RTOL * (1 + g))


# -- GRU at its chaotic fixed point: brute-force Monte Carlo -----------------------------------

#: Monte Carlo sample size for the GRU comparison.
GRU_SAMPLES = 2_000_000
#: Test points: off the segment (0, 1) of the real axis where A = 1 - z lives.
GRU_LAMS = np.array([1.2, 0.5 + 0.8j, -0.3 + 0.2j, 1.05 + 0.4j])


def _gru_coefficients(values, h, eta_z, eta_r, eta_h):
    """Hand-written GRU pencil (THEORY.md section 3) at arrays of units:
    A (n,), B (3, n), C (3, n), E (3, 3, n), nodes ordered (z, r, h)."""
    z = expit(values["alpha_z"] * eta_z + values["beta_z"])
    r = expit(values["alpha_r"] * eta_r + values["beta_r"])
    h_tilde = np.tanh(values["g_h"] * eta_h + values["beta_h"])
    n = z.shape[0]
    A = 1 - z
    B = np.stack([values["alpha_z"] * z * (1 - z) * (h_tilde - h), np.zeros(n), z * values["g_h"] * (1 - h_tilde**2)])
    C = np.stack([np.ones(n), np.ones(n), r])
    E = np.zeros((3, 3, n))
    E[2, 1] = values["alpha_r"] * r * (1 - r) * h
    return A, B, C, E


def _brute_force_scalar_state(lam, A, B, C, E):
    """Mean and standard error over units of ``|C_a B_b / (lam - A) + E_ab|^2``
    (one state component), each of shape (K, K); one entry at a time to keep
    memory at one sample vector."""
    K = B.shape[0]
    resolvent = 1.0 / (lam - A)
    mean, se = np.empty((K, K)), np.empty((K, K))
    for a in range(K):
        for b in range(K):
            mean[a, b], se[a, b] = mc_mean(np.abs(C[a] * B[b] * resolvent + E[a, b]) ** 2)
    return mean, se


def test_gru_chaotic_support_matches_monte_carlo():
    cell = gru()
    params = {"g_h": 3.0}
    values = cell.resolve(params)
    result = gf.solve(MeanField(cell, params))
    q = result.roots[-1].order_parameters
    assert q["J_h"] > 0.05  # the chaotic (non-zero) solution
    sites = from_fixed_point(cell, params, q={"J_z": q["J_z"], "J_r": q["J_r"], "J_h": q["J_h"]})
    M = support_values(sites, GRU_LAMS)
    assert M.shape == (len(GRU_LAMS), 3, 3)
    rng = np.random.default_rng(271828)
    eta_z, eta_r, eta_h = (np.sqrt(q[k]) * rng.standard_normal(GRU_SAMPLES) for k in ("J_z", "J_r", "J_h"))
    h_star = np.tanh(values["g_h"] * eta_h + values["beta_h"])
    A, B, C, E = _gru_coefficients(values, h_star, eta_z, eta_r, eta_h)
    for k, lam in enumerate(GRU_LAMS):
        mean, se = _brute_force_scalar_state(lam, A, B, C, E)
        # Entries with sampling spread: MC_SIGMAS standard errors. Entries that
        # vanish identically at a fixed point (B_z = 0 since h = h_tilde) have
        # se = 0; for them the quadrature must give 0 up to round-off of O(1)
        # terms (1e-14).
        assert_within_sigmas(M[k], mean, se, MC_SIGMAS, floor=1e-14)
    # The support's centre is E[1 - z] = 1/2 (beta_z = 0: z symmetric about 1/2).
    np.testing.assert_allclose(sites.moments.center, 0.5, rtol=0, atol=1e-12)
    assert bool(inside_support(sites, sites.moments.center)) is True
    assert bool(inside_support(sites, 50.0)) is False


# -- plug-in sites: an exact identity ---------------------------------------------------------------

#: Synthetic population size for the plug-in identity.
N_UNITS = 400
PLUGIN_LAMS = np.array([0.3 + 0.9j, 1.4 - 0.2j, -0.5 + 0.5j, 2.0])


def test_plugin_sites_gru_is_the_unit_average():
    cell = gru()
    params = {"alpha_z": 1.5, "beta_z": 0.3, "beta_r": -0.2, "beta_h": 0.1, "g_h": 2.0}
    values = cell.resolve(params)
    rng = np.random.default_rng(5)
    states = 0.7 * rng.standard_normal((1, N_UNITS))
    nodes = rng.standard_normal((3, N_UNITS))
    sites = from_samples(cell, params, states, nodes)
    assert sites.route == "plug-in"
    M = support_values(sites, PLUGIN_LAMS)
    # Arbitrary (non-fixed-point) states: B_z = alpha_z z (1-z) (h_tilde - h) != 0.
    A, B, C, E = _gru_coefficients(values, states[0], *nodes)
    for k, lam in enumerate(PLUGIN_LAMS):
        brute, _ = _brute_force_scalar_state(lam, A, B, C, E)
        assert np.all(brute[:, 0] > 0)
        # The same average in another order of arithmetic (EXACT_RTOL); zero
        # entries (E and B_r) must be zero to round-off.
        np.testing.assert_allclose(M[k], brute, rtol=EXACT_RTOL, atol=1e-15)


def _lstm_coefficients(values, c, h, eta):
    """Hand-written LSTM pencil: states (c, h), nodes (f, i, o, g).

    c' = f c + i g,  h' = o tanh(c');  every node's argument is h, so
    C_a = (0, 1) and E = 0.
    """
    f = expit(values["alpha_f"] * eta[0] + values["beta_f"])
    i = expit(values["alpha_i"] * eta[1] + values["beta_i"])
    o = expit(values["alpha_o"] * eta[2] + values["beta_o"])
    g = np.tanh(values["g_g"] * eta[3] + values["beta_g"])
    c_new = f * c + i * g
    t = np.tanh(c_new)
    n = c.shape[0]
    A = np.zeros((n, 2, 2))
    A[:, 0, 0] = f
    A[:, 1, 0] = o * (1 - t**2) * f
    dc = np.stack(
        [
            values["alpha_f"] * f * (1 - f) * c,
            values["alpha_i"] * i * (1 - i) * g,
            np.zeros(n),
            i * values["g_g"] * (1 - g**2),
        ],
        axis=-1,
    )  # (n, 4)
    dh = o[:, None] * (1 - t**2)[:, None] * dc
    dh[:, 2] = values["alpha_o"] * o * (1 - o) * t
    B = np.stack([dc, dh], axis=1)  # (n, 2, 4)
    C = np.tile(np.array([0.0, 1.0]), (4, 1))  # (4, 2)
    return A, B, C


def test_plugin_sites_lstm_is_the_unit_average():
    # Two state components: exercises det / adjugate of lam - A (m = 2).
    cell = lstm()
    params = {"beta_f": 1.0, "beta_i": -0.5, "beta_o": 0.4, "g_g": 2.0, "alpha_f": 1.3}
    values = cell.resolve(params)
    rng = np.random.default_rng(6)
    states = rng.standard_normal((2, N_UNITS))
    nodes = 0.8 * rng.standard_normal((4, N_UNITS))
    sites = from_samples(cell, params, states, nodes)
    M = support_values(sites, PLUGIN_LAMS)
    A, B, C = _lstm_coefficients(values, states[0], states[1], nodes)
    for k, lam in enumerate(PLUGIN_LAMS):
        resolvent_B = np.linalg.solve(lam * np.eye(2) - A, B.astype(complex))  # (n, 2, 4)
        entries = np.einsum("am,nmb->nab", C, resolvent_B)  # (n, 4, 4)
        brute = np.mean(np.abs(entries) ** 2, axis=0)
        assert np.all(brute > 0)
        np.testing.assert_allclose(M[k], brute, rtol=EXACT_RTOL, atol=0)
