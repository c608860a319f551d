"""Printing derived expressions as LaTeX for the cell's report: folding
definitions back into their symbols, tidying, and fitting long equations to
the page (see :mod:`gatefield.io.latex`)."""

from __future__ import annotations

import unicodedata

import sympy
from sympy.polys.polyerrors import BasePolynomialError

from ..theory.derive import LAM, order_parameter
from ..theory.spec import Cell, real_symbol

#: Matrices whose LaTeX is longer than this (characters) are listed entry by
#: entry instead of as one array; about two lines of a page at display size.
_MATRIX_CHARS = 600

#: Expressions with more nodes (in SymPy's expression tree) than this are
#: displayed as derived, without trying to factor them: factoring is cheap
#: for gated cells (tens of nodes after folding) but slow on large ones.
_SIMPLIFY_NODES = 120

#: Expressions with more nodes than this, or whose LaTeX is longer than
#: ``_PRINT_CHARS``, are not printed: a page cannot show them legibly (one
#: line holds about 150 characters of LaTeX) and TeX reads at most 200000
#: characters per line.
_PRINT_NODES = 1000
_PRINT_CHARS = 5000

#: A factored form is displayed unless its LaTeX is this many times longer
#: than the shortest form found.
_LONGER = 1.25

#: Lines per ``align*``: an align cannot break across pages.
_ALIGN_LINES = 12

# Separator of inline lists, which lets TeX break the line after a comma.
_SEP = r",\allowbreak "


# Accents and superscripts for name suffixes: ``h_tilde`` -> \tilde{h},
# ``c_new`` -> c^{new}.
_ACCENTS = {"tilde": r"\tilde", "hat": r"\hat", "bar": r"\bar"}
_SUPERSCRIPTS = ("new", "old", "prev", "next")

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

# A display that never overflows: the box is shrunk to the line width when
# wider, and left at its natural size otherwise (graphicx lets the size
# arguments refer to the natural \width).
_FIT = (
    r"\begin{center}\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}"
    r"{$\displaystyle @MATH@$}\end{center}"
)


def _as_expr(value) -> sympy.Basic:
    """SymPy objects pass through and Python numbers become SymPy numbers;
    text is refused (nothing here ever parses a string)."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, float):
        return sympy.Float(value)
    raise TypeError(f"expected a SymPy expression, got {type(value).__name__}")


def escape_text(text: str) -> str:
    """Escape ``text`` for LaTeX text mode.

    Special characters become their LaTeX commands; accented letters lose
    their accents and other non-ASCII characters become ``?``, because the
    report must compile with pdflatex's default fonts.
    """
    out = []
    for char in unicodedata.normalize("NFKD", str(text)):
        if unicodedata.combining(char):
            continue
        if char in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[char])
        elif char in "\n\r\t":
            out.append(" ")
        elif 32 <= ord(char) < 127:
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def _symbol_latex(name: str) -> str | None:
    """Display form for names with a known suffix, else None (SymPy's form)."""
    base, _, suffix = name.rpartition("_")
    if not base:
        return None
    inner = sympy.latex(sympy.Symbol(base))
    if suffix in _ACCENTS:
        return _ACCENTS[suffix] + "{" + inner + "}"
    if suffix in _SUPERSCRIPTS:
        # Braced so that a power or a subscript applied to it stays valid.
        return "{" + inner + r"^{\mathrm{" + suffix + "}}}"
    return None


def _label(node: sympy.Symbol) -> str:
    """The index of a node: ``eta_z -> z``, ``eta -> ''``."""
    return node.name[4:] if node.name.startswith("eta_") else ""


_TOO_LONG = r"\text{(too long to print)}"


def _larger(expr: sympy.Expr, limit: int) -> bool:
    """Whether ``expr`` has more than ``limit`` nodes (stops counting there)."""
    for count, _ in enumerate(sympy.preorder_traversal(expr), start=1):
        if count > limit:
            return True
    return False


def _orientation(term: sympy.Expr) -> int:
    """+1 if a sum reads better as is, -1 if negated, 0 if either way.

    A sum containing the spectral variable should read ``lambda - x``; one
    with a numeric constant should read ``1 - z``.
    """
    coeff = term.coeff(LAM)
    if coeff.is_Number and coeff != 0:
        return 1 if coeff > 0 else -1
    constant = term.as_coeff_Add()[0]
    if constant != 0:
        return 1 if constant > 0 else -1
    return 0


def _orient_mul(mul: sympy.Mul) -> sympy.Expr:
    """Flip the signs of sum factors so that they read ``1 - z`` and
    ``lambda - x``, and absorb a leading minus into a factor when possible."""
    coeff, factors = mul.as_coeff_mul()
    factors = list(factors)
    sign = 1
    free = []
    for k, factor in enumerate(factors):
        base, exp = factor.as_base_exp()
        if not (base.is_Add and exp.is_Integer):
            continue
        orientation = _orientation(base)
        if orientation < 0:
            factors[k] = sympy.Pow(-base, exp)
            if int(exp) % 2:
                sign = -sign
        elif orientation == 0 and int(exp) % 2:
            free.append(k)
    coeff *= sign
    if coeff < 0 and free:
        k = free[0]
        base, exp = factors[k].as_base_exp()
        factors[k] = sympy.Pow(-base, exp)
        coeff = -coeff
    return sympy.Mul(coeff, *factors)


def _orient(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with the signs of its products arranged for reading (an identity)."""
    return expr.replace(lambda e: e.is_Mul, _orient_mul)


class _Printer:
    """Prints the expressions of one cell, folding definitions back."""

    def __init__(self, cell: Cell):
        self.cell = cell
        names = [s.name for s in cell.states] + [p.name for p, _ in cell.parameters]
        names += [c.node.name for c in cell.couplings] + [s.name for s, _ in cell.definitions]
        names += [order_parameter(c.node).name for c in cell.couplings]
        self.symbol_names = {}
        for name in names:
            shown = _symbol_latex(name)
            if shown is not None:
                self.symbol_names[real_symbol(name)] = shown
                self.symbol_names[sympy.Symbol(name)] = shown
        # Expanded form of each definition, computed as the builder does:
        # earlier definitions substituted into later ones, all symbols real.
        expanded: dict = {}
        self.definitions = []
        for sym, written in cell.definitions:
            written = self.real(_as_expr(written))
            value = self.real(written.xreplace(expanded))
            sym = real_symbol(sym.name)
            expanded[sym] = value
            self.definitions.append((sym, written, value))
        # Fold the last definition first: its expansion contains the earlier ones.
        self.folds = [(value, sym) for sym, _, value in reversed(self.definitions) if not value.is_Atom]

    @staticmethod
    def real(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(
            {
                s: real_symbol(s.name)
                for s in expr.free_symbols
                if isinstance(s, sympy.Symbol) and s.is_real is not True and s != LAM
            }
        )

    def fold(self, expr: sympy.Expr) -> sympy.Expr:
        """Replace expanded definitions by their symbols (an identity)."""
        expr = _as_expr(expr)
        for value, sym in self.folds:
            expr = expr.xreplace({value: sym})
        return expr

    def tidy(self, expr: sympy.Expr) -> sympy.Expr:
        """Fold, then factor when that shortens the printed form (an identity)."""
        expr = self.fold(expr)
        if expr.is_Atom or _larger(expr, _SIMPLIFY_NODES):
            return expr
        # Squares stay whole (their bases are functions or definitions), so
        # that 1 - tanh(x)**2 is not split into (1 - tanh(x)) (1 + tanh(x)).
        masks = {
            e: sympy.Dummy()
            for e in expr.atoms(sympy.Pow)
            if not e.base.is_Add and e.base != LAM and e.exp.is_Integer and e.exp > 1
        }
        unmask = {d: e for e, d in masks.items()}
        masked = expr.xreplace(masks)
        candidates = []
        for simplify in (sympy.factor, lambda e: e, lambda e: sympy.factor_terms(sympy.cancel(e))):
            try:
                candidates.append(_orient(simplify(masked).xreplace(unmask)))
            except (BasePolynomialError, NotImplementedError, TypeError, ValueError, RecursionError):
                continue  # display falls back to the other forms
        # In order of preference (factored reads best), unless much longer.
        lengths = [len(self(e)) for e in candidates]
        return next(e for e, n in zip(candidates, lengths, strict=True) if n <= _LONGER * min(lengths))

    def __call__(self, expr) -> str:
        """LaTeX of ``expr`` as is (no folding)."""
        return sympy.latex(expr, symbol_names=self.symbol_names, mat_delim="(")

    def show(self, expr, fold: bool = True, tidy: bool = True) -> str:
        """LaTeX of ``expr``, folded and tidied if asked, or a note if too
        large to print."""
        expr = _as_expr(expr)
        if _larger(expr, 10 * _PRINT_NODES):
            return _TOO_LONG  # folding rarely shrinks an expression tenfold
        if fold:
            expr = self.fold(expr)
        if _larger(expr, _PRINT_NODES):
            return _TOO_LONG
        text = self(self.tidy(expr) if tidy else expr)
        return _TOO_LONG if len(text) > _PRINT_CHARS else text

    def symbol(self, sym) -> str:
        return self(real_symbol(str(sym)))

    def node_index(self, node: sympy.Symbol) -> str:
        label = _label(node)
        return self(real_symbol(label)) if label else ""

    def v(self, node: sympy.Symbol) -> str:
        index = self.node_index(node)
        return f"v_{{{index}}}" if index else "v"


def _align(lines) -> str:
    """Equations ``(lhs, rhs)``: consecutive short ones in one ``align*``,
    long ones each in a display shrunk to fit the line."""
    blocks, group = [], []

    def flush():
        if group:
            blocks.append("\\begin{align*}\n" + " \\\\\n".join(group) + "\n\\end{align*}")
            group.clear()

    for lhs, rhs in lines:
        if len(group) == _ALIGN_LINES:
            flush()
        if len(lhs) + len(rhs) > 300:
            flush()
            blocks.append(_fit(f"{lhs} = {rhs}"))
        else:
            group.append(f"  {lhs} &= {rhs}")
    flush()
    return "\n".join(blocks)


def _fit(math: str) -> str:
    """One display equation, shrunk to the line width when too wide."""
    return _FIT.replace("@MATH@", math)


def _format_number(value: float) -> str:
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return mantissa + r" \times 10^{" + str(int(exponent)) + "}"
    return text


def _list(items) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
