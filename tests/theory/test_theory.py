"""Exact symbolic tests of gatefield.theory (THEORY.md sections 2-4).

Each derived object is compared with a hand derivation: derived minus
expected must simplify to exactly zero (STYLE.md example 6).
"""

import math

import pytest
import sympy
from helpers import assert_sym_zero, implicit_cell, product_cell, sym

from gatefield.cells import cgru, gru, lstm, vanilla
from gatefield.errors import SpecError
from gatefield.theory import (
    LAM,
    CellBuilder,
    fixed_point,
    jacobian_pencil,
    mean_field_equations,
    sigmoid,
    support_matrix,
)

tanh = sympy.tanh


# -- vanilla --------------------------------------------------------------------------


def test_vanilla_fixed_point_and_integrand():
    g, beta, eta, h = sym("g"), sym("beta"), sym("eta"), sym("h")
    fp = fixed_point(vanilla())
    assert fp.closed_form and fp.numeric == ()
    assert [s for s, _ in fp.solution] == [h]
    assert_sym_zero(fp.solution[0][1] - tanh(g * eta + beta))
    mf = mean_field_equations(vanilla())
    assert mf.order_parameters == (sym("q"),)
    assert mf.nodes == (eta,)
    assert len(mf.integrands) == 1
    assert_sym_zero(mf.integrands[0] - tanh(g * eta + beta) ** 2)


def test_vanilla_pencil():
    g, beta, eta = sym("g"), sym("beta"), sym("eta")
    pen = jacobian_pencil(vanilla())
    assert pen.A.shape == (1, 1) and pen.B.shape == (1, 1)
    assert_sym_zero(pen.A - sympy.Matrix([[0]]))
    assert_sym_zero(pen.B - sympy.Matrix([[g * (1 - tanh(g * eta + beta) ** 2)]]))
    assert_sym_zero(pen.C - sympy.Matrix([[1]]))
    assert_sym_zero(pen.E - sympy.Matrix([[0]]))


def test_vanilla_support_matrix_at_zero_fixed_point():
    # At eta = 0, beta = 0: A = 0, B = g, C = 1, E = 0, so D(lam) = lam,
    # T(lam) = g and M(lam) = g^2 / |lam|^2.
    g, beta, eta = sym("g"), sym("beta"), sym("eta")
    sm = support_matrix(vanilla())
    at_zero = {eta: 0, beta: 0}
    assert sm.lam == LAM
    D = [sympy.sympify(d).xreplace(at_zero) for d in sm.D]
    T = [sympy.sympify(t).xreplace(at_zero) for t in sm.T[0][0]]
    assert len(D) == 2 and len(T) == 2
    assert_sym_zero(D[0] - 0)
    assert_sym_zero(D[1] - 1)
    assert_sym_zero(T[0] - g)
    assert_sym_zero(T[1] - 0)
    entry = sm.entry[0, 0].xreplace(at_zero)
    assert_sym_zero(entry - g / LAM)
    # |entry|^2 with lam = x + i y (x, y real), so that SymPy can take the modulus.
    x, y = sym("x"), sym("y")
    on_plane = entry.xreplace({LAM: x + sympy.I * y})
    M = on_plane * sympy.conjugate(on_plane)
    assert_sym_zero(M - g**2 / (x**2 + y**2))
    # The polynomial form and the entry agree: T / D == entry.
    assert_sym_zero((T[0] + T[1] * LAM) / (D[0] + D[1] * LAM) - entry)


# -- GRU --------------------------------------------------------------------------------


def _gru_symbols():
    names = ["alpha_z", "beta_z", "alpha_r", "beta_r", "g_h", "beta_h", "eta_z", "eta_r", "eta_h", "h"]
    return {n: sym(n) for n in names}


def test_gru_fixed_point_drops_update_gate():
    s = _gru_symbols()
    fp = fixed_point(gru())
    assert fp.numeric == ()
    ((state, value),) = fp.solution
    assert state == s["h"]
    assert_sym_zero(value - tanh(s["g_h"] * s["eta_h"] + s["beta_h"]))
    # The update gate only multiplies F - h: it drops out of the fixed point.
    assert not value.has(s["eta_z"])
    assert not value.has(s["alpha_z"]) and not value.has(s["beta_z"])


def test_gru_mean_field_integrands():
    s = _gru_symbols()
    mf = mean_field_equations(gru())
    assert mf.order_parameters == (sym("q_z"), sym("q_r"), sym("q_h"))
    h_star = tanh(s["g_h"] * s["eta_h"] + s["beta_h"])
    r = sigmoid(s["alpha_r"] * s["eta_r"] + s["beta_r"])
    v_z2, v_r2, v_h2 = mf.integrands
    assert_sym_zero(v_z2 - h_star**2)
    assert_sym_zero(v_r2 - h_star**2)
    assert_sym_zero(v_h2 - (r * h_star) ** 2)


def test_gru_pencil_at_a_general_point():
    s = _gru_symbols()
    h = s["h"]
    z = sigmoid(s["alpha_z"] * s["eta_z"] + s["beta_z"])
    r = sigmoid(s["alpha_r"] * s["eta_r"] + s["beta_r"])
    h_tilde = tanh(s["g_h"] * s["eta_h"] + s["beta_h"])
    # h' = (1 - z) h + z h_tilde with h_tilde depending on eta_h only (the
    # reset gate enters through v_h = r h, i.e. through C and E).
    A = sympy.Matrix([[1 - z]])
    B = sympy.Matrix([[s["alpha_z"] * z * (1 - z) * (h_tilde - h), 0, z * s["g_h"] * (1 - h_tilde**2)]])
    C = sympy.Matrix([[1], [1], [r]])
    E = sympy.zeros(3, 3)
    E[2, 1] = s["alpha_r"] * r * (1 - r) * h
    pen = jacobian_pencil(gru())
    assert pen.A.shape == (1, 1) and pen.B.shape == (1, 3)
    assert pen.C.shape == (3, 1) and pen.E.shape == (3, 3)
    assert_sym_zero(pen.A - A)
    assert_sym_zero(pen.B - B)
    assert_sym_zero(pen.C - C)
    assert_sym_zero(pen.E - E)


def test_gru_discrete_jacobian_is_identity_plus_continuous():
    # THEORY.md section 4: for h' = h + z (h_tilde - h) the discrete
    # Jacobian is exactly I + the continuous-time GRU's.
    d, c = jacobian_pencil(gru()), jacobian_pencil(cgru())
    assert_sym_zero(d.A - sympy.eye(1) - c.A)
    assert_sym_zero(d.B - c.B)
    assert_sym_zero(d.C - c.C)
    assert_sym_zero(d.E - c.E)


# -- LSTM -------------------------------------------------------------------------------


def test_lstm_fixed_point():
    names = [
        "alpha_f",
        "beta_f",
        "alpha_i",
        "beta_i",
        "alpha_o",
        "beta_o",
        "g_g",
        "beta_g",
        "eta_f",
        "eta_i",
        "eta_o",
        "eta_g",
        "c",
        "h",
    ]
    s = {n: sym(n) for n in names}
    f = sigmoid(s["alpha_f"] * s["eta_f"] + s["beta_f"])
    i = sigmoid(s["alpha_i"] * s["eta_i"] + s["beta_i"])
    o = sigmoid(s["alpha_o"] * s["eta_o"] + s["beta_o"])
    g = tanh(s["g_g"] * s["eta_g"] + s["beta_g"])
    c_star = i * g / (1 - f)
    fp = fixed_point(lstm())
    assert fp.numeric == ()
    solution = dict(fp.solution)
    assert set(solution) == {s["c"], s["h"]}
    assert_sym_zero(solution[s["c"]] - c_star)
    assert_sym_zero(solution[s["h"]] - o * tanh(c_star))
    # Both closed forms depend on nodes only, not on the states.
    for value in solution.values():
        assert not value.has(s["c"]) and not value.has(s["h"])


# -- hand-built cells -------------------------------------------------------------------


def test_product_cell_pencil():
    a, b = sym("a"), sym("b")
    cell = product_cell()
    assert [c.matrix for c in cell.couplings] == ["J1", "J2"]
    pen = jacobian_pencil(cell)
    assert_sym_zero(pen.A - sympy.Matrix([[0]]))
    assert_sym_zero(pen.B - sympy.Matrix([[0, a]]))
    assert_sym_zero(pen.C - sympy.Matrix([[1], [0]]))
    assert_sym_zero(pen.E - sympy.Matrix([[0, 0], [b, 0]]))


def test_state_without_closed_form_is_numeric():
    fp = fixed_point(implicit_cell())
    assert fp.numeric == (sym("h"),)
    assert fp.solution == ()
    assert not fp.closed_form
    # The residual is the discrete one, F - h.
    g, w, eta, h = sym("g"), sym("w"), sym("eta"), sym("h")
    assert_sym_zero(fp.residuals[0] - (tanh(g * eta + w * h) - h))


# -- Cell.resolve and with_defaults -----------------------------------------------------------


def test_resolve_applies_overrides_and_keeps_defaults():
    cell = gru()
    values = cell.resolve({"g_h": 1.5})
    assert values["g_h"] == 1.5
    assert values["beta_h"] == cell.defaults["beta_h"]
    assert set(values) == set(cell.defaults)


def test_resolve_rejects_unknown_name():
    with pytest.raises(SpecError, match="no parameter 'g_x'"):
        gru().resolve({"g_x": 1.0})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_resolve_rejects_non_finite(bad):
    with pytest.raises(SpecError, match="finite"):
        vanilla().resolve({"g": bad})


def test_resolve_rejects_non_number():
    with pytest.raises(SpecError, match="number"):
        vanilla().resolve({"g": "two"})


def test_with_defaults():
    cell = vanilla()
    changed = cell.with_defaults(g=0.7)
    assert changed.defaults["g"] == 0.7
    assert changed.defaults["beta"] == cell.defaults["beta"]
    assert cell.defaults["g"] == 2.0  # the original is unchanged (frozen value)
    assert changed.updates == cell.updates and changed.couplings == cell.couplings
    with pytest.raises(SpecError):
        cell.with_defaults(gain=1.0)
    with pytest.raises(SpecError):
        cell.with_defaults(g=math.nan)


# -- CellBuilder errors -----------------------------------------------------------------------


def test_builder_rejects_coupling_used_twice():
    b = CellBuilder("twice")
    h = b.state("h")
    b.couple("J", h)
    with pytest.raises(SpecError, match="used twice"):
        b.couple("J", tanh(h))


def test_builder_rejects_state_without_update():
    b = CellBuilder("no_update")
    h = b.state("h")
    b.state("c")
    b.update(h, tanh(b.couple("J", h)))
    with pytest.raises(SpecError, match="'c' has no update"):
        b.build()


def test_builder_rejects_undefined_name():
    b = CellBuilder("undefined")
    h = b.state("h")
    with pytest.raises(SpecError, match="'x' is not defined"):
        b.update(h, tanh(sym("x") * b.couple("J", h)))


@pytest.mark.parametrize("name", ["lam", "pi", "tanh", "lambda", "np"])
def test_builder_rejects_reserved_name(name):
    b = CellBuilder("reserved")
    with pytest.raises(SpecError, match="reserved"):
        b.parameter(name, 1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_builder_rejects_non_finite_default(bad):
    b = CellBuilder("nonfinite")
    with pytest.raises(SpecError, match="finite"):
        b.parameter("g", bad)


def test_builder_rejects_name_declared_twice():
    b = CellBuilder("dup")
    b.state("h")
    with pytest.raises(SpecError, match="already declared"):
        b.parameter("h", 1.0)
