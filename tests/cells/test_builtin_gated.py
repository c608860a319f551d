"""The built-in continuous-time gated network with dynamical gates (``gated``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy
from helpers import assert_sym_zero, sym

import gatefield as gf
from gatefield import load_cell
from gatefield.numerics.problems import MeanField
from gatefield.numerics.solvers import AllRoots
from gatefield.simulate import (
    finite_difference_jacobian,
    initial_state,
    jacobian,
    make_network,
    trajectory,
)
from gatefield.theory.derive import fixed_point
from gatefield.theory.functions import sigmoid
from gatefield.theory.spec import CellBuilder

#: Central differences with eps = 1e-6 on O(1) entries: truncation ~eps^2
#: times third derivatives (O(1)), round-off ~1e-16 / 1e-6 = 1e-10 per
#: evaluation times the O(sqrt(N)) row sums; 1e-7 leaves a factor ~100.
FD_ATOL = 1e-7


def limit_cell():
    """The ``tau_z, tau_r -> 0`` limit of ``gated``: the continuous-time GRU
    in rate form, gates reading ``J @ tanh(h)`` (see the ``gated`` docstring)."""
    b = CellBuilder("gated_limit", "continuous")
    h = b.state("h")
    alpha_z, beta_z = b.parameter("alpha_z", 1.0), b.parameter("beta_z", 0.0)
    alpha_r, beta_r = b.parameter("alpha_r", 1.0), b.parameter("beta_r", 0.0)
    g_h = b.parameter("g_h", 3.0)
    sz = b.define("sigma_z", sigmoid(alpha_z * b.couple("J_z", sympy.tanh(h)) + beta_z))
    sr = b.define("sigma_r", sigmoid(alpha_r * b.couple("J_r", sympy.tanh(h)) + beta_r))
    b.update(h, sz * (-h + g_h * b.couple("J_h", sr * sympy.tanh(h))))
    return b.build()


def test_builds_with_the_documented_equations():
    cell = load_cell("gated")
    assert cell.time == "continuous"
    assert [str(s) for s in cell.states] == ["h", "z", "r"]
    assert [c.matrix for c in cell.couplings] == ["J_h", "J_z", "J_r"]
    h, z, r = sym("h"), sym("z"), sym("r")
    eh, ez, er = sym("eta_h"), sym("eta_z"), sym("eta_r")
    az, bz, ar, br = sym("alpha_z"), sym("beta_z"), sym("alpha_r"), sym("beta_r")
    g, tz, tr = sym("g_h"), sym("tau_z"), sym("tau_r")
    assert_sym_zero(cell.updates[0] - sigmoid(az * z + bz) * (-h + g * eh))
    assert_sym_zero(cell.updates[1] - (-z + ez) / tz)
    assert_sym_zero(cell.updates[2] - (-r + er) / tr)
    assert_sym_zero(cell.couplings[0].argument - sigmoid(ar * r + br) * sympy.tanh(h))
    assert_sym_zero(cell.couplings[1].argument - sympy.tanh(h))
    assert cell.defaults == {
        "alpha_z": 1.0,
        "beta_z": 0.0,
        "alpha_r": 1.0,
        "beta_r": 0.0,
        "g_h": 3.0,
        "tau_z": 1.0,
        "tau_r": 1.0,
    }


def test_fixed_point_is_derived_in_closed_form():
    fp = fixed_point(load_cell("gated"))
    assert fp.closed_form
    solution = dict(fp.solution)
    assert_sym_zero(solution[sym("h")] - sym("g_h") * sym("eta_h"))
    assert_sym_zero(solution[sym("z")] - sym("eta_z"))
    assert_sym_zero(solution[sym("r")] - sym("eta_r"))


@pytest.mark.parametrize("g_h, stable", [(1.9, True), (2.1, False)])
def test_zero_fixed_point_loses_stability_at_g_h_2(g_h, stable):
    # At the origin sigma_z = sigma_r = 1/2 and z, r do not feed back into h
    # (their effect is multiplied by -h + g_h J_h(...) = 0), so the h block is
    # -1/2 + (g_h / 4) J: the circular law puts its edge at -1/2 + g_h / 4.
    result = gf.solve(MeanField(load_cell("gated"), {"g_h": g_h}), AllRoots(q_max=10.0, grid_points=60))
    zero = result.roots[0]
    assert all(q == 0.0 for q in zero.order_parameters.values())
    assert gf.sites.from_fixed_point(result, solution=0).support.stable is stable
    if not stable:
        assert len(result.roots) > 1  # a non-zero branch appears


def test_simulation_runs_and_stays_bounded():
    cell = load_cell("gated")
    net = make_network(cell, 100, coupling_seed=3)
    s = trajectory(net, initial_state(net, seed=4), steps=20, dt=0.5)
    assert s.shape == (21, 3, 100)
    assert np.all(np.isfinite(s))
    # |dh/dt| <= |h| + g_h |J_h tanh| keeps h of order g_h; z, r are filtered J @ tanh(h).
    assert np.max(np.abs(s[-1])) < 20.0
    # g_h = 3 is beyond the instability at g_h = 2: the activity does not die out.
    assert np.mean(s[-1, 0] ** 2) > 0.1


def test_jacobian_matches_finite_differences():
    net = make_network(
        load_cell("gated"),
        30,
        coupling_seed=5,
        parameters={"tau_z": 0.7, "tau_r": 1.3, "beta_z": 0.5, "alpha_r": 2.0},
    )
    s = initial_state(net, seed=6)
    np.testing.assert_allclose(jacobian(net, s), finite_difference_jacobian(net, s), rtol=0, atol=FD_ATOL)


def test_small_tau_approaches_the_rate_form_gru():
    """With tau_z = tau_r = tau, the gated trajectory started on the slow
    manifold (z = J_z tanh h, r = J_r tanh h) differs from the tau = 0 cell's by O(tau)."""
    N, T, steps = 60, 2.0, 4
    limit = make_network(limit_cell(), N, coupling_seed=7)
    h0 = initial_state(limit, seed=8)[0]
    errors = []
    taus = (1e-2, 1e-3)
    for tau in taus:
        net = make_network(load_cell("gated"), N, coupling_seed=7, parameters={"tau_z": tau, "tau_r": tau})
        by_name = dict(zip([c.matrix for c in net.cell.couplings], net.couplings))
        limit = dataclasses.replace(limit, couplings=tuple(by_name[c.matrix] for c in limit.cell.couplings))
        s0 = np.stack([h0, by_name["J_z"] @ np.tanh(h0), by_name["J_r"] @ np.tanh(h0)])
        h_gated = trajectory(net, s0, steps, dt=T / steps)[:, 0]
        h_limit = trajectory(limit, h0[None], steps, dt=T / steps)[:, 0]
        errors.append(np.max(np.abs(h_gated - h_limit)))
    # First order in tau: a tenfold smaller tau gives a tenfold smaller error
    # (window 5-20 allows the O(tau^2) term and the integrator's 1e-6 tolerance).
    assert 5.0 < errors[0] / errors[1] < 20.0
    assert errors[1] < 1e-2
