"""The density inside the support (docs/theory/5-cavity.md): the Hermitized cavity
equations against the closed forms of docs/theory/9-checks.md, against the literal
``2k x 2k`` equations at small eps, against direct averages outside the
support, and (slow) against finite-N eigenvalue counts."""

import numpy as np
import pytest
from helpers import EXACT_RTOL, ginibre_cell

import gatefield as gf
from gatefield import simulate
from gatefield.cells import gru, lstm
from gatefield.errors import GatefieldError, SolverError
from gatefield.numerics import Status, compile_cell
from gatefield.numerics.quadrature import split_hermite_rule
from gatefield.numerics.solvers import AllRoots
from gatefield.numerics.spectrum import (
    PencilView,
    density,
    resolvent,
    resolvent_grid,
    share_in_annulus,
    share_inside,
    support_rho,
)
from gatefield.numerics.spectrum.cavity.batches import Evaluation, PairEvaluation
from gatefield.numerics.spectrum.cavity.equations import Equations
from gatefield.theory import CellBuilder

# -- tolerances -------------------------------------------------------------------------

#: Single-site distributions (Ginibre, products of Ginibre matrices): the
#: solver stops at a relative residual of 1e-12, the density is an exact
#: (implicit) derivative and the contour integrand is smooth, so the closed
#: forms hold to rounding; observed deviations are below 1e-13.
CLOSED_FORM_RTOL = 1e-9
#: A circle crossing the support's edge: the contour integrand has two kinks,
#: so the 256-point trapezoid rule converges only algebraically (observed
#: 3e-6 for the Ginibre lens below).
EDGE_COUNT_ATOL = 1e-4
#: Central differences with h = 1e-4: truncation O(h^2 |g'''|) ~ 1e-8 plus
#: solver noise tol |g| / h ~ 1e-8 against the exact implicit derivative.
DIFFERENCE_RTOL = 1e-6
#: Grid (warm-started) against cold single-point solves: both stop at a
#: relative residual of 1e-12 of the unknowns.
WARM_COLD_RTOL = 1e-9
#: Finite-N checks: within this many standard errors of the simulation.
SIM_SIGMAS = 3.0

# -- cells and fixtures -------------------------------------------------------------------

GRU_PARAMS = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
LSTM_PARAMS = {"beta_f": 3.0, "g_g": 1.0, "beta_g": 1.0}


def product_cell(n: int):
    """``h' = J_n @ (... (J_1 @ h))``: the Jacobian is a product of n Ginibre matrices."""
    b = CellBuilder(f"product{n}", "discrete")
    h = b.state("h")
    v = h
    for k in range(1, n + 1):
        v = b.couple(f"J{k}", v)
    b.update(h, v)
    return b.build()


def single_site(cell, parameters=None):
    """The fixed-point sites at q = 0 on every coupling: one site."""
    return gf.sites.from_fixed_point(cell, parameters, q={c: 0.0 for c in compile_cell(cell).couplings})


def fixed_point_q(cell, params):
    """The largest mean-field root's order parameters, by coupling name."""
    # A 40-point bracketing scan finds the same root as the default 160 (to
    # 1e-14 here) in a fifth of the time.
    result = gf.solve(gf.problems.MeanField(cell, params), AllRoots(grid_points=40))
    return dict(result.roots[-1].order_parameters)


@pytest.fixture(scope="module")
def gru_setup():
    cell = gru()
    compiled = compile_cell(cell)
    values = cell.resolve(GRU_PARAMS)
    q = fixed_point_q(cell, GRU_PARAMS)
    return cell, compiled, values, q, gf.sites.from_fixed_point(cell, GRU_PARAMS, q=q)


@pytest.fixture(scope="module")
def lstm_setup():
    cell = lstm()
    compiled = compile_cell(cell)
    values = cell.resolve(LSTM_PARAMS)
    q = fixed_point_q(cell, LSTM_PARAMS)
    # The default rule: 8 nodes per variable, eta_g split in two (7752
    # sites); the density is within 2e-3 of a 10-node rule's, ample against
    # the 1/sqrt(N) tolerances at N = 1500.
    sites = gf.sites.from_fixed_point(cell, LSTM_PARAMS, q=q)
    assert sites.pencils.n == 7752
    return cell, compiled, values, q, sites


def _direct_outside(sites, lam):
    """``E[tr (lam - A)^(-1)]`` by numpy's solver, site by site."""
    pencils = sites.pencils
    eye = np.eye(pencils.m)
    return complex(np.einsum("nii,n->", np.linalg.inv(lam * eye - pencils.A), pencils.weights))


def _center(sites):
    """``E[tr A] / m`` over the full-pencil sites: the centroid of the spectrum."""
    pencils = sites.pencils
    return complex(np.dot(pencils.weights, np.trace(pencils.A, axis1=1, axis2=2)) / pencils.m)


# -- Ginibre ----------------------------------------------------------------------------------


@pytest.mark.parametrize("g", [0.5, 1.3])
def test_ginibre_density_resolvent_and_counts(g):
    sites = single_site(ginibre_cell(), {"g": g})
    r = g * np.array([0.05, 0.3, 0.5, 0.7])
    inside = r * np.exp(1j * np.array([0.4, 2.0, -1.1, 3.0]))
    # Closed form: rho = 1 / (pi g^2) inside, g(lam) = conj(lam) / g^2 inside
    # and 1 / lam outside (docs/theory/9-checks.md#ginibre).
    np.testing.assert_allclose(density(sites, inside), 1 / (np.pi * g**2), rtol=CLOSED_FORM_RTOL, atol=0)
    for lam in inside:
        res = resolvent(sites, lam)
        assert res.inside and res.status is Status.SUCCESS and res.route == "fixed-point"
        np.testing.assert_allclose(res.g, np.conj(lam) / g**2, rtol=CLOSED_FORM_RTOL, atol=0)
    outside = g * np.array([1.05, 1.5j, -2.0 + 1.0j, 10.0])
    np.testing.assert_array_equal(density(sites, outside), 0.0)
    for lam in outside:
        res = resolvent(sites, lam)
        assert not res.inside and res.iterations == 0
        np.testing.assert_allclose(res.g, 1 / lam, rtol=EXACT_RTOL, atol=0)
        np.testing.assert_array_equal(res.u, 0)
    # Counts: r^2 / g^2 inside a centred circle of radius r < g, 1 beyond.
    for radius in (0.3 * g, 0.9 * g):
        np.testing.assert_allclose(share_inside(sites, 0.0, radius), (radius / g) ** 2, rtol=CLOSED_FORM_RTOL, atol=0)
    for radius in (1.2 * g, 4.0 * g):
        np.testing.assert_allclose(share_inside(sites, 0.0, radius), 1.0, rtol=CLOSED_FORM_RTOL, atol=0)
    np.testing.assert_allclose(share_in_annulus(sites, 0.1 * g, 0.2 * g, 0.6 * g), 0.32, rtol=CLOSED_FORM_RTOL, atol=0)


def test_ginibre_count_across_the_edge():
    # The circle |lam - g/2| < 0.8 g leaves the support: the count is the area
    # of the lens between two discs over pi g^2.
    g = 1.3
    sites = single_site(ginibre_cell(), {"g": g})
    R0, r, d = g, 0.8 * g, 0.5 * g
    lens = (
        r * r * np.arccos((d * d + r * r - R0 * R0) / (2 * d * r))
        + R0 * R0 * np.arccos((d * d + R0 * R0 - r * r) / (2 * d * R0))
        - 0.5 * np.sqrt((-d + r + R0) * (d + r - R0) * (d - r + R0) * (d + r + R0))
    )
    np.testing.assert_allclose(
        share_inside(sites, d, r, points=256), lens / (np.pi * g * g), rtol=0, atol=EDGE_COUNT_ATOL
    )


# -- products of Ginibre matrices -----------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3])
def test_product_of_ginibre_density(n):
    sites = single_site(product_cell(n))
    radii = np.array([0.3, 0.45, 0.6, 0.8])
    lams = radii * np.exp(1j * np.array([0.5, 1.9, -2.6, 1.2]))
    # Closed form (docs/theory/9-checks.md#products): |lam|^(2/n - 2) / (n pi) on |lam| < 1.
    np.testing.assert_allclose(density(sites, lams), radii ** (2 / n - 2) / (n * np.pi), rtol=CLOSED_FORM_RTOL, atol=0)
    # Its integral over |lam| < r is r^(2/n).
    np.testing.assert_allclose(share_inside(sites, 0.0, 0.5), 0.5 ** (2 / n), rtol=CLOSED_FORM_RTOL, atol=0)
    assert density(sites, 1.2 + 0.3j) == 0.0


# -- a diagonal times a Ginibre matrix ----------------------------------------------------------


def test_vanilla_counts_against_the_scalar_equation():
    # h' = tanh(g J h): Jac = D J with D = diag(d), d = g tanh'(g eta). For
    # K = m = 1 and A = 0, docs/theory/5-cavity.md#reduction reduces (X = -d / lam) to one
    # equation for s = a b: the share of eigenvalues in |lam| < r is 1 - s(r)
    # with E[d^2 / (r^2 + s d^2)] = 1. Solved here with scipy (quad, brentq),
    # independently of the package's quadrature and Newton solver.
    from helpers import gauss_expect
    from scipy.optimize import brentq

    from gatefield.cells import vanilla

    cell, g = vanilla(), 2.0
    q = fixed_point_q(cell, {"g": g})
    sites = gf.sites.from_fixed_point(cell, {"g": g}, q=q)

    def d2(eta):
        return (g * (1 - np.tanh(g * eta) ** 2)) ** 2

    def equation(s, r):
        return gauss_expect(lambda e: d2(e) / (r * r + s * d2(e)), q["J"], points=[0.0]) - 1

    for r in (0.2, 0.6):
        s = brentq(equation, 0.0, 100.0, args=(r,), xtol=1e-15, rtol=1e-14)
        # 64 + 64 Gauss nodes (split at the tanh's midpoint): observed 5e-12.
        np.testing.assert_allclose(share_inside(sites, 0.0, r, points=64), 1 - s, rtol=1e-9, atol=0)


# -- the reduced equations against the literal ones -------------------------------------------


def _small_gru_plugin(N=200, seed=3):
    cell = gru()
    values = cell.resolve(GRU_PARAMS)
    rng = np.random.default_rng(seed)
    eta = np.stack([np.sqrt(v) * rng.standard_normal(N) for v in (0.215, 0.215, 0.062)])
    h = np.tanh(values["g_h"] * eta[2] + values["beta_h"])[None]
    return gf.sites.from_samples(cell, GRU_PARAMS, h, eta)


@pytest.mark.parametrize("case", ["ginibre", "gru-plugin", "lstm-plugin"])
def test_reduced_equations_are_the_eps_to_zero_limit(case):
    if case == "ginibre":
        sites, lam = single_site(ginibre_cell(), {"g": 1.3}), 0.4 + 0.3j
    elif case == "gru-plugin":
        sites, lam = _small_gru_plugin(), 0.5 + 0.25j
    else:
        rng = np.random.default_rng(4)
        eta = 0.5 * rng.standard_normal((4, 150))
        states = np.stack([rng.uniform(-2, 2, 150), rng.uniform(-0.9, 0.9, 150)])
        sites, lam = gf.sites.from_samples(lstm(), LSTM_PARAMS, states, eta), 0.1 + 0.1j
    exact = resolvent(sites, lam)
    assert exact.inside
    errors = []
    for eps in (1e-5, 1e-6):
        literal = resolvent(sites, lam, eps=eps)
        assert literal.status is Status.SUCCESS and literal.eps == eps
        errors.append(abs(literal.g - exact.g))
    # g(eps) - g(0) = O(eps): a tenfold smaller eps gives a tenfold smaller
    # difference (window [5, 20] for the slope), and small in absolute terms.
    assert errors[1] <= 1e-3 * abs(exact.g)
    assert errors[1] < 1e-12 or 5.0 <= errors[0] / errors[1] <= 20.0
    # u, w are fixed only up to (c u, w / c): the products u_a w_b are not.
    literal = resolvent(sites, lam, eps=1e-7)
    np.testing.assert_allclose(
        np.outer(literal.u, literal.w),
        np.outer(exact.u, exact.w),
        rtol=0,
        atol=1e-3 * np.max(np.abs(np.outer(exact.u, exact.w))),
    )


# -- outside the support: an exact identity -----------------------------------------------------


def test_outside_the_support_g_is_the_mean_resolvent_of_A(gru_setup, lstm_setup):
    for setup, lams in (
        (gru_setup, [1.2 + 0.3j, -0.4 + 0.1j, 0.5 + 0.6j]),
        (lstm_setup, [0.5 + 0.3j, -0.5 - 0.2j, 1.3 + 0.1j]),
    ):
        sites = setup[-1]
        grid = resolvent_grid(sites, np.array(lams)[None])
        assert not grid.inside.any()
        for lam, value in zip(lams, grid.g[0]):
            # Outside, u = w = 0 exactly and g = E[tr (lam - A)^(-1)]: the same
            # average with numpy's inverse (EXACT_RTOL).
            np.testing.assert_allclose(value, _direct_outside(sites, lam), rtol=EXACT_RTOL, atol=0)


# -- GRU and LSTM: consistency of the routes --------------------------------------------------------


def test_gru_density_implicit_against_differences(gru_setup):
    sites = gru_setup[-1]
    lams = np.array([0.5 + 0.25j, 0.3 + 0.1j, 0.75 - 0.15j])
    implicit = density(sites, lams)
    assert np.all(implicit > 0)
    np.testing.assert_allclose(
        density(sites, lams, method="difference", h=1e-4), implicit, rtol=DIFFERENCE_RTOL, atol=0
    )


def test_gru_count_is_the_integral_of_the_density(gru_setup):
    # Green's theorem: the contour integral of g over a circle equals the
    # area integral of rho = (1/pi) dg/d conj(lam); the area integral by a
    # polar Gauss-Legendre x trapezoid rule (the integrand is smooth inside
    # the bulk: 8 x 16 nodes are off by 4e-9, 12 x 24 by 5e-13).
    sites = gru_setup[-1]
    center, radius = 0.5 + 0.25j, 0.1
    x, w = np.polynomial.legendre.leggauss(8)
    r = 0.5 * radius * (x + 1)
    theta = 2 * np.pi * np.arange(16) / 16
    lams = center + r[:, None] * np.exp(1j * theta[None, :])
    rho = density(sites, lams)
    area = np.sum(0.5 * radius * w[:, None] * r[:, None] * rho) * 2 * np.pi / 16
    np.testing.assert_allclose(share_inside(sites, center, radius, points=64), area, rtol=1e-6, atol=0)


def test_gru_total_count_fixed_point_and_plugin(gru_setup):
    cell, _, _, _, sites = gru_setup
    # A circle around the whole spectrum (support radius 0.89 around 0.5):
    # all eigenvalues, by both routes (a 300-unit network for the plug-in).
    # On it g = E[tr (lam - A)^(-1)] is analytic with poles in (0, 1), so the
    # 64-point trapezoid rule is exact to rounding (error ~ (0.5 / 1.5)^64).
    np.testing.assert_allclose(share_inside(sites, 0.5, 1.5, points=64), 1.0, rtol=CLOSED_FORM_RTOL, atol=0)
    net = simulate.make_network(cell, 300, 7, GRU_PARAMS)
    fp = simulate.find_fixed_point(net, simulate.initial_state(net, 8, 0.5))
    assert fp.converged
    plug = gf.sites.from_samples(cell, GRU_PARAMS, fp.state, fp.nodes)
    assert plug.route == "plug-in" and plug.pencils.n == 300
    np.testing.assert_allclose(share_inside(plug, 0.5, 1.5, points=64), 1.0, rtol=CLOSED_FORM_RTOL, atol=0)


def test_lstm_total_count_is_one(lstm_setup):
    # m = 2 states per unit: the count is normalized by m; the bulk around 0
    # holds the half of the spectrum the h-components bring (sites' A has an
    # eigenvalue 0), the rest sits near the forget gate's values (0.9-1).
    sites = lstm_setup[-1]
    assert sites.m == 2 and sites.pencils.m == 2
    np.testing.assert_allclose(share_inside(sites, 0.5, 1.5, points=64), 1.0, rtol=CLOSED_FORM_RTOL, atol=0)


def test_gru_grid_smoke(gru_setup):
    # A 20 x 20 grid over the spectrum: every point converges, warm starts
    # give the cold single-point answers, the inside flags agree with the
    # support of docs/theory/4-support.md (computed from moments) away from the
    # real axis and the edge, and g is continuous across the edge.
    sites = gru_setup[-1]
    x = np.linspace(-0.1, 1.0, 20)
    y = np.linspace(-0.45, 0.45, 20)
    lams = x[None, :] + 1j * y[:, None]
    grid = resolvent_grid(sites, lams)
    g = grid.g
    assert g.shape == lams.shape and np.all(np.isfinite(g))
    assert grid.converged.all() and grid.route == "fixed-point"
    assert 50 < grid.inside.sum() < 350
    for i, j in [(3, 4), (10, 10), (15, 7), (9, 2), (12, 17)]:
        cold = resolvent(sites, lams[i, j])
        assert cold.inside == grid.inside[i, j]
        np.testing.assert_allclose(g[i, j], cold.g, rtol=WARM_COLD_RTOL, atol=0)
    # The same distribution's moment view (the graded quadrature of section 4).
    rho = support_rho(sites, lams, bulk=True)
    clear = (np.abs(lams.imag) > 0.05) & (np.abs(rho - 1) > 0.05)
    np.testing.assert_array_equal(grid.inside[clear], rho[clear] > 1)
    # Across the edge: just inside and just outside along a vertical line.
    lo, hi = 0.5 + 0.2j, 0.5 + 0.5j
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if resolvent(sites, mid).inside else (lo, mid)
    assert abs(hi - lo) < 1e-12
    g_in, g_out = resolvent(sites, lo), resolvent(sites, hi)
    assert g_in.inside and not g_out.inside
    assert abs(g_in.g - g_out.g) < 1e-6


#: The K = 2 closed forms against the general 2 x 2 matrix products: the same
#: rational functions evaluated in a different order (observed 3e-15).
PAIR_RTOL = 1e-12


def test_pair_closed_forms_match_the_matrix_forms(gru_setup):
    # The GRU has two active nodes, so Newton's method and the density use the
    # closed forms; at arbitrary (a, b) > 0 (not only at solutions) Phi, its
    # Jacobian, g and every derivative the density needs agree with the
    # general K x K route.
    problem = Equations(gru_setup[-1].pencils)
    assert problem.K == 2
    prep = problem.extend(problem.prepare(np.array([0.5 + 0.25j, 0.3 + 0.1j, 0.7 - 0.2j])), derivative=True)
    x = np.random.default_rng(3).uniform(0.1, 2.0, (3, 4))
    phi, pair = problem.evaluate(prep, x)
    phi_general, general = problem.evaluate(prep, x, general=True)
    assert isinstance(pair, PairEvaluation) and isinstance(general, Evaluation)
    np.testing.assert_allclose(phi, phi_general, rtol=PAIR_RTOL, atol=0)
    np.testing.assert_allclose(problem.jacobian(pair), problem.jacobian(general), rtol=PAIR_RTOL, atol=0)
    np.testing.assert_allclose(
        problem.resolvent_value(prep, pair), problem.resolvent_value(prep, general), rtol=PAIR_RTOL, atol=0
    )
    d_pair, d_general = problem.derivatives(prep, pair), problem.derivatives(prep, general)
    for key in ("g", "dg", "grad", "dphi"):
        exact = getattr(d_general, key)
        np.testing.assert_allclose(getattr(d_pair, key), exact, rtol=PAIR_RTOL, atol=PAIR_RTOL * np.max(np.abs(exact)))


# -- API ------------------------------------------------------------------------------------------


def test_resolvent_warm_start_and_result_fields(gru_setup):
    sites = gru_setup[-1]
    first = resolvent(sites, 0.5 + 0.25j)
    assert first.status is Status.SUCCESS and first.residual <= 1e-12 and first.eps == 0.0
    assert first.u.shape == (3,) and first.w.shape == (3,)
    # u = -i a, w = -i b with a, b >= 0; the update gate is inert (B_z = 0
    # at the fixed point), so w_z = 0.
    assert np.all(first.u.real == 0) and np.all(first.u.imag <= 0) and np.all(first.w.imag <= 0)
    assert first.w[0] == 0
    warm = resolvent(sites, 0.5 + 0.26j, start=first)
    cold = resolvent(sites, 0.5 + 0.26j)
    assert warm.iterations <= cold.iterations
    np.testing.assert_allclose(warm.g, cold.g, rtol=WARM_COLD_RTOL, atol=0)


def test_split_rule_integrates_polynomials_and_steps():
    # Gauss rules on each side of a switch: exact for polynomials of degree
    # < 2 * points on each segment, hence for the Gaussian moments, and for
    # a step at the switch (sign(x - c) has mean 1 - 2 Phi(c)).
    from scipy.special import ndtr

    q, c = 0.5, 0.7
    rule = split_hermite_rule(q, [c], 8)
    x, w = rule.points, rule.weights
    assert len(x) == 16
    np.testing.assert_allclose([w @ x**2, w @ x**4, w @ x**6], [q, 3 * q**2, 15 * q**3], rtol=1e-12)
    np.testing.assert_allclose(w @ np.sign(x / np.sqrt(q) - c), 1 - 2 * ndtr(c), rtol=1e-12)
    x0 = split_hermite_rule(q, [], 10).points
    xh, wh = np.polynomial.hermite_e.hermegauss(10)
    np.testing.assert_allclose(x0, np.sqrt(q) * xh, rtol=1e-14)


def test_errors():
    sites = single_site(ginibre_cell(), {"g": 1.0})
    # Bad arguments are GatefieldErrors naming the argument.
    with pytest.raises(GatefieldError, match="the radius must be a finite positive number"):
        share_inside(sites, 0.0, -1.0)
    with pytest.raises(GatefieldError, match="r_in < r_out"):
        share_in_annulus(sites, 0.0, 0.5, 0.2)
    with pytest.raises(GatefieldError, match="the density method must be one of"):
        density(sites, 0.1, method="spline")
    with pytest.raises(GatefieldError, match="lam must be a finite complex number"):
        resolvent(sites, complex("nan"))
    # A lam on a site's eigenvalue: the solve itself fails.
    with pytest.raises(SolverError, match="eigenvalue of a site"):
        density(single_site(product_cell(2)), 0.0)
    p = sites.pencils
    with pytest.raises(GatefieldError, match="weights must be non-empty and sum to 1"):
        PencilView(np.array([0.5]), p.A, p.B, p.C, p.E)
    with pytest.raises(GatefieldError, match="states of shape"):
        gf.sites.from_samples(gru(), None, np.zeros((1, 5)), np.zeros((2, 5)))
    # Non-convergence is reported, or returned when asked not to raise.
    sites = _small_gru_plugin()
    with pytest.raises(SolverError):
        resolvent(sites, 0.5 + 0.25j, max_iter=1)
    result = resolvent(sites, 0.5 + 0.25j, max_iter=1, throw=False)
    assert result.status is Status.MAX_ITERATIONS


# -- finite N (slow) ------------------------------------------------------------------------------

#: Networks for the finite-N comparison: sizes and coupling seeds.
GRU_N = 2000
LSTM_N = 1500
SEEDS = (0, 1, 2)


def _simulate(cell, params, N):
    """Eigenvalues of the Jacobian at a relaxed fixed point, per seed, and
    the plug-in sites of each network."""
    eigenvalues, plugins = [], []
    for seed in SEEDS:
        net = simulate.make_network(cell, N, seed, params)
        fp = simulate.find_fixed_point(net, simulate.initial_state(net, 100 + seed, 0.5))
        assert fp.converged
        eigenvalues.append(np.linalg.eigvals(simulate.jacobian(net, fp.state)))
        plugins.append(gf.sites.from_samples(cell, params, fp.state, fp.nodes))
    return eigenvalues, plugins


def _region_fraction(ev, region):
    kind, center, *radii = region
    if kind == "discs":  # a disc and its mirror image, pooled
        r = radii[0]
        return np.mean((np.abs(ev - center) < r) | (np.abs(ev - np.conj(center)) < r))
    r_in, r_out = radii
    return np.mean((np.abs(ev - center) >= r_in) & (np.abs(ev - center) < r_out))


def _region_theory(sites, region, points):
    kind, center, *radii = region
    if kind == "discs":
        return share_inside(sites, center, radii[0], points=points) + share_inside(
            sites, np.conj(center), radii[0], points=points
        )
    return share_in_annulus(sites, center, radii[0], radii[1], points=points)


def _compare(eigenvalues, plugins, sites, regions, points):
    n_eig = sum(len(ev) for ev in eigenvalues)
    for region in regions:
        observed = np.mean([_region_fraction(ev, region) for ev in eigenvalues])
        # Binomial standard error over all N m eigenvalues of the seeds: an
        # upper bound on the sampling error (eigenvalues repel, so counts
        # fluctuate less than independent draws; the seed-to-seed scatter is
        # 2-8 times smaller) that also has the 1/sqrt(N) scale of the
        # finite-size corrections (docs/theory/8-numerics.md#finite-n-tolerances).
        se = np.sqrt(observed * (1 - observed) / n_eig)
        theory = _region_theory(sites, region, points)
        assert abs(theory - observed) <= SIM_SIGMAS * se, (region, "fixed-point", theory, observed, se)
        plugin = np.mean([_region_theory(p, region, points) for p in plugins])
        assert abs(plugin - observed) <= SIM_SIGMAS * se, (region, "plug-in", plugin, observed, se)


@pytest.mark.slow
@pytest.mark.long
def test_gru_counts_match_finite_n(gru_setup):
    cell, _, _, _, sites = gru_setup
    eigenvalues, plugins = _simulate(cell, GRU_PARAMS, GRU_N)
    center = _center(sites)  # 0.5: beta_z = 0 makes E[1 - z] = 1/2
    regions = [("discs", 0.5 + 0.25j, 0.1), ("discs", 0.25 + 0.15j, 0.08), ("annulus", center, 0.15, 0.3)]
    _compare(eigenvalues, plugins, sites, regions, points=128)


@pytest.mark.slow
@pytest.mark.long
def test_lstm_counts_match_finite_n(lstm_setup):
    cell, _, _, _, sites = lstm_setup
    eigenvalues, plugins = _simulate(cell, LSTM_PARAMS, LSTM_N)
    # The bulk is a disc of radius 0.23 around 0; the slow modes sit near 0.9-1.
    regions = [("discs", 0.1 + 0.1j, 0.06), ("annulus", 0.0, 0.05, 0.15), ("annulus", 0.0, 0.15, 0.5)]
    _compare(eigenvalues, plugins, sites, regions, points=64)
