"""Direct tests of :mod:`gatefield.numerics.codegen`, the symbolic-to-numeric boundary.

Every generated number is held against an independent reference: plain numpy
written here (the built-in cells' update rules by hand, numerically stable
forms of sigmoid and softplus), central finite differences, scipy ``quad``
(through ``helpers.gauss_expect``) or a dense Gauss-Hermite grid. Nothing
here calls the generated code to produce its own reference.
"""

from __future__ import annotations

import ast
import inspect
import warnings

import numpy as np
import pytest
import sympy
from helpers import EXACT_RTOL, gauss_expect, sym
from numpy.polynomial.hermite_e import hermegauss

from gatefield.cells import gru, lstm, vanilla
from gatefield.errors import GatefieldError
from gatefield.numerics.codegen import GeneratedFunction, compile_cell, generate
from gatefield.theory.derive import fixed_point
from gatefield.theory.functions import FUNCTIONS, relu, sigmoid, softplus

# -- tolerances ---------------------------------------------------------------------

#: Absolute floor next to EXACT_RTOL where a result is a difference of O(1)
#: terms that may cancel to ~0 (e.g. ``(1 - z) h + z h_tilde`` near 0): the
#: rounding left is a few ulps of 1 (2.2e-16 each), so 1e-14 allows ~45 ulps.
ROUND_ATOL = 1e-14

#: Central-difference step for the pencil checks.
FD_STEP = 1e-5

#: Central differences err by ``step^2 |f'''| / 6`` (truncation) plus about
#: ``ulp(f) / step`` (rounding). The largest gain used below is 2.1, so
#: ``|f'''| <= 2 * 2.1^3 ~ 20`` and truncation is <= 1e-10 * 20 / 6 = 3e-10;
#: rounding is 2.2e-16 / 1e-5 = 2e-11. 1e-8 (relative and absolute, the
#: entries are O(1) or exactly 0) leaves a factor ~30 above the sum; the
#: errors observed for the GRU and LSTM are ~1e-11.
FD_RTOL = 1e-8
FD_ATOL = 1e-8

#: Dense 40-node-per-dimension Gauss-Hermite rule against scipy ``quad``: for
#: the smooth integrands below (sigmoid gain 1.3 * sqrt(0.8), tanh gain
#: 0.8 * sqrt(0.5), chosen so the nearest complex poles are far from the real
#: axis) the 1-D rules were measured at 5e-12 (sigmoid^2) and 1e-11 (tanh^2)
#: relative error, and the 2-D product below at 1.5e-11; 1e-10 leaves a
#: factor ~7. (With the default
#: gain g_h = 3 a 40-node rule is only good to 1e-2: the poles of tanh sit
#: 0.5 from the real axis, which is why gatefield's quadrature uses panels.)
GH_RTOL = 1e-10
GH_NODES = 40

#: ``sigma'(x) = sigma (1 - sigma)`` as SymPy differentiates it: ``1 - sigma``
#: is formed in double precision, so for large positive x its absolute error
#: is one ulp of 1 (1.1e-16) and the tiny true value (e^-x) is lost; two ulps
#: of 1 is the honest absolute bound.
SIGMOID_DERIVATIVE_ATOL = 2.2e-16


# -- independent numpy references ----------------------------------------------------


def _sigma(x):
    """Logistic function in the stable split form (not scipy's expit)."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    """``log(1 + e^x) = max(x, 0) + log1p(e^-|x|)`` (not np.logaddexp)."""
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _gru_rule(s, n, p):
    """GRU, reset before the product: updates ``[h']`` and node arguments ``[v_z, v_r, v_h]``."""
    h = s["h"]
    z = _sigma(p["alpha_z"] * n["eta_z"] + p["beta_z"])
    r = _sigma(p["alpha_r"] * n["eta_r"] + p["beta_r"])
    h_tilde = np.tanh(p["g_h"] * n["eta_h"] + p["beta_h"])
    return [(1 - z) * h + z * h_tilde], [h, h, r * h]


def _lstm_rule(s, n, p):
    """LSTM: updates ``[c', h']`` and node arguments ``[v_f, v_i, v_o, v_g]`` (all h)."""
    c, h = s["c"], s["h"]
    f = _sigma(p["alpha_f"] * n["eta_f"] + p["beta_f"])
    i = _sigma(p["alpha_i"] * n["eta_i"] + p["beta_i"])
    o = _sigma(p["alpha_o"] * n["eta_o"] + p["beta_o"])
    g = np.tanh(p["g_g"] * n["eta_g"] + p["beta_g"])
    c_new = f * c + i * g
    return [c_new, o * np.tanh(c_new)], [h, h, h, h]


def _vanilla_rule(s, n, p):
    """Vanilla map: ``[h'] = [tanh(g eta + beta)]``, argument ``[h]``."""
    return [np.tanh(p["g"] * n["eta"] + p["beta"])], [s["h"]]


def _gru_fixed(n, p):
    return {"h": np.tanh(p["g_h"] * n["eta_h"] + p["beta_h"])}


def _lstm_fixed(n, p):
    f = _sigma(p["alpha_f"] * n["eta_f"] + p["beta_f"])
    i = _sigma(p["alpha_i"] * n["eta_i"] + p["beta_i"])
    o = _sigma(p["alpha_o"] * n["eta_o"] + p["beta_o"])
    g = np.tanh(p["g_g"] * n["eta_g"] + p["beta_g"])
    c = i * g / (1 - f)
    return {"c": c, "h": o * np.tanh(c)}


def _vanilla_fixed(n, p):
    return {"h": np.tanh(p["g"] * n["eta"] + p["beta"])}


# Parameter values all different from each other and from the defaults (many
# of which are 1 and 0), so that a parameter bound to the wrong name shows.
GRU_PARAMS = {"alpha_z": 1.3, "beta_z": -0.4, "alpha_r": 0.7, "beta_r": 0.25, "g_h": 2.1, "beta_h": 0.15}
LSTM_PARAMS = {
    "alpha_f": 1.1,
    "beta_f": 0.6,
    "alpha_i": 0.8,
    "beta_i": -0.3,
    "alpha_o": 1.4,
    "beta_o": 0.2,
    "g_g": 1.9,
    "beta_g": -0.1,
}
VANILLA_PARAMS = {"g": 1.7, "beta": 0.3}

#: name -> (factory, update rule, fixed point, parameters, states, nodes), in
#: the order the cell declares them.
CELLS = {
    "gru": (gru, _gru_rule, _gru_fixed, GRU_PARAMS, ("h",), ("eta_z", "eta_r", "eta_h")),
    "lstm": (lstm, _lstm_rule, _lstm_fixed, LSTM_PARAMS, ("c", "h"), ("eta_f", "eta_i", "eta_o", "eta_g")),
    "vanilla": (vanilla, _vanilla_rule, _vanilla_fixed, VANILLA_PARAMS, ("h",), ("eta",)),
}

#: Points per random draw.
N_POINTS = 24


def _random_point(states, nodes, seed):
    """States uniform in (-1, 1) (the range of tanh-bounded states) and nodes
    standard normal, ``N_POINTS`` of each."""
    rng = np.random.default_rng(seed)
    s = {name: rng.uniform(-1.0, 1.0, N_POINTS) for name in states}
    n = {name: rng.standard_normal(N_POINTS) for name in nodes}
    return s, n


# -- generate: binding, broadcasting, overflow ---------------------------------------


def test_generate_binds_arguments_by_name_in_any_order():
    x, y = sym("x"), sym("y")
    exprs = [x - 2 * y, x * y**2]
    forward = generate("forward", exprs, [x, y])
    backward = generate("backward", exprs, [y, x])
    # x - 2y and x y^2 at x = 1.5, y = 3 by hand; the mapping's order and the
    # declared argument order must not matter, and extra names (even ones that
    # are not numbers) are ignored.
    expected = [1.5 - 6.0, 1.5 * 9.0]
    mappings = [
        {"x": 1.5, "y": 3.0},
        {"y": 3.0, "x": 1.5},
        {"unused": "not a number", "y": 3.0, "w": 7.0, "x": 1.5},
    ]
    for fn in (forward, backward):
        for values in mappings:
            out = fn(values)
            assert len(out) == 2
            # Exact inputs and two or three roundings: EXACT_RTOL.
            np.testing.assert_allclose(out, expected, rtol=EXACT_RTOL, atol=0.0)


def test_generate_missing_argument_is_named_in_the_error():
    x, gain, offset_b = sym("x"), sym("gain"), sym("offset_b")
    fn = generate("affine_map", [gain * x + offset_b], [x, gain, offset_b])
    with pytest.raises(GatefieldError) as info:
        fn({"x": 1.0, "gain": 2.0, "unrelated": 3.0})
    message = str(info.value)
    assert "affine_map" in message  # which function
    assert "offset_b" in message  # which argument is missing
    assert "x, gain, offset_b" in message  # the arguments, in order


def test_generate_and_compile_refuse_what_is_not_theirs_with_one_sentence():
    x = sym("x")
    fn = generate("square", [x**2], [x])
    with pytest.raises(GatefieldError, match="square takes numbers"):
        fn({"x": "three"})
    with pytest.raises(GatefieldError, match="needs a Cell"):
        compile_cell("vanilla")
    # text is refused, never parsed: parsing a string would evaluate it
    with pytest.raises(GatefieldError, match="not text"):
        generate("text", ['__import__("os").remove("x")'], [x])


def test_compiled_cells_are_cached_per_cell_and_can_be_cleared():
    # benchmarks/bench_meanfield.py times a cold start by clearing these caches.
    assert compile_cell(vanilla()) is compile_cell(vanilla())
    compile_cell.cache_clear()
    fixed_point.cache_clear()


def test_outputs_broadcast_to_a_common_float_shape():
    eta, g, b = sym("eta"), sym("g"), sym("b")
    fn = generate("broadcast", [g * eta + b, g**2, sympy.Integer(3)], [eta, g, b])
    eta_v = np.arange(2).reshape(2, 1)  # integers on purpose: outputs must be float
    b_v = np.array([1, 2, 3])
    out = fn({"eta": eta_v, "g": 2, "b": b_v})
    # Expected by hand: 2 eta + b on the (2, 3) grid, then the constants 4 and 3.
    expected = [2.0 * eta_v + b_v, np.full((2, 3), 4.0), np.full((2, 3), 3.0)]
    for o, e in zip(out, expected):
        assert o.shape == (2, 3)
        assert o.dtype == np.float64
        # Small integers in, exact float arithmetic: EXACT_RTOL is generous.
        np.testing.assert_allclose(o, e, rtol=EXACT_RTOL, atol=0.0)


def test_overflow_gives_inf_not_an_exception_or_warning():
    x, y = sym("x"), sym("y")
    fn = generate("overflow", [sympy.exp(x), x**y, -sympy.exp(x)], [x, y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Python floats would raise OverflowError for 1000.0 ** 400.0; the
        # wrapper must turn them into numpy values first.
        out = fn({"x": 1000.0, "y": 400.0})
    # e^1000 and 1000^400 exceed the largest double (1.8e308): exact +-inf.
    assert np.isposinf(out[0]) and np.isposinf(out[1]) and np.isneginf(out[2])


# -- generated docstrings ---------------------------------------------------------


def test_docstring_lists_name_arguments_in_order_and_every_expression():
    x, gain, offset_b = sym("x"), sym("gain"), sym("offset_b")
    exprs = [gain * x + offset_b, sympy.tanh(x) * gain, sigmoid(offset_b)]
    fn = generate("affine_map", exprs, [offset_b, x, gain])
    doc = fn.__doc__
    assert isinstance(doc, str)
    assert "affine_map(offset_b, x, gain)" in doc  # name and arguments in declared order
    positions = [doc.find(str(e)) for e in exprs]
    assert all(p >= 0 for p in positions), f"expressions missing from:\n{doc}"
    assert positions == sorted(positions), "expressions are not listed in output order"


def test_generated_function_class_has_a_docstring():
    assert isinstance(GeneratedFunction.__doc__, str)
    assert "numpy function" in GeneratedFunction.__doc__


# -- common subexpressions ---------------------------------------------------------


def test_common_subexpression_is_computed_once_over_all_outputs():
    x, y = sym("x"), sym("y")
    heavy = sympy.tanh(x * y + sympy.sin(x))
    exprs = [heavy**2 + 1, 3 * heavy, x * heavy]
    fn = generate("shared", exprs, [x, y])
    source = inspect.getsource(fn.function)
    # Without CSE each output would print its own tanh and sin (checked on a
    # plain lambdify, so the count is known to be able to fail).
    plain = inspect.getsource(sympy.lambdify([x, y], exprs, modules="numpy", cse=False))
    assert plain.count("tanh(") == 3
    assert source.count("tanh(") == 1, source
    assert source.count("sin(") == 1, source
    xv, yv = np.linspace(-2, 2, 9), np.linspace(1, -1, 9)
    t = np.tanh(xv * yv + np.sin(xv))
    for o, e in zip(fn({"x": xv, "y": yv}), [t**2 + 1, 3 * t, xv * t]):
        # Same elementary functions, different grouping: EXACT_RTOL.
        np.testing.assert_allclose(o, e, rtol=EXACT_RTOL, atol=ROUND_ATOL)


# -- numpy versions of the package's functions --------------------------------------

#: Down to -700 and up to 1000: beyond |x| ~ 709 e^|x| overflows, which a naive
#: 1 / (1 + e^-x) would hit at x = -1000. (-745 and below underflow e^x to
#: denormals; -700 keeps the reference comparisons in normal numbers.)
_SPECIAL_X = np.concatenate(
    [[-1000.0, -700.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 700.0, 1000.0], np.linspace(-12.0, 12.0, 49)]
)


def test_sigmoid_softplus_relu_match_stable_references_without_overflow():
    x = sym("x")
    fn = generate("special", [sigmoid(x), softplus(x), relu(x)], [x])
    # The raw generated function, outside the wrapper's errstate, must not
    # overflow or produce invalid values itself (underflow to 0 is correct).
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        raw = fn.function(_SPECIAL_X)
    wrapped = fn({"x": _SPECIAL_X})
    expected = [_sigma(_SPECIAL_X), _softplus(_SPECIAL_X), np.where(_SPECIAL_X > 0, _SPECIAL_X, 0.0)]
    for got in (raw, wrapped):
        for o, e in zip(got, expected):
            # Stable forms of the same functions, a few roundings apart; atol 0
            # so that the limits (sigma(-1000) = 0, softplus(-1000) = 0) are exact.
            np.testing.assert_allclose(o, e, rtol=EXACT_RTOL, atol=0.0)
    sig, sp, rl = (np.asarray(o) for o in wrapped)
    lo, hi = 0, 8  # the entries x = -1000 and x = 1000
    assert _SPECIAL_X[lo] == -1000.0 and _SPECIAL_X[hi] == 1000.0
    # Limits, exact: sigma -> 0, 1; softplus(x) -> x for x >> 0; relu(-x) = 0.
    assert sig[lo] == 0.0 and sig[hi] == 1.0
    assert sp[hi] == 1000.0 and sp[lo] == 0.0 and rl[lo] == 0.0


def test_a_gate_complement_keeps_its_digits_where_the_gate_rounds_to_one():
    """``1 - sigmoid(u)`` is generated as ``sigmoid(-u)``: a memory fixed point
    ``m = i c / (1 - f)`` is ``0 / 0`` in floats where ``f`` rounds to 1 (u >
    37) and the relu candidate ``c`` is 0 (random cells 4 and 33's NaN)."""
    u, c = sym("u"), sym("c")
    fn = generate("memory", [c / (1 - sigmoid(u)), 1 - sigmoid(u), sigmoid(u) - 1 + c], [u, c])
    x = np.array([-30.0, 0.0, 10.0, 40.0, 300.0])
    memory, complement, shifted = fn({"u": x, "c": 0.5})
    # reference: 1 - sigma(x) = sigma(-x) = 1 / (1 + e^x), exact in numpy for these x
    exact = 1.0 / (1.0 + np.exp(x))
    np.testing.assert_allclose(complement, exact, rtol=EXACT_RTOL, atol=0.0)
    np.testing.assert_allclose(memory, 0.5 / exact, rtol=EXACT_RTOL, atol=0.0)
    np.testing.assert_allclose(shifted, 0.5 - exact, rtol=EXACT_RTOL, atol=0.0)
    # the case the rewrite exists for: finite where the naive form is 0 / 0
    assert fn({"u": 300.0, "c": 0.0})[0] == 0.0
    with np.errstate(invalid="ignore"):
        naive = np.float64(0.0) / (1.0 - _sigma(np.float64(300.0)))
    assert np.isnan(naive)  # so the check above can fail


def test_derivatives_of_sigmoid_softplus_relu_in_generated_code():
    x = sym("x")
    fn = generate("special_derivatives", [sigmoid(x).diff(x), softplus(x).diff(x), relu(x).diff(x)], [x])
    d_sigma, d_softplus, d_relu = fn({"x": _SPECIAL_X})
    e = np.exp(-np.abs(_SPECIAL_X))
    # sigma' = e^-|x| / (1 + e^-|x|)^2 (symmetric, stable); see SIGMOID_DERIVATIVE_ATOL.
    np.testing.assert_allclose(d_sigma, e / (1.0 + e) ** 2, rtol=EXACT_RTOL, atol=SIGMOID_DERIVATIVE_ATOL)
    # softplus' = sigma, computed the same way as sigma itself.
    np.testing.assert_allclose(d_softplus, _sigma(_SPECIAL_X), rtol=EXACT_RTOL, atol=0.0)
    # relu' is the Heaviside step taken as 1/2 at 0 (functions.relu.fdiff): exact.
    step = np.where(_SPECIAL_X > 0, 1.0, np.where(_SPECIAL_X < 0, 0.0, 0.5))
    np.testing.assert_array_equal(d_relu, step)


def _called_names(fn):
    """Names the generated source calls (``f(...)`` with ``f`` a plain name)."""
    tree = ast.parse(inspect.getsource(fn.function))
    return {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


def test_argument_names_cannot_shadow_functions_the_generated_code_calls():
    x = sym("x")
    probe = generate("probe", [relu(x).diff(x)], [x])
    # Names a cell may legally declare (not reserved by the spec layer) that
    # the printed code nevertheless calls.
    shadowable = sorted(n for n in _called_names(probe) if n not in FUNCTIONS and n != "x")
    if not shadowable:
        pytest.skip("this SymPy prints relu' with reserved names only")
    name = shadowable[0]
    other = sym(name)
    fn = generate("shadowed", [relu(x).diff(x) * other], [x, other])
    # relu'(0.5) * 2 = 2 by hand; exact.
    assert float(fn({"x": 0.5, name: 2.0})[0]) == 2.0


# -- compile_cell: update, arguments, pencil, fixed point ------------------------


@pytest.mark.parametrize("name", sorted(CELLS))
def test_compiled_update_and_arguments_match_hand_written_rule(name):
    factory, rule, _, params, states, nodes = CELLS[name]
    cc = compile_cell(factory())
    assert cc.states == states and cc.nodes == nodes
    assert set(cc.parameters) == set(params)
    s, n = _random_point(states, nodes, seed=11)
    values = {**s, **n, **params}
    F_ref, v_ref = rule(s, n, params)
    for got, ref in ((cc.update(values), F_ref), (cc.arguments(values), v_ref)):
        assert len(got) == len(ref)
        for o, e in zip(got, ref):
            assert o.shape == (N_POINTS,)
            # Same formula, different operation order: EXACT_RTOL, with ROUND_ATOL
            # for sums of O(1) terms that cancel near 0.
            np.testing.assert_allclose(o, e, rtol=EXACT_RTOL, atol=ROUND_ATOL)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_pencil_matches_central_differences_of_hand_written_rule(name):
    factory, rule, _, params, states, nodes = CELLS[name]
    cc = compile_cell(factory())
    m, K = len(states), len(nodes)
    s, n = _random_point(states, nodes, seed=12)
    out = np.array(cc.pencil({**s, **n, **params}))
    assert out.shape == (m * m + m * K + K * m + K * K, N_POINTS)
    A = out[: m * m].reshape(m, m, -1)
    B = out[m * m : m * m + m * K].reshape(m, K, -1)
    C = out[m * m + m * K : m * m + 2 * m * K].reshape(K, m, -1)
    E = out[m * m + 2 * m * K :].reshape(K, K, -1)

    def shifted(which, key, step):
        s2, n2 = dict(s), dict(n)
        (s2 if which == "s" else n2)[key] = (s if which == "s" else n)[key] + step
        F, v = rule(s2, n2, params)
        return np.array(F), np.array(v)

    for j, key in enumerate(states):
        (Fp, vp), (Fm, vm) = shifted("s", key, FD_STEP), shifted("s", key, -FD_STEP)
        np.testing.assert_allclose(A[:, j], (Fp - Fm) / (2 * FD_STEP), rtol=FD_RTOL, atol=FD_ATOL)
        np.testing.assert_allclose(C[:, j], (vp - vm) / (2 * FD_STEP), rtol=FD_RTOL, atol=FD_ATOL)
    for b, key in enumerate(nodes):
        (Fp, vp), (Fm, vm) = shifted("n", key, FD_STEP), shifted("n", key, -FD_STEP)
        np.testing.assert_allclose(B[:, b], (Fp - Fm) / (2 * FD_STEP), rtol=FD_RTOL, atol=FD_ATOL)
        np.testing.assert_allclose(E[:, b], (vp - vm) / (2 * FD_STEP), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_fixed_state_is_the_closed_form_fixed_point(name):
    factory, rule, fixed, params, states, nodes = CELLS[name]
    cc = compile_cell(factory())
    assert cc.solved_states == states and cc.numeric_states == ()
    # The states in the mapping are random: s* must not depend on them.
    s, n = _random_point(states, nodes, seed=13)
    values = {**s, **n, **params}
    star = dict(zip(cc.solved_states, cc.fixed_state(values)))
    ref = fixed(n, params)
    for key in states:
        # Closed forms evaluated in a different order: EXACT_RTOL (+ ROUND_ATOL near 0).
        np.testing.assert_allclose(star[key], ref[key], rtol=EXACT_RTOL, atol=ROUND_ATOL)
    # The hand-written update maps s* onto itself. LSTM c* = i g / (1 - f) can
    # reach ~50 here, and f c* + i g - c* cancels to rounding of |c*|, hence
    # the relative tolerance on s*.
    F, _ = rule(star, n, params)
    for key, F_key in zip(states, F):
        np.testing.assert_allclose(F_key, star[key], rtol=EXACT_RTOL, atol=ROUND_ATOL)
    # The generated residuals R = F(s*) - s* vanish to the same rounding.
    residuals = cc.residual({**star, **n, **params})[: len(states)]
    for key, R in zip(states, residuals):
        bound = EXACT_RTOL * np.abs(star[key]) + ROUND_ATOL
        assert np.all(np.abs(R) <= bound), f"residual of {key}: {np.max(np.abs(R))}"


# -- integrals and the moment plan ------------------------------------------------


def test_lstm_integrand_splits_into_separable_factor_groups():
    cc = compile_cell(lstm())
    params = LSTM_PARAMS
    # Every LSTM node reads h, so all four order parameters share E[h*^2].
    assert cc.integral_of == (0, 0, 0, 0) and len(cc.integrals) == 1
    groups = cc.integrals[0].groups
    # h*^2 = o^2 tanh(i g / (1 - f))^2: the output gate separates from the rest.
    assert {g for g, _ in groups} == {("eta_o",), ("eta_f", "eta_i", "eta_g")}
    _, n = _random_point((), cc.nodes, seed=14)
    product = np.ones(N_POINTS)
    for group_nodes, fn in groups:
        # A group needs its own nodes and the parameters, nothing else.
        assert set(fn.arguments) == set(group_nodes) | set(params)
        product = product * fn({**{k: n[k] for k in group_nodes}, **params})[0]
    h_star = _lstm_fixed(n, params)["h"]
    # Product of the factors against the hand-written integrand: EXACT_RTOL.
    np.testing.assert_allclose(product, h_star**2, rtol=EXACT_RTOL, atol=ROUND_ATOL)


def test_gru_dense_integral_equals_product_of_group_integrals():
    cc = compile_cell(gru())
    # Smooth parameters (see GH_RTOL) and two different variances.
    params = {"alpha_z": 1.1, "beta_z": 0.3, "alpha_r": 1.3, "beta_r": -0.4, "g_h": 0.8, "beta_h": 0.2}
    q = {"eta_r": 0.8, "eta_h": 0.5}
    # q_z and q_r both integrate h*^2 (their nodes read h), which needs eta_h only.
    assert cc.integral_of[0] == cc.integral_of[1]
    assert [g for g, _ in cc.integrals[cc.integral_of[0]].groups] == [("eta_h",)]
    # q_h integrates (r h*)^2: two 1-D factors.
    groups = cc.integrals[cc.integral_of[2]].groups
    assert {g for g, _ in groups} == {("eta_r",), ("eta_h",)}

    # Reference: the hand-written integrand on the full 40 x 40 tensor grid.
    x, w = hermegauss(GH_NODES)
    w = w / np.sqrt(2 * np.pi)  # hermegauss weights integrate against e^{-x^2/2}
    er, eh = np.meshgrid(np.sqrt(q["eta_r"]) * x, np.sqrt(q["eta_h"]) * x, indexing="ij")
    integrand = (
        _sigma(params["alpha_r"] * er + params["beta_r"]) * np.tanh(params["g_h"] * eh + params["beta_h"])
    ) ** 2
    dense = np.einsum("i,j,ij->", w, w, integrand)

    # Route under test: each group integrated on its own (scipy quad) and multiplied.
    separate = 1.0
    for (node,), fn in groups:
        separate *= gauss_expect(lambda e, fn=fn, node=node: float(fn({node: e, **params})[0]), q[node])
    np.testing.assert_allclose(separate, dense, rtol=GH_RTOL, atol=0.0)


def _gru_fixed_point_T(n, p):
    """Coefficients ``T_ab = (t_ab0, t_ab1)`` of ``T_ab(lam) = C_a B_b + E_ab D(lam)``
    for the GRU at its fixed point, derived by hand.

    Nodes (z, r, h); ``A = 1 - z``, ``D(lam) = lam - 1 + z``, the 1x1 adjugate
    is 1; ``C = (1, 1, r)``; ``B = (z'(h_tilde - h), 0, z g_h (1 - h_tilde^2))``
    with ``B_z = 0`` at ``h = h_tilde``; the only non-zero ``E`` is
    ``E_hr = h r'``. Hence ``T_ah = (C_a z g_h (1 - h*^2), 0)``,
    ``T_hr = (h* r' (z - 1), h* r')`` and all other ``T_ab = 0``.
    """
    z = _sigma(p["alpha_z"] * n["eta_z"] + p["beta_z"])
    r = _sigma(p["alpha_r"] * n["eta_r"] + p["beta_r"])
    hs = np.tanh(p["g_h"] * n["eta_h"] + p["beta_h"])
    r_prime = p["alpha_r"] * r * (1 - r)
    zero = np.zeros_like(z)
    b_h = z * p["g_h"] * (1 - hs**2)
    T = [[(zero, zero) for _ in range(3)] for _ in range(3)]
    for a, c_a in enumerate((1.0, 1.0, r)):
        T[a][2] = (c_a * b_h, zero)
    T[2][1] = (hs * r_prime * (z - 1), hs * r_prime)
    return T


def test_gru_moment_plan_reproduces_products_of_fixed_point_coefficients():
    cc = compile_cell(gru())
    plan = cc.moment_plan
    m, K = 1, 3
    _, n = _random_point((), cc.nodes, seed=15)
    values = {**n, **GRU_PARAMS}
    group_values = [fn(values)[0] for _, fn in plan.groups]
    T = _gru_fixed_point_T(n, GRU_PARAMS)
    for a in range(K):
        for b in range(K):
            entry = plan.entry_of[a * K + b]
            for p in range(m + 1):
                for pp in range(p, m + 1):
                    terms = plan.terms[plan.slots.index((entry, p, pp))]
                    got = np.zeros(N_POINTS)
                    for term in terms:
                        got = got + np.prod([group_values[g] * np.ones(N_POINTS) for g in term], axis=0)
                    # Products of the same factors, regrouped: EXACT_RTOL.
                    np.testing.assert_allclose(
                        got,
                        T[a][b][p] * T[a][b][pp],
                        rtol=EXACT_RTOL,
                        atol=ROUND_ATOL,
                        err_msg=f"T[{a}][{b}], p={p}, p'={pp}",
                    )
    # Every GRU factor depends on at most one node: the plan integrates in 1-D only.
    assert max(len(nodes) for nodes, _ in plan.groups) <= 1


# -- features -----------------------------------------------------------------------


def test_gru_features_give_each_gate_its_gain_and_bias():
    cell = gru()
    cc = compile_cell(cell)
    assert set(cc.features) == {"eta_z", "eta_r", "eta_h"}

    def pairs(node, params):
        return {tuple(float(v) for v in fn(params)) for fn in cc.features[node]}

    # Exact comparisons: slope and offset are the parameter symbols themselves,
    # so the generated code only copies the values.
    defaults = cell.defaults
    assert (defaults["alpha_z"], defaults["beta_z"]) in pairs("eta_z", defaults)
    # With distinct values, each node switches where its own gate does, and only there.
    p = GRU_PARAMS
    assert pairs("eta_z", p) == {(p["alpha_z"], p["beta_z"])}
    assert pairs("eta_r", p) == {(p["alpha_r"], p["beta_r"])}
    assert pairs("eta_h", p) == {(p["g_h"], p["beta_h"])}
