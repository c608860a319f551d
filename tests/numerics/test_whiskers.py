"""Whiskers of the spectrum and the finite-N edge prediction
(``gatefield.numerics.spectrum.whiskers``).

The GRU's own eigenvalue per unit is ``1 - z`` (its state's own derivative at
a fixed point, where ``h_tilde = h``), with ``z = sigmoid(alpha_z eta_z)``
and ``eta_z ~ N(0, q_z)``: the share of units beyond a point of the axis is
a Gaussian tail in closed form. The finite-N edge is checked against
networks simulated here.
"""

import math

import numpy as np
import pytest
from helpers import MC_SIGMAS
from scipy.special import logit
from scipy.stats import norm

import gatefield as gf
from gatefield.numerics.spectrum import edge_prediction, inside_support
from gatefield.numerics.spectrum.whiskers import AXIS_POINTS, LAW_SAMPLES, bulk_edge, edge_scale, unit_law
from gatefield.simulate import find_fixed_point, initial_state, make_network
from gatefield.validation import eigenvalues

GRU_STABLE = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
MGU = {"alpha_f": 2.0, "g_h": 1.5, "beta_h": 0.5}
MGU_FILE = "tests/data/mgu.toml"


@pytest.fixture(scope="module")
def gru_sites():
    return gf.sites.from_fixed_point(gf.load_cell("gru"), {**GRU_STABLE, "alpha_z": 2.0})


def test_gru_whisker_mass_is_the_gaussian_tail_of_the_update_gate(gru_sites):
    support = gru_sites.support
    (whisker,) = support.whiskers
    # The whisker runs from the bulk's tip on the axis (located on a grid of
    # AXIS_POINTS over [0, 1]) to the limit 1 of 1 - z, which no unit attains.
    spacing = 1.0 / (AXIS_POINTS - 1)
    assert abs(whisker.start - support.bulk_radius) <= spacing
    assert whisker.end == pytest.approx(1.0, abs=1e-12)
    assert support.spectral_radius == whisker.end
    assert support.unit_radius < 1.0 and support.stable
    # Its mass: P(1 - z > start) = Phi(logit(1 - start) / (alpha_z sqrt(q_z))),
    # against the Monte Carlo law of LAW_SAMPLES draws (binomial error).
    q = gru_sites.order_parameters["J_z"]
    exact = norm.cdf(logit(1.0 - whisker.start) / (2.0 * math.sqrt(q)))
    se = math.sqrt(exact * (1 - exact) / LAW_SAMPLES)
    assert abs(whisker.mass - exact) <= MC_SIGMAS * se


def test_unit_law_is_one_minus_z(gru_sites):
    law = unit_law(gru_sites)
    mu = law.mu[:, 0].real
    assert np.all((mu > 0) & (mu < 1))
    # Mean of 1 - z over eta_z ~ N(0, q_z): 1/2 by symmetry of the sigmoid.
    assert abs(float(np.mean(mu)) - 0.5) <= MC_SIGMAS * float(np.std(mu)) / math.sqrt(len(mu))


def test_inside_support_counts_a_whisker_within_its_reach(gru_sites):
    from gatefield.validation.tolerances import edge_tolerance

    support = gru_sites.support
    lam = 0.5 * (support.bulk_radius + 1.0)  # on the whisker, outside the bulk
    reach = edge_tolerance(support.bulk_radius, 2000)
    points = np.array([lam, lam + 0.5j * reach, lam + 2j * reach])
    assert inside_support(gru_sites, points).tolist() == [True, False, False]
    assert inside_support(gru_sites, points, N=2000).tolist() == [True, True, False]


def test_summary_names_the_whiskers(gru_sites):
    line = gru_sites.support.summary()
    assert "bulk" in line and "whiskers" in line and line.endswith("-> stable")


def test_edge_prediction_refuses_a_certain_band(gru_sites):
    with pytest.raises(gf.GatefieldError, match="band must be below 1"):
        edge_prediction(gru_sites, 100, band=1.0)
    with pytest.raises(gf.GatefieldError, match="N"):
        edge_prediction(gru_sites, 1)


def test_bulk_edge_median_of_ginibre():
    # Rider's law for an iid disc against 40 Ginibre matrices of N = 1000
    # (fixed seed): the empirical median within 3 standard errors of a median
    # (1.2533 sd / sqrt(n)) of the predicted one.
    rng = np.random.default_rng(7)
    N, n = 1000, 40
    largest = np.array(
        [np.max(np.abs(np.linalg.eigvals(rng.standard_normal((N, N)) / math.sqrt(N)))) for _ in range(n)]
    )
    se = 1.2533 * largest.std(ddof=1) / math.sqrt(n)
    assert abs(np.median(largest) - bulk_edge(1.0, N, 0.5)) <= 3 * se
    assert edge_scale(1.0, N) == pytest.approx(
        math.sqrt(math.log(N / (2 * math.pi)) - 2 * math.log(math.log(N))) / math.sqrt(4 * N)
    )


def _largest(cell, result, N, seed):
    net = make_network(cell, N, seed, result.parameters)
    fp = find_fixed_point(net, initial_state(net, seed), equations="reduced")
    assert fp.converged
    return float(np.max(np.abs(eigenvalues(net, fp.state))))


@pytest.mark.slow
@pytest.mark.parametrize(
    "source, parameters",
    [(MGU_FILE, MGU), ("gru", {**GRU_STABLE, "alpha_z": 2.0}), ("vanilla", {"g": 1.5, "beta": 1.0})],
    ids=["mgu", "gru", "vanilla"],
)
def test_largest_eigenvalue_inside_its_predicted_band(source, parameters):
    # Three seeds at N = 400, each inside its 99% band: all three inside with
    # probability 97% if the band is right (the seeds are fixed, so the test
    # is deterministic; a band too narrow by a sizeable factor fails).
    cell = gf.load_cell(source)
    result = gf.solve(gf.problems.MeanField(cell, parameters))
    sites = gf.sites.from_fixed_point(result, solution=len(result.roots) - 1)
    N = 400
    edge = edge_prediction(sites, N, band=0.99)
    for seed in range(3):
        largest = _largest(cell, result, N, seed)
        assert edge.low <= largest <= edge.high, (seed, largest, edge)
    if source == "vanilla":  # no whisker: the bulk's edge law, median Rider's
        assert edge.whisker_median == 0.0
        assert edge.median == pytest.approx(bulk_edge(sites.support.bulk_radius, N, 0.5), rel=1e-9)
    else:  # the update or forget gate's whisker reaches past the bulk
        assert edge.median > sites.support.bulk_radius


def test_radius_scatter_of_a_disc():
    # Vanilla map sites from samples: the support is the disc of radius
    # r = g sqrt(mean phi'(x)^2) over the sites, so each resample's traced
    # radius has this closed form, and the scatter is their std exactly.
    from gatefield.numerics.spectrum import from_samples, radius_scatter
    from gatefield.numerics.spectrum.whiskers import _SCATTER_SEED

    cell = gf.load_cell("vanilla")
    g, beta, q, N, draws = 1.5, 0.3, 0.4, 400, 40
    eta = math.sqrt(q) * np.random.default_rng(3).standard_normal(20_000)
    x = g * eta + beta
    sites = from_samples(cell, {"g": g, "beta": beta}, np.tanh(x)[None, :], eta[None, :])
    d2 = (1 - np.tanh(x) ** 2) ** 2
    rng = np.random.default_rng(_SCATTER_SEED)  # the same resamples
    radii = [g * math.sqrt(d2[rng.choice(d2.size, N, replace=True)].mean()) for _ in range(draws)]
    scatter = radius_scatter(sites, N, draws=draws)
    assert scatter == pytest.approx(np.std(radii, ddof=1), rel=1e-8)
    # and it is the delta method's r std(phi'^2) / (2 mean(phi'^2) sqrt(N)),
    # within 3 of the 11% error of a std from 40 draws (measured: 1.27 times).
    expected = g * math.sqrt(d2.mean()) / 2 * d2.std() / (d2.mean() * math.sqrt(N))
    assert abs(scatter / expected - 1) < 3 / math.sqrt(2 * (draws - 1))


def test_a_band_of_zero_width_holds_its_exact_eigenvalue():
    # Random cell 13's largest |eigenvalue| is its gate state's -1/tau_z, an
    # eigenvalue of every unit: the band is one point, and LAPACK returns it
    # to round-off, not exactly.
    from gatefield.numerics.spectrum import EdgePrediction

    x = 1 / 0.502
    edge = EdgePrediction(1000, x, x, x, 0.99, x, 1.0)
    assert edge.contains(x * (1 + 1e-13)) and edge.contains(x * (1 - 1e-13))
    assert not edge.contains(x * (1 + 1e-6)) and not edge.contains(x * (1 - 1e-6))
