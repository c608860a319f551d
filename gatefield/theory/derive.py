"""Pure derivations from a cell spec: spec in, SymPy objects out.

Each function takes a :class:`~gatefield.theory.spec.Cell` and returns a small
frozen result; results are cached per cell, so nothing is re-derived inside a
loop. The mathematics is docs/theory/2-mean-field.md to 4-support.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy

from ..errors import SpecError
from .spec import Cell, real_symbol

__all__ = [
    "FixedPoint",
    "MeanFieldEquations",
    "Pencil",
    "SupportMatrix",
    "fixed_point",
    "mean_field_equations",
    "jacobian_pencil",
    "support_matrix",
    "order_parameter",
    "fixed_point_map",
    "LAM",
]

#: The spectral variable (complex).
LAM = sympy.Symbol("lambda")


def per_cell(fn):
    """``fn`` cached per cell, refusing anything but a Cell with a SpecError
    (a cell name or a dict would otherwise fail deep inside as AttributeError)."""
    cached = functools.cache(fn)

    @functools.wraps(fn)
    def derive(cell):
        if not isinstance(cell, Cell):
            raise SpecError(
                f"{fn.__name__} needs a Cell (gatefield.load_cell(name or file)), got {type(cell).__name__}"
            )
        return cached(cell)

    derive.cache_clear = cached.cache_clear  # type: ignore[attr-defined]  # a cold start (benchmarks)
    return derive


def order_parameter(node: sympy.Symbol) -> sympy.Symbol:
    """The order parameter of a node: ``eta_z -> q_z`` (its variance)."""
    return real_symbol("q" + node.name[3:])


@dataclass(frozen=True)
class FixedPoint:
    """The per-unit fixed point ``s*(eta)`` at given node values.

    Form: ``s = F(s, eta)`` (discrete) or ``0 = F(s, eta)`` (continuous),
    solved for ``s`` with ``eta`` held fixed.

    Attributes
    ----------
    residuals : tuple of sympy.Expr
        ``R(s, eta)``: ``F - s`` (discrete) or ``F`` (continuous), one per state.
    solution : tuple of (sympy.Symbol, sympy.Expr)
        States solved in closed form, each in terms of nodes, parameters and
        the numeric states.
    numeric : tuple of sympy.Symbol
        States with no closed form; they are found per quadrature node by
        Newton's method on the residuals (see :mod:`gatefield.numerics`).
    """

    residuals: tuple
    solution: tuple
    numeric: tuple

    @property
    def closed_form(self) -> bool:
        return not self.numeric

    def substitute(self, expr: sympy.Expr) -> sympy.Expr:
        """Replace the closed-form states in ``expr`` by their solutions."""
        return expr.xreplace(dict(self.solution))


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """Cancel rational structure inside and around function arguments, so
    that ``(1 - z) X / (z - 1)`` becomes ``-X`` and spurious dependences
    (which would cost quadrature dimensions) disappear."""
    expr = expr.replace(
        lambda e: isinstance(e, sympy.Function) and e.args,
        lambda e: e.func(*[sympy.factor_terms(sympy.cancel(a)) for a in e.args]),
    )
    return sympy.factor_terms(sympy.cancel(expr))


def _linear_solution(residual, state, unsolved):
    """``state`` solving ``residual = 0`` if the residual is affine in it."""
    slope = residual.diff(state)
    if slope == 0 or slope.has(state):
        return None
    value = -residual.xreplace({state: 0}) / slope
    value = tidy(value)
    if value.has(state) or value.has(sympy.zoo, sympy.nan):
        return None
    return value


@per_cell
def fixed_point(cell: Cell) -> FixedPoint:
    """Solve ``s = F(s, eta)`` (or ``F = 0``) for the states, node values fixed.

    Notes
    -----
    Elimination in the spirit of Gaussian elimination: repeatedly pick an
    equation that is affine in one of its unsolved states (preferring
    equations with fewest unsolved states), solve it, substitute. GRU:
    ``z (h_tilde - h) = 0`` gives ``h = h_tilde`` since the update gate is
    positive; LSTM: ``c = i g / (1 - f)`` then ``h = o tanh(c)``
    (docs/theory/2-mean-field.md). States left over are solved numerically.
    """
    if cell.time == "discrete":
        residuals = [F - s for s, F in zip(cell.states, cell.updates)]
    else:
        residuals = list(cell.updates)
    equations = list(residuals)
    unsolved = list(cell.states)
    solved: list = []
    progress = True
    while unsolved and progress:
        progress = False
        candidates = []
        for k, eq in enumerate(equations):
            if eq is None:
                continue
            present = [s for s in unsolved if eq.has(s)]
            for s in present:
                candidates.append((len(present), k, s))
        for _, k, s in sorted(candidates, key=lambda c: (c[0], c[1])):
            value = _linear_solution(equations[k], s, unsolved)
            if value is None:
                continue
            solved.append((s, value))
            unsolved.remove(s)
            equations[k] = None
            equations = [None if eq is None else eq.xreplace({s: value}) for eq in equations]
            progress = True
            break
    # Back-substitute so every closed-form state depends on nodes only (and
    # on numeric states, if any).
    final = {}
    for s, value in reversed(solved):
        final[s] = tidy(value.xreplace(final))
    solution = tuple((s, final[s]) for s in cell.states if s in final)
    return FixedPoint(tuple(residuals), solution, tuple(unsolved))


@per_cell
def fixed_point_map(cell: Cell) -> Cell | None:
    """The cell's fixed-point equations as a discrete-time map, or None.

    Form: ``s <- s*(eta(s))`` for the states with a closed form (the other
    states keep ``s <- F(s, eta)``, or ``s <- s + F`` in continuous time).
    Its fixed points are the cell's: the elimination of :func:`fixed_point`
    divides only by factors that never vanish (a GRU's update gate, an
    LSTM's ``1 - f``), so a gate that slows relaxation (a steep update gate,
    whose nearly shut units barely move) is gone from it. None when no state
    has a closed form.
    """
    fp = fixed_point(cell)
    if not fp.solution:
        return None
    solved = dict(fp.solution)
    updates = []
    for s, F in zip(cell.states, cell.updates):
        if s in solved:
            updates.append(solved[s])
        else:
            updates.append(F if cell.time == "discrete" else s + F)
    return Cell(
        name=f"{cell.name}_fixed_point",
        time="discrete",
        states=cell.states,
        parameters=cell.parameters,
        couplings=cell.couplings,
        definitions=cell.definitions,
        updates=tuple(updates),
        description=f"the fixed-point equations of {cell.name} as a map",
    )


@dataclass(frozen=True)
class MeanFieldEquations:
    """Fixed-point mean-field equations ``q_a = E_eta[v_a(s*(eta), eta)^2]``.

    Form: ``q = Phi(q)``, K equations in the K order parameters ``q_a``,
    with ``eta_b ~ N(0, q_b)`` independent (docs/theory/2-mean-field.md). Solved for
    ``q`` by :class:`gatefield.numerics.solvers.AllRoots` (``gatefield.solve(MeanField(cell))``).

    Attributes
    ----------
    order_parameters : tuple of sympy.Symbol
        ``q_a``, one per coupling, the variance of node ``eta_a``.
    nodes : tuple of sympy.Symbol
        ``eta_a``, in the same order.
    integrands : tuple of sympy.Expr
        ``v_a(s*(eta), eta)^2`` with closed-form states substituted.
    fixed_point : FixedPoint
    """

    order_parameters: tuple
    nodes: tuple
    integrands: tuple
    fixed_point: FixedPoint

    def equations(self) -> tuple:
        """The equations as ``sympy.Eq(q_a, E[...])`` for display."""
        expect = sympy.Function("E")
        return tuple(sympy.Eq(q, expect(v)) for q, v in zip(self.order_parameters, self.integrands))


@per_cell
def mean_field_equations(cell: Cell) -> MeanFieldEquations:
    """Derive the fixed-point mean-field equations of ``cell``."""
    fp = fixed_point(cell)
    integrands = tuple(fp.substitute(c.argument) ** 2 for c in cell.couplings)
    return MeanFieldEquations(
        order_parameters=tuple(order_parameter(n) for n in cell.nodes),
        nodes=cell.nodes,
        integrands=integrands,
        fixed_point=fp,
    )


@dataclass(frozen=True)
class Pencil:
    """Per-unit coefficients of the linearized dynamics (docs/theory/3-pencil.md).

    Form::

        delta s_next = A delta s + B delta eta        (or d/dt delta s)
        delta eta_a  = J_a (C_a delta s + sum_b E_ab delta eta_b)
        Jac = A + B (I - J E)^(-1) J C

    Attributes
    ----------
    A : sympy.Matrix  (m x m)   ``dF/ds``
    B : sympy.Matrix  (m x K)   ``dF/deta``
    C : sympy.Matrix  (K x m)   ``dv_a/ds``
    E : sympy.Matrix  (K x K)   ``dv_a/deta_b``, strictly lower triangular
    """

    A: sympy.Matrix
    B: sympy.Matrix
    C: sympy.Matrix
    E: sympy.Matrix


@per_cell
def jacobian_pencil(cell: Cell) -> Pencil:
    """Derive the pencil ``(A, B, C, E)`` of ``cell`` at a general point."""
    s, eta = list(cell.states), list(cell.nodes)
    F = sympy.Matrix(cell.updates)
    v = sympy.Matrix([c.argument for c in cell.couplings])
    A = F.jacobian(s)
    B = F.jacobian(eta)
    C = v.jacobian(s)
    E = v.jacobian(eta)
    for a in range(cell.K):
        for b in range(a, cell.K):
            if E[a, b] != 0:  # guaranteed by the builder; kept as a guard
                raise SpecError(f"node '{eta[a]}' depends on itself or a later node")
    return Pencil(A, B, C, E)


@dataclass(frozen=True)
class SupportMatrix:
    """The support condition of the Jacobian's spectrum (docs/theory/4-support.md).

    Form::

        M(lam)_ab = E_P[ |C_a (lam - A)^(-1) B_b + E_ab|^2 ]
                  = E_P[ |T_ab(lam)|^2 / |D(lam)|^2 ]
        support S = { lam : spectral_radius(M(lam)) >= 1 }

    with ``D(lam) = det(lam I - A)`` and the polynomial
    ``T_ab(lam) = C_a adj(lam I - A) B_b + E_ab D(lam)``. Writing the
    lam-dependence as polynomials lets the numerics take the expectation of
    every coefficient product once, outside any loop over lam.

    Attributes
    ----------
    lam : sympy.Symbol
    D : tuple of sympy.Expr
        Coefficients ``d_p`` of ``D(lam) = sum_p d_p lam^p``, p = 0..m.
    T : tuple
        ``T[a][b][p]``: coefficient of ``lam^p`` in ``T_ab``, p = 0..m.
    entry : sympy.Matrix
        ``C_a (lam - A)^(-1) B_b + E_ab`` before the expectation, for display.
    pencil : Pencil
    """

    lam: sympy.Symbol
    D: tuple
    T: tuple
    entry: sympy.Matrix
    pencil: Pencil


def _lam_coefficients(expr, degree):
    """Coefficients of a polynomial in LAM, by Taylor's formula (no expansion
    of the non-polynomial coefficients)."""
    out, term = [], expr
    for p in range(degree + 1):
        out.append(sympy.factor_terms(term.xreplace({LAM: 0}) / sympy.factorial(p)))
        term = term.diff(LAM)
    return tuple(out)


@per_cell
def support_matrix(cell: Cell) -> SupportMatrix:
    """Derive ``M(lam)`` of ``cell`` in polynomial form."""
    pen = jacobian_pencil(cell)
    m, K = cell.m, cell.K
    shifted = LAM * sympy.eye(m) - pen.A
    det = shifted.det(method="berkowitz")
    adj = shifted.adjugate(method="berkowitz")
    D = _lam_coefficients(det, m)
    T = tuple(
        tuple(_lam_coefficients((pen.C[a, :] * adj * pen.B[:, b])[0, 0] + pen.E[a, b] * det, m) for b in range(K))
        for a in range(K)
    )
    entry = sympy.Matrix(K, K, lambda a, b: (pen.C[a, :] * adj * pen.B[:, b])[0, 0] / det + pen.E[a, b])
    return SupportMatrix(LAM, D, T, entry, pen)
