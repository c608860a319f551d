"""Tests of the finite-N simulator (gatefield.simulate).

The simulator evaluates code generated from the cell spec; these tests hold
it against hand-written numpy cells, finite differences and closed forms.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.special import expit

from gatefield.cells import cgru, gru, gru_torch, lstm, minimal_rnn, rate, vanilla
from gatefield.errors import GatefieldError
from gatefield.simulate import (
    find_fixed_point,
    finite_difference_jacobian,
    initial_state,
    jacobian,
    make_network,
    nodes,
    rhs,
    run_to_steady_state,
    step,
    trajectory,
)
from gatefield.theory.spec import CellBuilder

# Hand-written cells repeat the generated code's arithmetic up to the order of
# floating-point operations: agreement to a few hundred ulps of O(1) numbers.
EXACT_ATOL = 1e-12


# -- couplings and seeds -----------------------------------------------------------


def test_coupling_statistics():
    N = 400
    net = make_network(gru(), N, coupling_seed=11)
    assert len(net.couplings) == 3
    for J in net.couplings:
        assert J.shape == (N, N)
        # The sample variance of N^2 iid N(0, 1/N) entries has relative
        # standard deviation sqrt(2 / N^2) = sqrt(2)/N; allow 5 of them.
        np.testing.assert_allclose(J.var(), 1.0 / N, rtol=5 * np.sqrt(2) / N, atol=0)
        # The sample mean has standard deviation sqrt(1/N) / N; allow 5.
        np.testing.assert_allclose(J.mean(), 0.0, rtol=0, atol=5 / N**1.5)
    # Distinct matrices are independent: the entry correlation of two of them
    # has standard deviation 1/N (N^2 pairs); allow 5.
    corr = np.corrcoef(net.couplings[0].ravel(), net.couplings[1].ravel())[0, 1]
    np.testing.assert_allclose(corr, 0.0, rtol=0, atol=5 / N)


def test_coupling_seeds():
    a = make_network(gru(), 40, coupling_seed=1)
    b = make_network(gru(), 40, coupling_seed=1)
    c = make_network(gru(), 40, coupling_seed=2)
    for Ja, Jb, Jc in zip(a.couplings, b.couplings, c.couplings):
        # The same seed reproduces the matrices bit for bit.
        np.testing.assert_array_equal(Ja, Jb)
        # Another seed gives other matrices: entries of order 1/sqrt(N) differ
        # by far more than any round-off.
        assert np.max(np.abs(Ja - Jc)) > 0.1 / np.sqrt(40)


def test_initial_state_seed_is_separate_from_coupling_seed():
    N = 400
    net1 = make_network(vanilla(), N, coupling_seed=7)
    net2 = make_network(vanilla(), N, coupling_seed=8)
    s1 = initial_state(net1, seed=3)
    assert s1.shape == (1, N)
    # The initial state depends on its own seed only.
    np.testing.assert_array_equal(s1, initial_state(net2, seed=3))
    assert np.max(np.abs(s1 - initial_state(net1, seed=4))) > 0.1
    # The same integer for both seeds gives independent draws: the state is
    # uncorrelated with the first coupling row (standard deviation of the
    # sample correlation 1/sqrt(N); allow 5).
    s7 = initial_state(net1, seed=7)[0]
    corr = np.corrcoef(s7, net1.couplings[0][0])[0, 1]
    np.testing.assert_allclose(corr, 0.0, rtol=0, atol=5 / np.sqrt(N))
    # scale multiplies the standard deviation.
    np.testing.assert_allclose(initial_state(net1, seed=3, scale=0.5), 0.5 * s1, rtol=0, atol=EXACT_ATOL)


# -- evaluation against hand-written cells ------------------------------------------


def test_gru_matches_hand_written_step():
    p = {"alpha_z": 1.3, "beta_z": -0.2, "alpha_r": 0.7, "beta_r": 0.4, "g_h": 1.9, "beta_h": 0.1}
    net = make_network(gru(), 50, coupling_seed=5, parameters=p)
    s = initial_state(net, seed=6)
    Jz, Jr, Jh = net.couplings
    h = s[0]
    eta_z, eta_r = Jz @ h, Jr @ h
    z = expit(p["alpha_z"] * eta_z + p["beta_z"])
    r = expit(p["alpha_r"] * eta_r + p["beta_r"])
    eta_h = Jh @ (r * h)
    h_next = (1 - z) * h + z * np.tanh(p["g_h"] * eta_h + p["beta_h"])
    np.testing.assert_allclose(nodes(net, s), np.stack([eta_z, eta_r, eta_h]), rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(rhs(net, s), h_next[None], rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(step(net, s), h_next[None], rtol=0, atol=EXACT_ATOL)


def test_lstm_matches_hand_written_step():
    p = {
        "alpha_f": 1.1,
        "beta_f": 0.5,
        "alpha_i": 0.9,
        "beta_i": -0.3,
        "alpha_o": 1.4,
        "beta_o": 0.2,
        "g_g": 1.7,
        "beta_g": -0.1,
    }
    net = make_network(lstm(), 50, coupling_seed=5, parameters=p)
    s = initial_state(net, seed=6)
    assert s.shape == (2, 50)
    c, h = s
    Jf, Ji, Jo, Jg = net.couplings
    eta = np.stack([Jf @ h, Ji @ h, Jo @ h, Jg @ h])
    f = expit(p["alpha_f"] * eta[0] + p["beta_f"])
    i = expit(p["alpha_i"] * eta[1] + p["beta_i"])
    o = expit(p["alpha_o"] * eta[2] + p["beta_o"])
    g = np.tanh(p["g_g"] * eta[3] + p["beta_g"])
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    np.testing.assert_allclose(nodes(net, s), eta, rtol=0, atol=EXACT_ATOL)
    np.testing.assert_allclose(rhs(net, s), np.stack([c_next, h_next]), rtol=0, atol=EXACT_ATOL)


def test_discrete_trajectory_iterates_the_map():
    net = make_network(gru(), 30, coupling_seed=1)
    s0 = initial_state(net, seed=2)
    traj = trajectory(net, s0, steps=10, record_every=3)
    # States at steps 0, 3, 6, 9.
    assert traj.shape == (4, 1, 30)
    s = s0
    expected = [s0]
    for t in range(1, 10):
        s = step(net, s)
        if t % 3 == 0:
            expected.append(s)
    # Same operations in the same order: bitwise equal.
    np.testing.assert_allclose(traj, np.stack(expected), rtol=0, atol=0)
    np.testing.assert_allclose(run_to_steady_state(net, s0, 9), expected[-1], rtol=0, atol=0)


# -- Jacobian ----------------------------------------------------------------------


@pytest.mark.parametrize("make_cell", [gru, gru_torch, lstm, cgru, rate, minimal_rnn])
def test_jacobian_matches_finite_differences(make_cell):
    net = make_network(make_cell(), 30, coupling_seed=3)
    s = initial_state(net, seed=4)
    jac = jacobian(net, s)
    assert jac.shape == (30 * net.m, 30 * net.m)
    # Central differences with eps = 1e-6: truncation eps^2 * (third
    # derivative, O(1) for these smooth cells) ~ 1e-12, round-off
    # 1e-16 / eps ~ 1e-10; 1e-6 leaves a wide margin.
    np.testing.assert_allclose(jac, finite_difference_jacobian(net, s, eps=1e-6), rtol=0, atol=1e-6)


def test_jacobian_layout_is_component_major():
    # Entry [k N + i, l N + j] is dF_k(i) / ds_l(j): perturb h (l = 1) of unit
    # j = 3 of an LSTM and compare the column with a hand-made difference.
    N, eps = 20, 1e-6
    net = make_network(lstm(), N, coupling_seed=9)
    s = initial_state(net, seed=10)
    up, down = s.copy(), s.copy()
    up[1, 3] += eps
    down[1, 3] -= eps
    column = (rhs(net, up) - rhs(net, down)) / (2 * eps)  # (m, N): rows are F_c, F_h
    jac = jacobian(net, s)
    # Same finite-difference error budget as above.
    np.testing.assert_allclose(jac[:N, 1 * N + 3], column[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(jac[N:, 1 * N + 3], column[1], rtol=0, atol=1e-6)


def test_linear_cell_jacobian_is_the_scaled_coupling():
    b = CellBuilder("lin", "discrete")
    h = b.state("h")
    g = b.parameter("g", 0.5)
    b.update(h, g * b.couple("J", h))
    net = make_network(b.build(), 40, coupling_seed=2)
    s = initial_state(net, seed=1)
    # A = 0, B = g, C = 1: the pencil gives g*J with only exact operations
    # (products by 1, sums with 0).
    np.testing.assert_allclose(jacobian(net, s), 0.5 * net.couplings[0], rtol=0, atol=0)


# -- fixed points and relaxation ------------------------------------------------------


def test_contracting_vanilla_map_relaxes_to_zero():
    net = make_network(vanilla(), 200, coupling_seed=1, parameters={"g": 0.5})
    result = find_fixed_point(net, initial_state(net, seed=2))
    assert result.converged
    assert result.residual < 1e-10
    # Near 0 the residual is (g J - I) h with ||(g J - I)^(-1)|| of order 1
    # (spectrum of g J inside |lam| <= 0.5), so |h| is a small multiple of
    # the 1e-10 residual.
    np.testing.assert_allclose(result.state, 0.0, rtol=0, atol=1e-8)


def test_gru_fixed_point():
    p = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
    net = make_network(gru(), 400, coupling_seed=3, parameters=p)
    s0 = initial_state(net, seed=4)
    # Few relaxation steps, so that Newton does the polishing.
    result = find_fixed_point(net, s0, relax_steps=20, tol=1e-12)
    assert result.converged, result
    assert result.method == "relaxation+newton"
    assert result.residual < 1e-9
    h = result.state[0]
    eta = result.nodes
    np.testing.assert_allclose(eta, nodes(net, result.state), rtol=0, atol=EXACT_ATOL)
    # F(h) - h = z (tanh(g_h eta_h + beta_h) - h): the candidate equation holds
    # to residual / min(z) <= 1e-12 / 1e-3 = 1e-9 once every update gate is
    # at least 1e-3 open.
    z = expit(eta[0])
    assert z.min() > 1e-3
    np.testing.assert_allclose(h, np.tanh(p["g_h"] * eta[2] + p["beta_h"]), rtol=0, atol=1e-9)
    # The non-trivial fixed point: the order parameter is O(1), not zero.
    assert np.mean(h**2) > 0.01


def test_find_fixed_point_reports_failure_without_raising():
    # Newton alone from a random state of a chaotic map: whatever happens, a
    # result comes back and its flag agrees with its residual.
    net = make_network(vanilla(), 60, coupling_seed=1, parameters={"g": 3.0})
    result = find_fixed_point(net, initial_state(net, seed=2), relax_steps=0, newton_steps=3, tol=1e-300)
    assert not result.converged
    assert result.iterations <= 3
    assert result.state.shape == (1, 60)


# -- continuous time -------------------------------------------------------------------


def test_contracting_rate_network_relaxes_to_zero():
    N = 200
    net = make_network(rate(), N, coupling_seed=1, parameters={"g": 0.5})
    s0 = initial_state(net, seed=2)
    traj = trajectory(net, s0, steps=40, dt=0.5, record_every=4)
    # Recorded at t = 0, 2, ..., 20.
    assert traj.shape == (11, 1, N)
    np.testing.assert_allclose(traj[0], s0, rtol=0, atol=0)
    # Linearized decay rate is at least 1 - 0.5 = 0.5 (spectrum of g J inside
    # |lam| <= 0.5): by t = 20 the norm falls by about e^-10 ~ 5e-5; require
    # a factor 1e-3 to leave room for transients.
    assert np.linalg.norm(traj[-1]) < 1e-3 * np.linalg.norm(traj[0])
    assert trajectory(net, s0, steps=10).shape == (11, 1, N)
    # A burn-in over t = 20 takes the integrator's same steps as the
    # trajectory: the end states agree to within interpolation round-off.
    np.testing.assert_allclose(run_to_steady_state(net, s0, 20.0), traj[-1], rtol=0, atol=1e-9)
    result = find_fixed_point(net, s0)
    assert result.converged
    # |F| = |(-I + g J) x| < 1e-10 at the end, and (-I + g J) is well
    # conditioned here, so |x| is a small multiple of 1e-10.
    np.testing.assert_allclose(result.state, 0.0, rtol=0, atol=1e-8)


def test_continuous_trajectory_matches_tight_reference():
    # The chaotic rate network (g = 2) against a hand-written vector field
    # integrated independently with DOP853 at rtol = atol = 1e-12.
    N, g = 200, 2.0
    net = make_network(rate(), N, coupling_seed=1, parameters={"g": g})
    s0 = initial_state(net, seed=2)
    traj = trajectory(net, s0, steps=10, dt=0.5)
    J = net.couplings[0]
    ref = solve_ivp(
        lambda t, x: -x + g * (J @ np.tanh(x)),
        (0.0, 5.0),
        s0[0],
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
        t_eval=0.5 * np.arange(11),
    )
    # RK45 at rtol 1e-6 on O(1) states, global error accumulated over t = 5
    # (about 5 units of the leak time scale, before chaos amplifies it much):
    # of order 1e-6; allow 1e-5.
    np.testing.assert_allclose(traj[:, 0, :], ref.y.T, rtol=0, atol=1e-5)


def test_step_and_dt_are_for_their_own_time_kind():
    cont = make_network(rate(), 10, coupling_seed=1)
    disc = make_network(vanilla(), 10, coupling_seed=1)
    with pytest.raises(GatefieldError):
        step(cont, initial_state(cont, seed=0))
    with pytest.raises(GatefieldError):
        trajectory(disc, initial_state(disc, seed=0), steps=3, dt=0.1)


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 0, -3])
def test_too_few_units_raise(N):
    with pytest.raises(GatefieldError, match="at least N = 2"):
        make_network(gru(), N, coupling_seed=0)


def test_bad_inputs_raise():
    with pytest.raises(GatefieldError):
        make_network(gru(), 2.5, coupling_seed=0)
    with pytest.raises(GatefieldError):
        make_network(gru(), 10, coupling_seed=-1)
    with pytest.raises(GatefieldError):
        make_network(gru(), 10, coupling_seed=0, parameters={"no_such": 1.0})
    net = make_network(lstm(), 10, coupling_seed=0)
    with pytest.raises(GatefieldError, match="shape"):
        rhs(net, np.zeros((1, 10)))
