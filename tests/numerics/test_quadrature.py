"""Gaussian expectations: gatefield's quadrature against scipy.integrate.quad
and against Monte Carlo sampling (STYLE.md examples 7, 8 and 10)."""

import numpy as np
import pytest
from helpers import MC_SIGMAS, QUAD_RTOL, assert_within_sigmas, gauss_expect, mc_mean, sigmoid_cell
from scipy.special import expit, factorial2, gammainc, gammaincc

from gatefield.cells import vanilla
from gatefield.numerics import compile_cell
from gatefield.numerics.quadrature import DEFAULT, node_rule, sample_rule, standard_rule
from gatefield.numerics.solvers import mean_field_map

#: Half-width of the default rule's integration range, in standard units.
L = DEFAULT.half_width

#: Variance of the node in the tests below (any O(1) value; not 1, so that
#: the scaling by sqrt(q) is exercised).
Q = 0.7
#: Gains from gentle to a steep gate (gain 50: the switch is 0.02 wide).
GAINS = [0.5, 1.0, 3.0, 10.0, 50.0]
#: Off-centre biases, so the switch point is not at eta = 0.
TANH_BIAS = 0.3
SIGMOID_BIAS = -1.0


# -- the standard rule ------------------------------------------------------------------


def test_standard_rule_weights_sum_to_one():
    rule = standard_rule()
    assert np.all(rule.weights > 0)
    # Normalised by construction; a sum of 64 positive numbers: a few ulps.
    np.testing.assert_allclose(rule.weights.sum(), 1.0, rtol=1e-14, atol=0)
    # Symmetric: odd moments vanish (to round-off of O(1) terms).
    np.testing.assert_allclose(rule.weights @ rule.points, 0.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(rule.weights @ rule.points**3, 0.0, rtol=0, atol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_standard_rule_even_moments(k):
    """E[x^2k] = (2k-1)!!.

    The rule integrates over [-L, L] (L = 8) and renormalises, so it returns
    the moment of the normal law truncated to |x| < L:
    (2k-1)!! P(chi2_{2k+1} < L^2) / P(chi2_1 < L^2). Against that closed form
    the only error is the panel quadrature's (QUAD_RTOL; measured <= 1e-11).
    Against the untruncated (2k-1)!! the truncated tail adds exactly
    Q(k+1/2, L^2/2) - Q(1/2, L^2/2) relative (Q the regularised upper incomplete
    gamma function): 8e-14 for k = 1 up to 1.7e-9 for k = 5, so a 1e-12
    agreement with the untruncated moment is unreachable for high moments by
    design.
    """
    rule = standard_rule()
    value = rule.weights @ rule.points ** (2 * k)
    exact = factorial2(2 * k - 1)
    truncated = exact * gammainc(k + 0.5, L * L / 2) / gammainc(0.5, L * L / 2)
    np.testing.assert_allclose(value, truncated, rtol=QUAD_RTOL, atol=0)
    tail = gammaincc(k + 0.5, L * L / 2) - gammaincc(0.5, L * L / 2)
    np.testing.assert_allclose(value, exact, rtol=tail + QUAD_RTOL, atol=0)


def test_zero_variance_is_a_single_node():
    rule = node_rule(0.0)
    np.testing.assert_array_equal(rule.points, [0.0])
    np.testing.assert_array_equal(rule.weights, [1.0])


# -- node_rule against scipy.integrate.quad ------------------------------------------------


def _tanh_case(gain):
    cell = vanilla()
    values = cell.resolve({"g": gain, "beta": TANH_BIAS})

    def f(eta):
        return np.tanh(gain * eta + TANH_BIAS) ** 2

    return cell, values, f, -TANH_BIAS / gain


def _sigmoid_case(gain):
    cell = sigmoid_cell()
    values = cell.resolve({"g": gain, "beta": SIGMOID_BIAS})

    def f(eta):
        return expit(gain * eta + SIGMOID_BIAS) ** 2

    return cell, values, f, -SIGMOID_BIAS / gain


CASES = {"tanh": _tanh_case, "sigmoid": _sigmoid_case}


@pytest.mark.parametrize("gain", GAINS)
@pytest.mark.parametrize("kind", list(CASES))
def test_node_rule_matches_quad(kind, gain):
    cell, values, f, switch = CASES[kind](gain)
    features = compile_cell(cell).features["eta"]
    reference = gauss_expect(f, Q, points=[switch])
    rule = node_rule(Q, features, values)
    np.testing.assert_allclose(rule.weights @ f(rule.points), reference, rtol=QUAD_RTOL, atol=0)
    # The same number through the public mean-field map, which builds its
    # rule from the compiled cell itself.
    phi = mean_field_map(cell, {"J": Q}, {k: values[k] for k in ("g", "beta")})
    np.testing.assert_allclose(phi["J"], reference, rtol=QUAD_RTOL, atol=0)


@pytest.mark.parametrize("kind", list(CASES))
def test_steep_gate_needs_the_switch_features(kind):
    # The reference can tell a plain rule from the graded one: at gain 10 the
    # base panels alone miss by more than 1e-5 (measured 1e-4 to 1e-3), far
    # outside QUAD_RTOL, so the test above depends on the features.
    cell, values, f, switch = CASES[kind](10.0)
    reference = gauss_expect(f, Q, points=[switch])
    plain = node_rule(Q, (), values)
    assert abs(plain.weights @ f(plain.points) / reference - 1) > 1e-5


# -- the sampling route ---------------------------------------------------------------------

#: Monte Carlo sample size for the one-shot comparison.
N_SAMPLES = 1_000_000


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("gain", [1.0, 10.0])
def test_sampling_route_agrees(kind, gain):
    cell, values, f, switch = CASES[kind](gain)
    rule = node_rule(Q, compile_cell(cell).features["eta"], values)
    quadrature = rule.weights @ f(rule.points)
    samples = sample_rule(Q, N_SAMPLES, np.random.default_rng(20240501))
    fx = f(samples.points)
    np.testing.assert_array_equal(samples.weights, np.full(N_SAMPLES, 1.0 / N_SAMPLES))
    # The weighted sum is the sample mean; its standard error is estimated from
    # the sample (std / sqrt(n)); pass within MC_SIGMAS of them.
    mean, se = mc_mean(fx)
    np.testing.assert_allclose(samples.weights @ fx, mean, rtol=1e-12, atol=0)
    assert_within_sigmas(quadrature, mean, se, MC_SIGMAS)


def test_sample_rule_variance():
    # The samples have variance q: the sample variance of n normal draws has
    # relative standard error sqrt(2 / n); allow MC_SIGMAS of it.
    n = N_SAMPLES
    rule = sample_rule(Q, n, np.random.default_rng(7))
    np.testing.assert_allclose(np.var(rule.points), Q, rtol=MC_SIGMAS * np.sqrt(2.0 / n), atol=0)
    # q = 0: all samples at 0.
    np.testing.assert_array_equal(sample_rule(0.0, 10, np.random.default_rng(0)).points, np.zeros(10))


def test_sampling_error_converges_at_rate_one_half():
    """The sampling route's root-mean-square error over seeds falls like n^(-1/2).

    Sizes 1e3 .. 1e5 (5 points over two decades), 40 seeds each. The RMS over
    40 seeds has relative spread about 1/sqrt(2*40) = 0.11, i.e. 0.05 in
    log10 per point, giving a slope uncertainty of about 0.03; the window
    [-0.7, -0.3] around -1/2 is several times wider.
    """
    gain = 3.0
    cell, values, f, switch = _tanh_case(gain)
    reference = gauss_expect(f, Q, points=[switch])
    sizes = np.array([1_000, 3_000, 10_000, 30_000, 100_000])
    seeds = range(40)
    rms = []
    for n in sizes:
        errors = []
        for seed in seeds:
            rule = sample_rule(Q, int(n), np.random.default_rng(1000 + seed))
            errors.append(rule.weights @ f(rule.points) - reference)
        rms.append(np.sqrt(np.mean(np.square(errors))))
    slope = np.polyfit(np.log(sizes), np.log(rms), 1)[0]
    assert -0.7 <= slope <= -0.3, f"slope {slope:.3f}, expected about -1/2"
