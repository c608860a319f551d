"""Finite-N fixed-point counts against the exact Kac-Rice integral and exp(N Sigma).

Seeds of couplings and of Newton starts are separate arguments (STYLE.md
example 9). Every comparison of two estimates allows ``MC_SIGMAS`` combined
standard errors, each estimated from its own sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import MC_SIGMAS

import gatefield as gf
from gatefield.numerics.complexity import TiltedSites, compile_kac_rice, solve_complexity
from gatefield.simulate.counting import (
    count_fixed_points,
    fixed_point_states,
    growth_fit,
    kac_rice_integral,
    state_fixed_points,
)
from gatefield.simulate.network import make_network, nodes, rhs

DATA = Path(__file__).resolve().parents[1] / "data"


def _subset(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    """Every member of ``a`` is within ``atol`` (sup norm) of a member of ``b``."""
    return all(any(np.max(np.abs(x - y)) < atol for y in b) for x in a)


def _map_residual(net, s) -> np.ndarray:
    """``s - s*(eta(s))``: zero exactly at a fixed point, whatever the update gate."""
    ck = compile_kac_rice(net.cell)
    eta = nodes(net, s)[[net.compiled.nodes.index(n) for n in ck.nodes]]
    return s - fixed_point_states(net, eta)


def _residual(net, s) -> float:
    F = rhs(net, s)
    return float(np.max(np.abs(F if net.continuous else F - s)))


def test_node_space_roots_are_fixed_points_of_the_cell():
    net = make_network(gf.load_cell("rate"), 8, 3, {"g": 3.0})
    found = count_fixed_points(net, seed=0, min_starts=300)
    # Newton stops at max |G| < 1e-10; the state residual is that times O(g).
    assert found.count >= 1 and found.state_residual < 1e-8
    assert found.index.shape == (found.count,) and found.missing >= 0
    # Newton in state space, an independent route, finds nothing the node-space count missed
    # (it is the less complete route: from N(0, 0.7^2) starts it misses the pair with |x| ~ 6).
    direct = state_fixed_points(net, starts=200, seed=1)
    assert len(direct) >= 1 and _subset(direct, found.states, 1e-6)


@pytest.mark.slow
def test_gru_update_gate_cancels_at_finite_n():
    # KAC-RICE.md section 2: a gate that only multiplies F drops out of the count, at every N.
    # The same couplings with very different update gates have the same fixed points, found in
    # state space with the full Jacobian (update gate included), and they are the node-space roots.
    cell = gf.load_cell("gru")
    base = {"g_h": 3.0, "alpha_r": 5.0}
    roots = count_fixed_points(make_network(cell, 8, 11, base), seed=0, min_starts=600).states
    assert len(roots) >= 2
    for gate in ({"alpha_z": 0.5, "beta_z": 0.0}, {"alpha_z": 6.0, "beta_z": -2.0}):
        net = make_network(cell, 8, 11, {**base, **gate})
        # Every root is a fixed point of this network (Newton's 1e-10 in node space) ...
        assert max(_residual(net, s) for s in roots) < 1e-9
        # ... and a state-space search with this update gate finds no other. With a steep
        # update gate it also stops where z (h~ - h) < 1e-10 because z underflows (|h| up to
        # 20 with z ~ 1e-11): not fixed points, since h != h~ there; they are set apart by
        # the fixed-point map's own residual |h - h*(eta(h))|.
        direct = state_fixed_points(net, starts=120, seed=2)
        genuine = [s for s in direct if np.max(np.abs(_map_residual(net, s))) < 1e-8]
        assert len(genuine) >= 1 and _subset(np.array(genuine), roots, 1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("g", [2.0, 3.0, 4.0])
def test_direct_counts_match_exact_integral(g):
    # N = 8: the mean count over 60 coupling draws against the importance-sampled integral.
    # Both errors are sample standard errors; MC_SIGMAS of them combined.
    cell = gf.load_cell("rate")
    counts = [count_fixed_points(make_network(cell, 8, s, {"g": g}), seed=s, min_starts=600).count for s in range(60)]
    mean, err = np.mean(counts), np.std(counts, ddof=1) / np.sqrt(len(counts))
    integral = kac_rice_integral(cell, 8, 3000, {"g": g}, seed=5)
    assert abs(mean - integral.mean.mean) < MC_SIGMAS * np.hypot(err, integral.mean.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("g", [2.0, 3.0, 4.0])
def test_exact_integral_grows_like_exp_n_sigma(g):
    # log E[#] = N Sigma + c over N = 16-64 (2000 samples each; relative errors 4-10%).
    # The fitted slope's error (delta method, Birge-scaled) is 0.003; we require the
    # theory within MC_SIGMAS of it. A log N term in the prefactor would bias the
    # slope by a / <N> ~ 0.2 / 40 = 0.005 (KAC-RICE.md fits a = 0.01-0.19 at g >= 2):
    # inside the window. The untilted Sigma_typ must lie outside it (g >= 2).
    cell = gf.load_cell("rate")
    theory = solve_complexity(cell, {"g": g})
    sites = TiltedSites.from_saddle(cell, {"g": g}, theory)
    sizes = [16, 24, 32, 48, 64]
    runs = [kac_rice_integral(cell, N, 2000, {"g": g}, seed=N, sites=sites) for N in sizes]
    fit = growth_fit(sizes, [r.mean.mean for r in runs], [r.mean.stderr for r in runs])
    assert abs(fit.sigma.mean - theory.sigma) < MC_SIGMAS * fit.sigma.stderr
    assert abs(fit.sigma.mean - theory.lower_bound) > MC_SIGMAS * fit.sigma.stderr


@pytest.mark.slow
@pytest.mark.parametrize("g_h, alpha_r", [(3.0, 5.0), (1.7, 10.0)])
def test_gru_exact_integral_against_sigma(g_h, alpha_r):
    # Two GRU points checked by the finite-N integral: E[#] from N = 16 to 64 grows like
    # exp(N Sigma); at (1.7, 10) there is no mean-field branch and Sigma = 0.0133 is small,
    # so the fit's slope error (about 0.005-0.01 here) is of the size of Sigma itself.
    cell = gf.load_cell("gru")
    params = {"g_h": g_h, "alpha_r": alpha_r}
    theory = solve_complexity(cell, params)
    sites = TiltedSites.from_saddle(cell, params, theory)
    sizes = [16, 24, 32, 48, 64]
    runs = [kac_rice_integral(cell, N, 1500, params, seed=N, sites=sites) for N in sizes]
    fit = growth_fit(sizes, [r.mean.mean for r in runs], [r.mean.stderr for r in runs])
    assert abs(fit.sigma.mean - theory.sigma) < MC_SIGMAS * fit.sigma.stderr


@pytest.mark.slow
def test_toml_cell_counts_and_integral():
    cell = gf.load_cell(str(DATA / "gated_rate.toml"))
    net = make_network(cell, 8, 4)
    found = count_fixed_points(net, seed=0, min_starts=600)
    assert found.count >= 1 and found.state_residual < 1e-8
    assert _subset(state_fixed_points(net, starts=200, seed=3), found.states, 1e-6)
    integral = kac_rice_integral(cell, 8, 1000, seed=1)
    assert integral.mean.mean > 1 and integral.mean.stderr < 0.2 * integral.mean.mean


def test_growth_fit_recovers_exact_line():
    sizes = np.array([10.0, 20, 30, 40])
    means = 2.0 * np.exp(0.05 * sizes)
    fit = growth_fit(sizes, means, 0.01 * means)
    assert fit.sigma.mean == pytest.approx(0.05, abs=1e-12)
    assert fit.constant.mean == pytest.approx(np.log(2.0), abs=1e-10)
