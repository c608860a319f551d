r"""Kac-Rice complexity of a cell's fixed points, derived in node space.

The number of fixed points of a network of N units is counted through the
zeros of the node map ``G(eta) = eta - J v(eta)``: every fixed point gives
node values ``eta_a = J_a v_a`` with ``s_i = s*(eta_i)``, and every zero of
``G`` gives back a fixed point. At fixed ``eta`` the vectors ``v_a(eta)`` are
deterministic, so ``J_a v_a ~ N(0, q_a(eta) I)`` exactly with ``q_a(eta) =
|v_a|^2 / N``, and the Kac-Rice formula is, at every N,

    E[#] = int d^{KN} eta  prod_a N(eta_a; 0, q_a(eta) I)
                 E[ |det(I - J T(eta))|  |  J_a v_a(eta) = eta_a ]

with the per-unit transfer matrix ``T_ab = d v_a(s*(eta), eta) / d eta_b``
(docs/theory/10-complexity.md). For large N the count grows like
``exp(N Sigma)`` with

    Sigma = sup_q inf_qhat extr_{a,b} S(q, qhat, a, b),
    S = sum_g qhat_g q_g - (1/2) sum_c a_c b_c
        + log E_{eta ~ N(0, diag q)}[ exp(-sum_g qhat_g v_g^2) det(I + diag(a) T^T diag(b) T)^(1/2) ].

This module derives, for any cell whose per-unit fixed point has a closed
form, everything symbolic: which nodes count, ``v(eta)``, ``T(eta)``, the
action ``S`` and its stationarity equations, and their LaTeX. SymPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy

from ..errors import UnsupportedCellError
from .derive import fixed_point, jacobian_pencil, order_parameter, tidy
from .spec import Cell, real_symbol

__all__ = [
    "KacRice",
    "kac_rice",
    "slow_point",
    "transfer_from_pencil",
    "hermitized_determinant",
    "stationarity_equations",
]

#: Expectation under the Gaussian ``eta ~ N(0, diag q)`` (display only).
EXPECT = sympy.Function("E")
#: Expectation under the tilted site measure ``mu*`` (display only).
TILTED = sympy.Function("E_mu")


def slow_point(cell: Cell) -> sympy.Integer:
    """``lambda0``: 1 for a map (fixed points solve ``F = s``), 0 for a flow (``F = 0``)."""
    return sympy.Integer(1 if cell.time == "discrete" else 0)


def _label(node: sympy.Symbol) -> str:
    return node.name[3:]  # eta_r -> _r, eta -> ''


@dataclass(frozen=True)
class KacRice:
    """The node-space Kac-Rice problem of a cell.

    Form: zeros of ``G(eta) = eta - J v(eta)`` over the *active* nodes, with
    ``eta_a ~ N(0, q_a)`` per unit at large N and the per-unit transfer
    matrix ``T = dv/deta`` (rows: arguments ``v_a``; columns: nodes
    ``eta_b``). Solved for ``Sigma`` by
    :class:`gatefield.numerics.complexity.Saddles`.

    Attributes
    ----------
    lam0 : sympy.Integer
        The slow point (1 discrete, 0 continuous).
    nodes : tuple of sympy.Symbol
        Active nodes: those some active argument depends on.
    inert : tuple of sympy.Symbol
        Nodes no active argument depends on. Their columns of ``T`` vanish,
        so ``det(I - J T)`` does not involve them and their Gaussian
        densities integrate to 1: they drop out of the count exactly, at
        every N (a GRU's update gate).
    arguments : tuple of sympy.Expr
        ``v_a(eta) = v_a(s*(eta), eta)`` for the active nodes.
    transfer : sympy.Matrix
        ``T_ab = d v_a / d eta_b`` (total derivative, K x K over active nodes).
    groups : tuple of tuple of int
        Active nodes with identical arguments share one order parameter
        (the four nodes of an LSTM all read ``h``): indices into ``nodes``.
    order_parameters, multipliers : tuple of sympy.Symbol
        ``q_g`` and ``qhat_g``, one per group.
    a, b : tuple of sympy.Symbol
        The Hermitized unknowns, one of each per active node (``a`` on the
        columns of ``T``, ``b`` on its rows); ``(a, b) -> (c a, b / c)`` is a
        symmetry (the gauge).
    residuals : tuple of sympy.Expr
        The per-unit fixed-point residuals, for reference.
    """

    lam0: sympy.Integer
    nodes: tuple
    inert: tuple
    arguments: tuple
    transfer: sympy.Matrix
    groups: tuple
    order_parameters: tuple
    multipliers: tuple
    a: tuple
    b: tuple
    residuals: tuple

    @property
    def K(self) -> int:
        return len(self.nodes)

    @property
    def group_of(self) -> tuple:
        """The group index of each active node."""
        out = [0] * self.K
        for g, members in enumerate(self.groups):
            for k in members:
                out[k] = g
        return tuple(out)

    def hermitized_matrix(self) -> sympy.Matrix:
        """``I + diag(a) T^T diag(b) T``, whose determinant is ``exp(2 psi)``."""
        A, B = sympy.diag(*self.a), sympy.diag(*self.b)
        return sympy.eye(self.K) + A * self.transfer.T * B * self.transfer

    def tilt(self) -> sympy.Expr:
        """``-sum_g qhat_g v_g^2``: the log of the constraint tilt of the site measure."""
        return -sum(qh * self.arguments[members[0]] ** 2 for qh, members in zip(self.multipliers, self.groups))

    def log_density(self) -> sympy.Expr:
        """Per-unit ``log prod_a N(eta_a; 0, q_a)`` at large N (``q_a`` the group's)."""
        out = sympy.Integer(0)
        for k, eta in enumerate(self.nodes):
            q = self.order_parameters[self.group_of[k]]
            out += -(eta**2) / (2 * q) - sympy.log(2 * sympy.pi * q) / 2
        return out

    def action(self, determinant: sympy.Expr | None = None) -> sympy.Expr:
        """``S(q, qhat, a, b)`` with the expectation left as ``E[...]`` (for display).

        ``determinant`` defaults to the unevaluated ``Determinant`` of
        :meth:`hermitized_matrix`; pass :func:`hermitized_determinant` for
        the explicit form.
        """
        det = sympy.Determinant(sympy.ImmutableMatrix(self.hermitized_matrix())) if determinant is None else determinant
        inside = sympy.exp(self.tilt()) * sympy.sqrt(det)
        linear = sum(qh * q for qh, q in zip(self.multipliers, self.order_parameters))
        return linear - sum(x * y for x, y in zip(self.a, self.b)) / 2 + sympy.log(EXPECT(inside))


def _active(arguments, nodes) -> list:
    """Indices of the active nodes: the largest set closed under 'some active
    argument depends on this node'."""
    active = set(range(len(nodes)))
    while True:
        keep = {k for k in active if any(arguments[j].has(nodes[k]) for j in active)}
        if keep == active:
            return sorted(active)
        active = keep


@cache
def kac_rice(cell: Cell) -> KacRice:
    """Derive the node-space Kac-Rice problem of ``cell``.

    Raises
    ------
    UnsupportedCellError
        When a state of the per-unit fixed point has no closed form (the
        node map then needs a per-unit Newton solve inside every integral,
        which is not implemented), or when no node is active.
    """
    fp = fixed_point(cell)
    if fp.numeric:
        names = ", ".join(str(s) for s in fp.numeric)
        raise UnsupportedCellError(
            f"the per-unit fixed point of cell '{cell.name}' has no closed form for {names}; "
            "the Kac-Rice complexity needs s*(eta) in closed form (write the update so that "
            "each state's fixed-point equation is affine in it)"
        )
    all_nodes = cell.nodes
    args = [tidy(fp.substitute(c.argument)) for c in cell.couplings]
    keep = _active(args, all_nodes)
    if not keep:
        raise UnsupportedCellError(
            f"no node of cell '{cell.name}' feeds back into the fixed-point equations; "
            "its fixed point is unique and there is nothing to count"
        )
    nodes = tuple(all_nodes[k] for k in keep)
    inert = tuple(n for k, n in enumerate(all_nodes) if k not in keep)
    arguments = tuple(args[k] for k in keep)
    transfer = sympy.Matrix(len(nodes), len(nodes), lambda i, j: arguments[i].diff(nodes[j]))
    groups: list = []
    for k, v in enumerate(arguments):
        for members in groups:
            if sympy.simplify(arguments[members[0]] - v) == 0:
                members.append(k)
                break
        else:
            groups.append([k])
    order_parameters = tuple(order_parameter(nodes[m[0]]) for m in groups)
    multipliers = tuple(real_symbol("qhat" + _label(nodes[m[0]])) for m in groups)
    a = tuple(sympy.Symbol("a" + _label(n), nonnegative=True) for n in nodes)
    b = tuple(sympy.Symbol("b" + _label(n), nonnegative=True) for n in nodes)
    return KacRice(
        lam0=slow_point(cell),
        nodes=nodes,
        inert=inert,
        arguments=arguments,
        transfer=transfer,
        groups=tuple(tuple(m) for m in groups),
        order_parameters=order_parameters,
        multipliers=multipliers,
        a=a,
        b=b,
        residuals=fp.residuals,
    )


def transfer_from_pencil(cell: Cell) -> sympy.Matrix:
    """``T = C (lambda0 - A)^(-1) B + E`` at the fixed point, over the active nodes.

    The same matrix as :attr:`KacRice.transfer`, derived the other way: by
    eliminating ``delta s`` from the linear pencil at the slow point. The
    two agree identically (the tests check it); this one shows that
    ``det(lambda0 - Jac) = prod_i det(lambda0 - A_i) det(I - J T)``.
    """
    kr = kac_rice(cell)
    fp = fixed_point(cell)
    pen = jacobian_pencil(cell)
    index = [cell.nodes.index(n) for n in kr.nodes]
    shifted = kr.lam0 * sympy.eye(cell.m) - pen.A
    full = pen.C * shifted.inv() * pen.B + pen.E
    return sympy.Matrix(kr.K, kr.K, lambda i, j: fp.substitute(full[index[i], index[j]]))


@cache
def hermitized_determinant(cell: Cell) -> sympy.Expr:
    """``det(I + diag(a) T^T diag(b) T)``: a polynomial in ``(a, b)`` with factored coefficients (cached)."""
    kr = kac_rice(cell)
    gens = kr.a + kr.b
    poly = sympy.Poly(sympy.expand(kr.hermitized_matrix().det(method="berkowitz")), *gens)
    # A polynomial in (a, b) whose coefficients are factored: the GRU's reads
    # 1 + a_h b_r phi'^2 + ... rather than a flat sum of twenty terms.
    return sympy.Add(
        *(sympy.factor(c) * sympy.Mul(*(x**e for x, e in zip(gens, powers))) for powers, c in poly.terms())
    )


@cache
def stationarity_equations(cell: Cell) -> tuple:
    """The equations ``dS = 0`` as ``sympy.Eq``, averages under the tilted measure.

    Form (``E_mu`` the average under ``mu* ∝ N(eta; 0, q) exp(-sum qhat v^2) det^(1/2)``):

    - ``q_g = E_mu[v_g^2]`` (from ``dS/dqhat_g``);
    - ``qhat_g = sum_{a in g} (1 - E_mu[eta_a^2] / q_g) / (2 q_g)`` (from ``dS/dq_g``);
    - ``b_c = E_mu[d log det / d a_c]``, ``a_c = E_mu[d log det / d b_c]``
      (from ``dS/da_c``, ``dS/db_c``), which are
      ``(W Mm^-1)_cc`` and ``(T Mm^-1 diag(a) T^T)_cc`` with
      ``W = T^T diag(b) T`` and ``Mm = I + diag(a) W``.

    One of the last 2K is implied by the others (the gauge).
    """
    kr = kac_rice(cell)
    det = hermitized_determinant(cell)
    out = []
    for q, members in zip(kr.order_parameters, kr.groups):
        out.append(sympy.Eq(q, TILTED(kr.arguments[members[0]] ** 2)))
    for qh, q, members in zip(kr.multipliers, kr.order_parameters, kr.groups):
        rhs = sum((1 - TILTED(kr.nodes[k] ** 2) / q) / (2 * q) for k in members)
        out.append(sympy.Eq(qh, rhs))
    for x, y in zip(kr.a, kr.b):
        out.append(sympy.Eq(y, TILTED(sympy.factor_terms(det.diff(x)) / det)))
    for x, y in zip(kr.a, kr.b):
        out.append(sympy.Eq(x, TILTED(sympy.factor_terms(det.diff(y)) / det)))
    return tuple(out)
