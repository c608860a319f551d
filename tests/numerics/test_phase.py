"""Phase diagrams: the zero fixed point's closed-form stability, continuation
against solving from scratch, the onset bracketed by the complexity's sign,
and a TOML cell through the whole diagram."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gatefield._json import dumps
from gatefield.cells import load_cell
from gatefield.errors import GatefieldError
from gatefield.numerics.complexity import solve_complexity
from gatefield.numerics.phase import REGIONS, phase_diagram
from gatefield.numerics.phase._points import Engine

from ..helpers import EXACT_RTOL, MC_SIGMAS

GATED_RATE = "tests/data/gated_rate.toml"

#: The zero fixed point's ring margin is ``1 - (g_h r)^2`` with one site (no
#: quadrature error) and the maximum at the ring's point lam = 1: exact up to
#: round-off of O(1) numbers.
MARGIN_ATOL = 1e-12
#: A warm-started saddle on the cheap rule (4 points per panel, relative
#: error about 2.5e-5 of the action's terms) against the default rule from
#: scratch: measured 3e-6 to 1e-5 on the GRU; 5e-5 leaves a factor 5.
WARM_SIGMA_ATOL = 5e-5
#: A continuous onset by the cubic extrapolation (test_toml_cell_onset...):
#: error about 3e-3 at most, measured 1e-4 and 2.8e-3 on the GRU.
CONTINUOUS_ONSET_ATOL = 1e-2


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("beta_r", [0.0, 0.8, -0.5])
def test_gru_zero_fixed_point_loses_stability_at_closed_form(beta_r):
    # Zero fixed point of the GRU (beta_h = 0): Jacobian (1 - z) + z g_h r J_h
    # with r = sigmoid(beta_r): a disc of centre 1 - z and radius z g_h r,
    # inside the unit circle iff g_h < 1 / sigmoid(beta_r).
    cell = load_cell("gru")
    engine = Engine(cell, {}, complexity=False)
    r = _sigmoid(beta_r)
    g_c = 1.0 / r
    for g in (0.7 * g_c, 0.99 * g_c, 1.01 * g_c, 1.4 * g_c):
        params = {"g_h": g, "beta_r": beta_r}
        margin = engine.margin(params, np.zeros(2))
        assert margin == pytest.approx(1.0 - (g * r) ** 2, abs=MARGIN_ATOL)
        assert (margin > 0) == (g < g_c)


def test_gru_zero_line_and_regions_without_complexity():
    cell = load_cell("gru")
    betas = np.array([-0.5, 0.0, 0.8])
    d = phase_diagram(cell, {"g_h": np.linspace(1.0, 3.5, 11), "beta_r": betas}, fresh=1, complexity=False, edges=2)
    (line,) = d.lines["zero_stability"]
    line = np.asarray(line)
    # Linear interpolation of 1 - (g r)^2 between grid points 0.25 apart
    # misplaces the root by h^2 / (8 g_c) <= 0.004.
    for beta in betas:
        g = line[np.isclose(line[:, 1], beta), 0]
        assert g.size >= 1 and np.all(np.abs(g - 1.0 / _sigmoid(beta)) <= 4e-3)
    # beta_h = 0: no stable non-zero branch, so left of the line the zero
    # fixed point, right of it no stable fixed point.
    for j, beta in enumerate(betas):
        for i, g in enumerate(d.axes[0]):
            want = "stable zero FP" if g < 1.0 / _sigmoid(beta) else "chaos (no stable FP)"
            assert d.label(i, j) == want
    # The full trace agrees with the cheap test where it was run.
    assert d.edges and all(e["agrees"] for e in d.edges)
    json.loads(dumps(d.to_json()))  # valid JSON, no NaN tokens (dumps refuses them)


def test_toml_cell_onset_bracketed_by_sigma_signs():
    # gated_rate: dx/dt = -x + g_x J_x (f tanh x). At alpha_f = 0 the gate is
    # 1/2, the rate network with g = g_x / 2, whose complexity turns on at g = 1.
    cell = load_cell(GATED_RATE)
    d = phase_diagram(cell, {"g_x": np.linspace(1.5, 3.0, 4), "alpha_f": np.array([0.0, 4.0])}, fresh=2, edges=0)
    s = d.maps["sigma_saddle"]
    positive = np.isfinite(s) & (s > 0)
    assert positive[-1, 0] and not positive[0, 0]
    assert d.onset
    g = d.axes[0]
    for x, y in d.onset:
        j = int(np.argmin(np.abs(d.axes[1] - y)))
        i = int(np.searchsorted(g, x, side="right"))
        # each onset point lies inside a grid cell whose ends differ in sign, or (an
        # extrapolated continuous onset: the cheap rule's empty corner is not
        # Sigma <= 0) in the cell just below one
        assert positive[i, j] != positive[i - 1, j] or (i + 1 < len(g) and positive[i + 1, j] != positive[i, j])
    (at_zero,) = [x for x, y in d.onset if y == 0.0]
    # The continuous onset at g_x = 2: Sigma ~ (16/81) (g - 1)^3 falls below the
    # cheap rule's error about 0.07 above it (plain bisection: 2.07), so the
    # bisection goes on with the full rule and extrapolates Sigma^(1/3), linear
    # in g near the onset; its error is k d1 d2 for the two points' distances
    # d1, d2 ~ 0.04-0.06 and the relative O(g - 1) correction k ~ 1 of
    # Sigma^(1/3): a few 1e-3 (measured 1.99986).
    assert at_zero == pytest.approx(2.0, abs=CONTINUOUS_ONSET_ATOL)
    assert set(np.unique(d.maps["region"]).astype(int)) <= set(REGIONS)


@pytest.mark.slow
def test_continuation_equals_from_scratch_at_sampled_points():
    cell = load_cell("gru")
    d = phase_diagram(cell, {"g_h": np.linspace(1.6, 2.8, 5), "alpha_r": np.array([5.0, 10.0, 15.0])}, fresh=2, edges=0)
    for i, j in ((1, 1), (4, 2), (2, 0)):
        scratch = solve_complexity(cell, d.params_at(i, j), throw=False)
        want = scratch.saddles[0].sigma if scratch.saddles else float("nan")
        got = d.maps["sigma_saddle"][i, j]
        if math.isnan(want):
            assert math.isnan(got) or got <= 0
        else:
            assert got == pytest.approx(want, abs=WARM_SIGMA_ATOL)


def test_continuation_equals_fresh_mean_field():
    from gatefield.numerics.problems import MeanField
    from gatefield.numerics.solve import solve
    from gatefield.numerics.solvers.roots import AllRoots

    cell = load_cell("gru")
    d = phase_diagram(
        cell, {"g_h": np.linspace(2.0, 3.0, 5), "beta_h": np.array([0.0, 0.3])}, fresh=1, complexity=False, edges=0
    )
    for i, j in ((4, 0), (3, 1)):
        mf = solve(MeanField(cell, d.params_at(i, j)), AllRoots(), throw=False)
        nonzero = [r for r in mf.roots if r.total > 1e-8]
        assert d.maps["nonzero_roots"][i, j] == len(nonzero)
        assert (d.maps["zero_fixed_point"][i, j] == 1.0) == any(r.total <= 1e-8 for r in mf.roots)


@pytest.mark.parametrize(
    "vary, fragment",
    [
        ({"g_h": np.linspace(1, 2, 3)}, "exactly two"),
        ({"g_h": np.linspace(1, 2, 3), "nope": np.linspace(0, 1, 3)}, "nope"),
        ({"g_h": np.array([1.0]), "alpha_r": np.linspace(0, 1, 3)}, "at least 2"),
    ],
)
def test_bad_grids_raise(vary, fragment):
    with pytest.raises(GatefieldError, match=fragment):
        phase_diagram(load_cell("gru"), vary, complexity=False)


@pytest.mark.slow
def test_jobs_give_the_same_diagram():
    cell = load_cell("gru")
    vary = {"g_h": np.linspace(1.5, 2.5, 4), "beta_r": np.array([0.0, 0.4, 0.8, 1.2])}
    one = phase_diagram(cell, vary, fresh=1, complexity=False, edges=0)
    two = phase_diagram(cell, vary, fresh=1, complexity=False, edges=0, jobs=2)
    np.testing.assert_allclose(one.maps["best_margin"], two.maps["best_margin"], rtol=EXACT_RTOL, atol=0)
    np.testing.assert_array_equal(one.maps["region"], two.maps["region"])


#: The GRU's mean-field tricritical point (beta_r = beta_h = 0) on g_h = 2:
#: expanding q' = E[tanh^2(g_h eta_h)] with Var eta_h = E[sigmoid^2(alpha_r
#: eta_r)] q gives q' = q + (alpha_r^2 / 4 - 2) q^2 + O(q^3) at g_h = 2, so c2
#: changes sign at alpha_r = 2 sqrt(2) (KAC-RICE.md section 0, item 5).
GRU_TRICRITICAL = 2.0 * math.sqrt(2.0)
#: The finite-difference normal form's error, measured 2.6e-6 in alpha_r at
#: the step 1e-4 (falls as the step squared); the grid holds g_h = 2 exactly,
#: so the zero-stability line's vertices lie on mu = 1. A factor 40 over that.
TRICRITICAL_ATOL = 1e-4


def test_gru_tricritical_point_on_the_zero_line():
    cell = load_cell("gru")
    alphas = np.array([2.0, 2.4, 2.8, 3.2, 3.6])
    d = phase_diagram(cell, {"g_h": np.array([1.8, 2.0, 2.2]), "alpha_r": alphas}, fresh=1, complexity=False, edges=0)
    ((g, alpha),) = d.tricritical
    assert g == pytest.approx(2.0, abs=TRICRITICAL_ATOL)
    assert alpha == pytest.approx(GRU_TRICRITICAL, abs=TRICRITICAL_ATOL)
    kinds = {round(row["alpha_r"], 6): row["kind"] for row in d.bifurcation}
    assert [kinds[round(a, 6)] for a in alphas] == ["continuous"] * 3 + ["discontinuous"] * 2
    for row in d.bifurcation:  # on the zero line, the map's slope at q = 0 is 1 (finite differences: h^2)
        assert row["mu"] == pytest.approx(1.0, abs=1e-6)
        # c2 = alpha_r^2 / 4 - 2 in q_r, up to the Perron vectors' normalization (a positive factor)
        assert (row["c2"] < 0) == (row["alpha_r"] ** 2 / 4 - 2 < 0)
    data = json.loads(dumps(d.to_json()))
    assert data["tricritical"] == [[g, alpha]] and len(data["bifurcation"]) == len(alphas)


@pytest.mark.slow
def test_gru_tricritical_sides_by_direct_root_counts():
    # Just below the zero line (g_h = 1.99, zero fixed point stable): no non-zero
    # mean-field root on the continuous side (alpha_r = 2.4), two on the discontinuous
    # side (3.4: the small unstable branch and the one past the saddle-node); just above
    # (2.01) the continuous side has one small root, q of order (mu - 1) / |c2|.
    from gatefield.numerics.phase._points import Point

    engine = Engine(load_cell("gru"), {}, complexity=False)

    def roots(g_h, alpha_r):
        point = Point({"g_h": g_h, "alpha_r": alpha_r})
        engine.mean_field(point, (), fresh=True)
        return point.roots

    assert roots(1.99, 2.4) == []
    assert len(roots(1.99, 3.4)) == 2
    (small,) = roots(2.01, 2.4)
    mu, c2 = engine.bifurcation({"g_h": 2.01, "alpha_r": 2.4})
    assert 0 < float(np.max(small)) < 10 * (mu - 1) / abs(c2)  # the branch's scale, a factor 10 for normalization


@pytest.mark.slow
def test_gru_continuous_onset_by_cubic_extrapolation():
    # Below alpha_r* = 4 / sqrt(3) the GRU's complexity turns on continuously at
    # g_h = 1 / sigmoid(beta_r) = 2 (KAC-RICE.md section 0, item 5); above it the
    # branch continues with Sigma < 0 and the sign change is bisected (1.5896 at
    # alpha_r = 10 from onset() on the full solver, to the grid cell / 32 here).
    cell = load_cell("gru")
    d = phase_diagram(cell, {"g_h": np.linspace(1.3, 2.5, 7), "alpha_r": np.array([0.0, 1.0, 10.0])}, edges=0)
    rows = {y: x for x, y in d.lines["complexity_onset"][0]}
    assert rows[0.0] == pytest.approx(2.0, abs=CONTINUOUS_ONSET_ATOL)
    assert rows[1.0] == pytest.approx(2.0, abs=CONTINUOUS_ONSET_ATOL)
    assert rows[10.0] == pytest.approx(1.5896, abs=0.2 / 32)


#: The GRU's complexity onset g_h*(alpha_r) (beta_r = beta_h = 0) by onset()
#: on the full solver, bisected to 1e-4 (measured; docs/theory/10-complexity.md).
GRU_ONSET_LINE = {
    0: 2.0000,
    2: 2.0000,
    4: 1.8855,
    6: 1.7493,
    8: 1.6560,
    10: 1.5896,
    12: 1.5398,
    14: 1.5009,
    16: 1.4694,
    18: 1.4433,
    20: 1.4212,
}
#: The bracket is 1e-4 wide; the table is rounded to 1e-4.
ONSET_LINE_ATOL = 2e-4


@pytest.mark.long
def test_gru_onset_line_alpha_r_0_to_20():
    # Issue 12, "Done when": the onset line for alpha_r from 0 to 20. Continuous at
    # g_h = 2 below alpha_r* = 4 / sqrt(3) (q* -> 0 at the onset), discontinuous
    # above (finite q*), falling monotonically with the reset gate's gain.
    from gatefield.numerics.complexity import onset

    cell = load_cell("gru")
    found = {a: onset(cell, "g_h", 1.2, 2.6, {"alpha_r": float(a)}, points=8) for a in GRU_ONSET_LINE}
    for a, expected in GRU_ONSET_LINE.items():
        assert found[a].value == pytest.approx(expected, abs=ONSET_LINE_ATOL)
    values = [found[a].value for a in sorted(found)]
    assert all(x >= y for x, y in zip(values, values[1:]))
    assert max(found[0].order_parameters.values()) < 1e-3 < min(found[4].order_parameters.values())


@pytest.mark.long
@pytest.mark.parametrize("g_h, alpha_r", [(3.0, 5.0), (2.4, 15.0)])
def test_gru_exact_integral_follows_sigma_at_two_points(g_h, alpha_r):
    # Issue 12, "Done when": two points with Sigma clearly > 0 checked by the exact
    # finite-N integral. log E[#] = N Sigma + c over N = 16-64, 4000 samples each:
    # the slope's error (delta method, Birge-scaled) is measured 0.003-0.007; the
    # theory within MC_SIGMAS of it, the untilted lower bound outside (KAC-RICE.md 9.1).
    # A log N term in the prefactor would bias the slope by a / <N> ~ 0.005.
    from gatefield.numerics.complexity import TiltedSites
    from gatefield.simulate.counting import growth_fit, kac_rice_integral

    cell = load_cell("gru")
    params = {"g_h": g_h, "alpha_r": alpha_r}
    theory = solve_complexity(cell, params)
    sites = TiltedSites.from_saddle(cell, params, theory)
    sizes = [16, 24, 32, 48, 64]
    runs = [kac_rice_integral(cell, N, 4000, params, seed=N, sites=sites) for N in sizes]
    fit = growth_fit(sizes, [r.mean.mean for r in runs], [r.mean.stderr for r in runs])
    assert abs(fit.sigma.mean - theory.sigma) < MC_SIGMAS * fit.sigma.stderr
    assert abs(fit.sigma.mean - theory.lower_bound) > MC_SIGMAS * fit.sigma.stderr


def test_slow_share_and_marginal_maps_at_the_zero_fixed_point():
    # At the GRU's zero fixed point (beta_h = 0) every unit is the same: z =
    # sigmoid(beta_z) = 1/2, own eigenvalue 1 - z = 1/2, so the units' share within
    # delta of 1 is exactly 0 for delta < 1/2 and 1 above (no sampling error: one site).
    cell = load_cell("gru")
    vary = {"g_h": np.array([0.8, 1.2]), "alpha_r": np.array([0.0, 2.0])}
    shares = {}
    for delta in (0.1, 0.6):
        d = phase_diagram(cell, vary, fresh=1, complexity=False, edges=0, slow_delta=delta)
        shares[delta] = d.maps["slow_share"]
        assert d.settings["slow_delta"] == delta
        # margin 1 - (g_h / 2)^2 >= 0.64: far from marginal
        assert np.all(d.maps["marginal"] == 0)
    # the weights of 4000 equal draws sum to 1 up to round-off (4000 x 1e-16)
    assert np.all(shares[0.1] == 0.0)
    np.testing.assert_allclose(shares[0.6], 1.0, rtol=0, atol=1e-12)
    data = json.loads(dumps(d.to_json()))
    assert set(data["maps"]) >= {"slow_share", "marginal"}


@pytest.mark.slow
def test_units_slow_share_against_the_whole_spectrum():
    # GRU with a shutting update gate (alpha_z = 16; the gru-update-slow-modes claim's
    # fixed point g_h = 1.6, alpha_r = 2, beta_h = 0.4): the units' own eigenvalues near
    # 1 carry the slow modes. Against the contour integral of the whole spectrum: 4
    # binomial errors of 4000 draws (4 x 0.008) plus the measured gap between the
    # units' share at 20000 draws and the whole spectrum's (0.006).
    from gatefield.numerics.spectrum import slow_mode_fraction

    cell = load_cell("gru")
    base = {"alpha_r": 2.0, "beta_h": 0.4, "alpha_z": 16.0}
    d = phase_diagram(
        cell,
        {"g_h": np.array([1.6, 1.7]), "alpha_z": np.array([16.0, 17.0])},
        base,
        fresh=1,
        complexity=False,
        edges=0,
        slow_delta=0.1,
    )
    engine = Engine(cell, base, complexity=False)
    from gatefield.numerics.phase._points import Point

    point = Point({**base, "g_h": 1.6})
    engine.mean_field(point, (), fresh=True)
    (x,) = point.roots
    whole = float(slow_mode_fraction(engine.sites(point.params, x), [0.1])[0])
    assert d.maps["slow_share"][0, 0] == pytest.approx(whole, abs=4 * 0.008 + 0.006)
