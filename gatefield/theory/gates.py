"""Gates that freeze units, found from the cell (docs/theory/4-support.md#atoms).

A gate that is exactly closed (or exactly open) can cut a unit's update off
from every node input. Those state components then have constant rows in the
Jacobian, ``s_S' = F_S(s_S)``, so the eigenvalues of ``dF_S/ds_S`` are exact
eigenvalues of the whole Jacobian: point masses (atoms) in the spectrum, of
weight ``P(gates in that position) * |S| / m``. A sigmoid gate is never exactly
closed, but as its gain grows at fixed bias it closes on a set of
probability that tends to ``P(argument < 0)``; this module finds, from the
update rule alone, which gate positions freeze what.

GRU (``h' = (1 - z) h + z h_tilde``): ``z = 0`` freezes ``h`` with
``dF/dh = 1``, an atom at the slow point 1. LSTM: ``o = 0`` freezes ``h``
(``h' = 0``, an atom at 0) and ``f = 1, i = 0`` freezes ``c`` (``c' = c``, an
atom at 1).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from .functions import sigmoid
from .spec import Cell

__all__ = ["Gate", "FrozenBlock", "gates", "frozen_blocks", "binary_states", "whisker_nodes"]

#: Assignments tried: every gate free, 0 or 1, so 3^G - 1 of them. Cells with
#: more gates than this in their updates are searched one and two gates at a
#: time only.
MAX_EXHAUSTIVE = 6


@dataclass(frozen=True)
class Gate:
    """A sigmoid in the update rule, ``sigmoid(argument)``.

    Attributes
    ----------
    expression : sympy.Expr
        The ``sigmoid(...)`` sub-expression as it appears in the updates.
    argument : sympy.Expr
    name : str
        The definition's name if the cell defines it (``z``), else the
        expression printed.
    node : sympy.Symbol or None
        If the argument is ``slope * node + offset`` with slope and offset
        free of states and nodes, that node; else None.
    slope, offset : sympy.Expr or None
        As above (parameters only).
    """

    expression: sympy.Expr
    argument: sympy.Expr
    name: str
    node: sympy.Symbol | None
    slope: sympy.Expr | None
    offset: sympy.Expr | None


@dataclass(frozen=True)
class FrozenBlock:
    """State components cut off from every node by gates in given positions.

    Attributes
    ----------
    positions : dict
        Gate name -> 0 or 1: the positions (closed/open) that freeze.
    states : tuple of sympy.Symbol
        The frozen components ``S``.
    jacobian : sympy.Matrix
        ``dF_S/ds_S`` with the gates in those positions: its eigenvalues are
        the atoms' locations (constant if it holds no symbol but parameters).
    """

    positions: dict
    states: tuple
    jacobian: sympy.Matrix

    def describe(self) -> str:
        where = ", ".join(f"{g} = {v}" for g, v in self.positions.items())
        return f"{where} freezes {', '.join(str(s) for s in self.states)} (dF/ds = {list(self.jacobian)})"


def _name(expr, definitions) -> str:
    for symbol, value in definitions:
        if value == expr:
            return str(symbol)
    return str(expr)


@functools.lru_cache(maxsize=64)
def gates(cell: Cell) -> tuple:
    """The distinct sigmoid gates in the cell's update rule, in a stable order."""
    found = []
    for F in cell.updates:
        for expr in sympy.preorder_traversal(F):
            if isinstance(expr, sigmoid) and expr not in found:
                found.append(expr)
    # Definitions as written may refer to earlier ones; expand them so they
    # compare equal to the sub-expressions of the (expanded) updates.
    expanded = []
    for symbol, value in cell.definitions:
        expanded.append((symbol, value.xreplace(dict(expanded))))
    out = []
    for expr in found:
        arg = expr.args[0]
        node = slope = offset = None
        present = [n for n in cell.nodes if arg.has(n)]
        if len(present) == 1 and not any(arg.has(s) for s in cell.states):
            candidate = present[0]
            poly = sympy.Poly(arg, candidate) if arg.is_polynomial(candidate) else None
            if poly is not None and poly.degree() == 1:
                node, slope, offset = candidate, poly.coeff_monomial(candidate), poly.coeff_monomial(1)
        out.append(Gate(expr, arg, _name(expr, expanded), node, slope, offset))
    return tuple(sorted(out, key=lambda g: g.name))


def _frozen_states(cell: Cell, updates: list) -> list:
    """Largest set S of states whose updates depend on no node and on no
    state outside S."""
    # Substituting 0 or 1 for a gate cancels the terms it multiplies
    # automatically (0 * x -> 0), so a node that is still present almost
    # always matters; its derivative decides.
    frozen = [s for s, F in zip(cell.states, updates) if all(sympy.diff(F, n) == 0 for n in cell.nodes if F.has(n))]
    changed = True
    while changed:
        changed = False
        for s, F in zip(cell.states, updates):
            if s in frozen and any(F.has(t) for t in cell.states if t not in frozen):
                frozen.remove(s)
                changed = True
    return frozen


@functools.lru_cache(maxsize=64)
def frozen_blocks(cell: Cell) -> tuple:
    """Every minimal gate position that freezes some state components.

    Returns
    -------
    tuple of FrozenBlock
        Minimal: a position that extends another one and freezes nothing
        more is left out.
    """
    found = gates(cell)
    if not found:
        return ()
    if len(found) <= MAX_EXHAUSTIVE:
        choices: Iterable = itertools.product((None, 0, 1), repeat=len(found))
    else:
        choices = (
            c
            for r in (1, 2)
            for idx in itertools.combinations(range(len(found)), r)
            for vals in itertools.product((0, 1), repeat=r)
            for c in [tuple(vals[idx.index(k)] if k in idx else None for k in range(len(found)))]
        )
    blocks = []
    for choice in sorted(choices, key=lambda c: sum(v is not None for v in c)):
        if all(v is None for v in choice):
            continue
        positions = {g.name: v for g, v in zip(found, choice) if v is not None}
        replace = {g.expression: sympy.Integer(v) for g, v in zip(found, choice) if v is not None}
        updates = [F.xreplace(replace) for F in cell.updates]
        frozen = _frozen_states(cell, updates)
        if not frozen:
            continue
        if any(set(b.positions.items()) <= set(positions.items()) and set(frozen) <= set(b.states) for b in blocks):
            continue
        index = [cell.states.index(s) for s in frozen]
        jac = sympy.Matrix([[sympy.diff(updates[i], cell.states[j]) for j in index] for i in index])
        blocks.append(FrozenBlock(positions, tuple(frozen), jac))
    return tuple(blocks)


#: Most gates :func:`binary_states` enumerates (2^G positions).
MAX_BINARY = 12


@functools.lru_cache(maxsize=64)
def binary_states(cell: Cell) -> tuple:
    """Every gate shut or open: what each of the ``2^G`` positions freezes.

    This is the spectrum's atomic part in the limit where every gate is a
    step (gain to infinity at a fixed threshold): a unit whose gates sit in
    ``positions`` has the frozen components ``states``, contributing the
    eigenvalues ``eigenvalues`` (with multiplicity) exactly.

    Returns
    -------
    tuple of (positions, states, eigenvalues)
        ``positions``: dict gate name -> 0/1; ``states``: frozen components;
        ``eigenvalues``: list of SymPy expressions (empty if nothing is
        frozen).
    """
    found = gates(cell)
    if len(found) > MAX_BINARY:
        raise ValueError(f"the cell has {len(found)} gates; binary positions are enumerated for at most {MAX_BINARY}")
    out = []
    for choice in itertools.product((0, 1), repeat=len(found)):
        positions = {g.name: v for g, v in zip(found, choice)}
        updates = [F.xreplace({g.expression: sympy.Integer(v) for g, v in zip(found, choice)}) for F in cell.updates]
        frozen = _frozen_states(cell, updates)
        eigenvalues = []
        if frozen:
            index = [cell.states.index(s) for s in frozen]
            jac = sympy.Matrix([[sympy.diff(updates[i], cell.states[j]) for j in index] for i in index])
            for value, count in jac.eigenvals().items():
                eigenvalues.extend([value] * count)
        out.append((positions, tuple(frozen), eigenvalues))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def whisker_nodes(cell: Cell) -> tuple:
    """Nodes that move the units' own eigenvalues at a fixed point.

    The eigenvalues of ``A = dF/ds`` with the fixed point ``s*(eta)``
    substituted form the real whiskers of the spectrum (GRU: ``1 - z``, so
    ``eta_z``; LSTM: ``f`` and 0, so ``eta_f``). Every node, if the
    eigenvalues have no closed form or a state has no closed form.
    """
    from .derive import fixed_point, jacobian_pencil

    fp = fixed_point(cell)
    A = jacobian_pencil(cell).A.xreplace(dict(fp.solution))
    try:
        eigenvalues = list(A.eigenvals())
    except (NotImplementedError, sympy.MatrixError, ValueError):
        return tuple(n.name for n in cell.nodes)
    names = {s.name for e in eigenvalues for s in e.free_symbols}
    if fp.numeric and any(s.name in names for s in fp.numeric):
        return tuple(n.name for n in cell.nodes)
    return tuple(n.name for n in cell.nodes if n.name in names)
