"""The node-space Kac-Rice derivation, tested exactly (STYLE.md example 6)."""

from __future__ import annotations

import pytest
import sympy

import gatefield as gf
from gatefield.errors import UnsupportedCellError
from gatefield.io.latex import complexity_latex
from gatefield.theory.complexity import (
    hermitized_determinant,
    kac_rice,
    stationarity_equations,
    transfer_from_pencil,
)
from gatefield.theory.functions import sigmoid
from gatefield.theory.spec import CellBuilder

# The LSTM's 4 x 4 identity takes 40 s of simplify: the slow tier.
CLOSED_FORM = [
    "vanilla",
    "rate",
    "gru",
    "gru_torch",
    "cgru",
    pytest.param("lstm", marks=pytest.mark.slow),
    "minimal_rnn",
]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_transfer_matrix_equals_pencil_elimination(name):
    # T = dv(s*(eta), eta)/deta, and the same from C (lambda0 - A)^-1 B + E.
    cell = gf.load_cell(name)
    difference = kac_rice(cell).transfer - transfer_from_pencil(cell)
    assert all(sympy.simplify(e) == 0 for e in difference)


def test_rate_network_node_space():
    kr = kac_rice(gf.load_cell("rate"))
    eta, g = sympy.Symbol("eta", real=True), sympy.Symbol("g", real=True)
    assert kr.lam0 == 0 and kr.inert == ()
    assert sympy.simplify(kr.arguments[0] - sympy.tanh(g * eta)) == 0
    assert sympy.simplify(kr.transfer[0, 0] - g / sympy.cosh(g * eta) ** 2) == 0
    a, b = kr.a[0], kr.b[0]
    det = hermitized_determinant(gf.load_cell("rate"))
    assert sympy.simplify(det - (1 + a * b * kr.transfer[0, 0] ** 2)) == 0


def test_gru_update_gate_is_inert_and_determinant_closed_form():
    cell = gf.load_cell("gru")
    kr = kac_rice(cell)
    assert [n.name for n in kr.inert] == ["eta_z"]
    assert [n.name for n in kr.nodes] == ["eta_r", "eta_h"]
    # No parameter of the update gate appears anywhere in the node map.
    z_params = {"alpha_z", "beta_z"}
    assert not any(s.name in z_params for e in kr.arguments + tuple(kr.transfer) for s in e.free_symbols)
    # KAC-RICE.md section 5: D = (1 + A phi'^2)(1 + B sig'^2 phi^2) + C sig^2 phi'^2,
    # A = a_h b_r, B = a_r b_h, C = a_h b_h.
    eta_r, eta_h = kr.nodes
    s = {x.name: x for x in cell.parameter_symbols}
    phi = sympy.tanh(s["g_h"] * eta_h + s["beta_h"])
    sig = sigmoid(s["alpha_r"] * eta_r + s["beta_r"])
    dphi, dsig = s["g_h"] * (1 - phi**2), s["alpha_r"] * sig * (1 - sig)
    a_r, a_h = kr.a
    b_r, b_h = kr.b
    A, B, C = a_h * b_r, a_r * b_h, a_h * b_h
    D = (1 + A * dphi**2) * (1 + B * dsig**2 * phi**2) + C * sig**2 * dphi**2
    assert sympy.expand(hermitized_determinant(cell) - D) == 0


def test_continuous_and_discrete_gru_have_one_node_map():
    # KAC-RICE.md section 6: the map h + z (h~ - h) and the flow z (h~ - h) have the same fixed points.
    d, c = kac_rice(gf.load_cell("gru")), kac_rice(gf.load_cell("cgru"))
    assert d.lam0 == 1 and c.lam0 == 0
    assert all(sympy.simplify(x - y) == 0 for x, y in zip(d.arguments, c.arguments))


def test_lstm_nodes_share_one_order_parameter():
    kr = kac_rice(gf.load_cell("lstm"))
    assert kr.groups == ((0, 1, 2, 3),) and len(kr.order_parameters) == 1


def test_stationarity_equations_of_rate_network():
    cell = gf.load_cell("rate")
    kr = kac_rice(cell)
    eqs = stationarity_equations(cell)
    assert len(eqs) == 4  # q, qhat, b, a
    tilted = sympy.Function("E_mu")
    ell = kr.transfer[0, 0] ** 2
    a, b = kr.a[0], kr.b[0]
    # b = E_mu[a ell / (1 + a b ell)] ... written as d log det / d a.
    expected = tilted(b * ell / (1 + a * b * ell))
    assert sympy.simplify(eqs[2].rhs.args[0] - expected.args[0]) == 0


def test_linear_cell_has_constant_transfer():
    b = CellBuilder("linear", "continuous")
    x = b.state("x")
    g = b.parameter("g", 2.0)
    b.update(x, -x + g * b.couple("J", x))
    kr = kac_rice(b.build())
    assert kr.transfer[0, 0] == sympy.Symbol("g", real=True)


def test_cell_without_closed_form_is_refused():
    b = CellBuilder("implicit", "discrete")
    h = b.state("h")
    g = b.parameter("g", 2.0)
    b.update(h, sympy.tanh(g * b.couple("J", h) + h))
    with pytest.raises(UnsupportedCellError, match="closed form"):
        kac_rice(b.build())


def test_latex_section_names_the_inert_gate():
    text = complexity_latex(gf.load_cell("gru"))
    assert text.startswith("\\section{Fixed-point complexity (Kac--Rice)}")
    assert "\\eta_{z}" in text and "drops" in text
    assert text.count("\\begin{align*}") == 3
