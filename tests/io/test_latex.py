"""Tests of gatefield.io.latex: every built-in cell gets a report with the
four sections of THEORY.md 1-4, the displayed expressions equal the derived
ones, and the documents compile with pdflatex (tests marked ``latex``)."""

import dataclasses
import random
import re
import shutil

import pytest
import sympy
from helpers import EXACT_RTOL

from gatefield.cells import BUILTINS, cgru, gru, lstm
from gatefield.errors import GatefieldError
from gatefield.io.latex import _Printer, cell_latex, compile_latex, latex_document
from gatefield.theory.derive import (
    LAM,
    jacobian_pencil,
    mean_field_equations,
    order_parameter,
    support_matrix,
)
from gatefield.theory.functions import sigmoid
from gatefield.theory.spec import CellBuilder

SECTIONS = (
    "The cell",
    "Mean-field equations",
    "Jacobian pencil",
    "Support of the spectrum",
    "Dynamical mean-field theory",
)

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not on PATH")


def compiled(cell, tmp_path):
    """Compile ``cell``'s document; return the PDF and the log text."""
    pdf = compile_latex(latex_document(cell), tmp_path)
    return pdf, (tmp_path / "cell.log").read_text(errors="replace")


def evaluate(expr, point) -> complex:
    """``expr`` at ``point`` in double precision (sigmoid written out)."""
    expr = expr.replace(sigmoid, lambda x: 1 / (1 + sympy.exp(-x)))
    return complex(expr.xreplace(point).evalf())


def implicit_cell():
    """``dx/dt = -x + w tanh(x) + g (J @ tanh(x))``: no closed-form fixed point."""
    b = CellBuilder("implicit_rate", "continuous")
    x = b.state("x")
    g, w = b.parameter("g", 1.5), b.parameter("w", 0.5)
    b.update(x, -x + w * sympy.tanh(x) + g * b.couple("J", sympy.tanh(x)))
    return b.build()


def special_cell():
    """A cell whose name and description need escaping in text mode. The
    builder only accepts identifiers as names, so the name's special
    characters are put in with ``dataclasses.replace``."""
    b = CellBuilder(
        "odd_cell-1",
        "discrete",
        description=r"50% of x_1 & #2 {braces} $5 ^ ~ \ <a|b> Schrödinger λ" + "\nsecond line",
    )
    h_old = b.state("h_old")
    gain = b.parameter("gain_1", -2.5e-7)
    b.update(h_old, sympy.tanh(gain * b.couple("J_x_1", h_old)))
    return dataclasses.replace(b.build(), name="odd_name %&#_$")


# -- structure -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_document_has_sections_couplings_and_equations(name):
    cell = BUILTINS[name]()
    doc = latex_document(cell)
    p = _Printer(cell)
    assert doc.startswith("\\documentclass{article}")
    assert "\\begin{document}" in doc and doc.rstrip().endswith("\\end{document}")
    positions = [doc.index(f"\\section{{{title}}}") for title in SECTIONS]
    assert positions == sorted(positions)
    for coupling in cell.couplings:
        matrix = sympy.latex(sympy.Symbol(coupling.matrix))
        # the node equation eta_a = J_a v_a and the matrix in diag(J_1, ..., J_K)
        assert re.search(re.escape(p(coupling.node)) + r" &= " + re.escape(matrix) + r"\\, ", doc)
        assert matrix in doc[doc.index("\\mathrm{diag}") :]
        # one mean-field equation q_a = E[...]
        q = re.escape(p(order_parameter(coupling.node)))
        assert len(re.findall(q + r" &?= \\mathbb\{E\}\\left\[", doc)) == 1
    criterion = "unit disc" if cell.time == "discrete" else "left half-plane"
    assert criterion in doc
    assert "\\rho\\big(M(\\lambda)\\big) = 1" in doc
    assert "\\mathrm{Jac} = A + B\\,(I - J E)^{-1} J C" in doc
    # the DMFT covariance of every coupling (THEORY.md section 6)
    dmft = doc[doc.index("\\section{Dynamical mean-field theory}") :]
    for coupling in cell.couplings:
        assert f"C_{{{sympy.latex(sympy.Symbol(coupling.matrix))}}}(t, t')" in dmft


def test_body_has_no_preamble():
    body = cell_latex(gru())
    assert "\\documentclass" not in body and "\\begin{document}" not in body
    assert body.lstrip().startswith("\\section{The cell}")


def test_gru_is_shown_as_written():
    """Definitions are folded back into the update, node arguments and
    derived expressions; names with suffixes get accents."""
    doc = latex_document(gru())
    assert "{h}_{t+1} &= h \\left(1 - z\\right) + \\tilde{h} z" in doc
    assert "\\eta_{h} &= J_{h}\\, \\left(h r\\right)" in doc
    assert "\\tilde{h} &= \\tanh{\\left(\\beta_{h} + \\eta_{h} g_{h} \\right)}" in doc
    # fixed point h* = h_tilde, then its expansion
    assert "{h}^{*} &= \\tilde{h} = \\tanh{\\left(\\beta_{h} + \\eta_{h} g_{h} \\right)}" in doc
    assert "q_{h} &= \\mathbb{E}\\left[\\tilde{h}^{2} r^{2}\\right]" in doc
    # B_r = 0 makes two entries of M vanish
    assert "$M_{z,\\,r}(\\lambda)$ and $M_{r,\\,r}(\\lambda)$ vanish" in doc


def test_lstm_names_and_continuous_time():
    doc = latex_document(lstm())
    assert "{c^{\\mathrm{new}}}" in doc
    assert "s = (c,\\allowbreak h)" in doc
    assert "\\frac{d h}{d t}" in latex_document(cgru())


def test_numeric_states_are_named():
    doc = latex_document(implicit_cell())
    assert "The state $x$ has no closed form: it is found numerically" in doc
    assert re.search(r"\\begin\{align\*\}\n  [^\n]* &= 0\n\\end\{align\*\}", doc)  # R(s, eta) = 0
    assert "$x$ stands for its value at the fixed point" in doc


def test_text_is_escaped():
    doc = latex_document(special_cell())
    assert "\\title{gatefield: odd\\_name \\%\\&\\#\\_\\$}" in doc
    assert "50\\% of x\\_1 \\& \\#2 \\{braces\\} \\$5" in doc
    assert "Schrodinger ? second line" in doc


def test_too_long_expressions_are_not_printed():
    """An update of 200 terms is replaced by a note instead of a line TeX
    cannot read (at most 200000 characters)."""
    b = CellBuilder("long", "continuous")
    x = b.state("x")
    eta = b.couple("J", x)
    b.update(x, -x + sum(sympy.tanh(k * x + eta) / k for k in range(1, 201)))
    doc = latex_document(b.build())
    assert "\\text{(too long to print)}" in doc
    assert max(len(line) for line in doc.splitlines()) < 10_000


# -- displayed expressions equal the derived ones -----------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_tidied_expressions_equal_derived(name):
    """Folding and factoring are identities: unfold the displayed forms and
    compare with the derived expressions at random points (lambda complex)."""
    cell = BUILTINS[name]()
    p = _Printer(cell)
    unfold = {sym: value for sym, _, value in p.definitions}
    rng = random.Random(1)
    derived = list(mean_field_equations(cell).integrands)
    pencil = jacobian_pencil(cell)
    for matrix in (pencil.A, pencil.B, pencil.C, pencil.E, support_matrix(cell).entry):
        derived += list(matrix)
    for expr in derived:
        shown = p.tidy(expr)
        for _ in range(3):
            symbols = (expr.free_symbols | shown.xreplace(unfold).free_symbols) - {LAM}
            point = {s: sympy.Float(rng.uniform(-1.5, 1.5)) for s in symbols}
            point[LAM] = sympy.Float(rng.uniform(-2, 2)) + sympy.I * sympy.Float(rng.uniform(0.1, 2))
            want = evaluate(expr, point)
            got = evaluate(shown.xreplace(unfold), point)
            # the same value in a different order of operations; |lambda - a| >= 0.1
            assert abs(got - want) <= EXACT_RTOL * max(1.0, abs(want)), (expr, shown)


# -- compilation ----------------------------------------------------------------------


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("factory", [gru, lstm, cgru], ids=["gru", "lstm", "cgru"])
def test_builtins_compile(factory, tmp_path):
    pdf, log = compiled(factory(), tmp_path)
    assert pdf == tmp_path / "cell.pdf"
    assert pdf.stat().st_size > 0
    assert "Overfull \\hbox" not in log  # long equations are shrunk to the line


@pytest.mark.latex
@needs_pdflatex
def test_escaped_cell_compiles(tmp_path):
    pdf, _ = compiled(special_cell(), tmp_path)
    assert pdf.stat().st_size > 0


@pytest.mark.latex
@needs_pdflatex
def test_numeric_cell_compiles(tmp_path):
    pdf, _ = compiled(implicit_cell(), tmp_path)
    assert pdf.stat().st_size > 0


@pytest.mark.latex
@needs_pdflatex
def test_broken_document_raises_with_the_latex_error(tmp_path):
    broken = "\\documentclass{article}\n\\begin{document}\n\\notacommand\n\\end{document}\n"
    with pytest.raises(GatefieldError, match=r"Undefined control sequence \(line 3\)"):
        compile_latex(broken, tmp_path / "new")
    assert (tmp_path / "new" / "cell.tex").read_text() == broken


def test_missing_pdflatex_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GatefieldError, match="pdflatex was not found"):
        compile_latex(latex_document(gru()), tmp_path)
