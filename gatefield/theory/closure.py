"""Recognising cells whose single unit closes on one Gaussian variable.

When the unit of a cell is driven linearly by one Gaussian field and relaxes
linearly, the stationary DMFT closes on *one* correlation function and needs
no sampling (``docs/theory/6-dmft.md#gaussian-closure``). Two forms are
recognised, after the parameter values are substituted (so a gate with zero
gain counts as a constant):

**Form A** (rate networks), with ``s`` Gaussian::

    ds/dt = -k s + c eta + b        or   s' = a s + c eta + b,      eta = J @ w(s)

**Form B** (constant update gate, e.g. ``cgru`` with ``alpha_z = alpha_r = 0``,
or the vanilla map), with ``eta`` Gaussian::

    ds/dt = -k s + W(eta)           or   s' = a s + W(eta),          eta = J @ (sigma s)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..errors import UnsupportedCellError
from .spec import Cell

__all__ = ["Closure", "gaussian_closure", "affine_arguments"]


@dataclass(frozen=True)
class Closure:
    """The reduction of a cell to one Gaussian variable ``u``.

    Attributes
    ----------
    form : {"A", "B"}
        "A": the state is Gaussian (rate networks); "B": the field is
        Gaussian (the state is a linear filter of ``W(eta)``).
    time : {"discrete", "continuous"}
    leak : float
        ``k`` of ``ds/dt = -k s + ...`` (continuous) or ``a`` of ``s' = a s + ...``.
    gain : float
        ``G``: ``c`` (form A) or ``sigma`` (form B).
    mean : float
        Mean ``m`` of ``u``.
    coupling : str
        The one coupling that drives the unit.
    state : str
        The cell's state.
    variable : sympy.Symbol
        ``u``: the state (A) or the live node (B).
    expression : sympy.Expr
        ``w(u)``, parameters substituted.
    switches : tuple of (slope, offset)
        Arguments ``slope * u + offset`` of the saturating functions in ``w``.
    """

    form: str
    time: str
    leak: float
    gain: float
    mean: float
    coupling: str
    state: str
    variable: sympy.Symbol
    expression: sympy.Expr
    switches: tuple = ()


def _number(expr) -> float | None:
    """The value of a constant expression, or None when it depends on a symbol."""
    if not isinstance(expr, sympy.Basic):  # a plain number (never a string: nothing is parsed here)
        return float(expr)
    if expr.free_symbols:
        return None
    value = complex(expr)
    return value.real if value.imag == 0 else None


def affine_arguments(expr, u) -> tuple:
    """``(slope, offset)`` of every function argument of ``expr`` that is affine in ``u``
    with numeric coefficients."""
    found = set()
    for fn in expr.atoms(sympy.Function, sympy.Abs, sympy.Heaviside):
        for arg in fn.args:
            slope = _number(arg.diff(u))
            offset = _number(arg.xreplace({u: 0}))
            if slope and offset is not None:
                found.add((slope, offset))
    return tuple(sorted(found))


def gaussian_closure(cell: Cell, values: dict) -> Closure:
    """Recognise form A or B (module docstring) in ``cell`` at parameter ``values``.

    Raises
    ------
    UnsupportedCellError
        When the cell has neither form; the sampling DMFT handles any cell.
    """
    subs = {p: sympy.Float(values[str(p)]) for p in cell.parameter_symbols}
    if len(cell.states) != 1:
        raise UnsupportedCellError(
            f"cell '{cell.name}' has {len(cell.states)} states; the Gaussian closure handles one-state cells "
            "only, so solve the DMFT problem (sampling) instead"
        )
    s = cell.states[0]
    U = sympy.expand(cell.updates[0].xreplace(subs))
    live = [cp for cp in cell.couplings if U.has(cp.node)]
    if len(live) != 1:
        raise UnsupportedCellError(
            f"the update of cell '{cell.name}' depends on {len(live)} coupled fields at these parameters; the "
            "Gaussian closure needs exactly one, so solve the DMFT problem (sampling) instead"
        )
    cp = live[0]
    eta = cp.node
    A = cp.argument.xreplace(subs)
    if not A.free_symbols <= {s}:
        raise UnsupportedCellError(
            f"the argument of coupling '{cp.matrix}' in cell '{cell.name}' depends on more than the state; "
            "the Gaussian closure cannot close it, so solve the DMFT problem (sampling) instead"
        )
    leak = _number(U.diff(s))
    continuous = cell.time == "continuous"

    def finish(form, gain, mean, variable, w_expr):
        if continuous and not leak < 0:
            raise UnsupportedCellError(
                f"cell '{cell.name}' has no leak (ds/dt = {leak} s + ...); the Gaussian closure needs "
                "ds/dt = -k s + ... with k > 0"
            )
        if not continuous and not abs(leak) < 1:
            raise UnsupportedCellError(
                f"cell '{cell.name}' has s' = {leak} s + ...; the Gaussian closure needs |a| < 1 for a stationary state"
            )
        k = -leak if continuous else leak
        return Closure(
            form,
            cell.time,
            float(k),
            float(gain),
            float(mean),
            cp.matrix,
            str(s),
            variable,
            w_expr,
            affine_arguments(w_expr, variable),
        )

    if leak is not None:
        c = _number(U.diff(eta))
        rest = U - leak * s - (c if c is not None else 0) * eta
        if c is not None and c != 0 and not rest.has(s) and not rest.has(eta):
            b = _number(rest)
            if b is not None:
                mean = b / (-leak) if continuous else b / (1 - leak)
                if A.has(s):
                    return finish("A", c, mean, s, A)
        sigma = _number(A.diff(s))
        W = U - leak * s
        if sigma and _number(A - sigma * s) == 0 and not W.has(s):
            return finish("B", sigma, 0.0, eta, W)
    raise UnsupportedCellError(
        f"cell '{cell.name}' is neither ds = -k s + c J@w(s) + b nor ds = -k s + W(J@(sigma s)) at these "
        "parameters; solve the DMFT problem (sampling) for it"
    )
