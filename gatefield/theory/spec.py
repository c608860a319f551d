"""Cell specifications: the one object every derivation starts from.

A cell is N units, each carrying a state vector ``s`` (m components), coupled
through K random matrices ``J_a`` (entries iid N(0, 1/N)). Each matrix appears
in exactly one product node ``eta_a = J_a v_a`` where ``v_a`` is an elementwise
expression of the unit's state and of earlier nodes. The update rule is
``s_next = F(s, eta)`` (discrete time) or ``ds/dt = F(s, eta)`` (continuous
time). See docs/theory/1-model.md.

Cells are built with :class:`CellBuilder` (the Python API) or parsed from a
TOML file (:mod:`gatefield.io.cellfile`), which uses the same builder.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from .. import _checks
from ..errors import SpecError
from .functions import FUNCTIONS

__all__ = ["Cell", "Coupling", "CellBuilder", "node_name"]

TIMES = ("discrete", "continuous")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Names the package itself uses: the spectral variable, order parameters,
# and names that generated numpy code relies on.
_RESERVED = {
    "lam",
    "N",
    "numpy",
    "np",
    "scipy",
    "math",
    "builtins",
    "I",
    "E",
    "pi",
    "oo",
    "nan",
    "inf",
    "S",
    "Heaviside",
}


def node_name(coupling: str) -> str:
    """The node symbol's name for a coupling: ``J_z -> eta_z``, ``J -> eta``,
    ``W -> eta_W``."""
    if coupling == "J":
        return "eta"
    if coupling.startswith("J_"):
        return "eta_" + coupling[2:]
    return "eta_" + coupling


def real_symbol(name: str) -> sympy.Symbol:
    """All cell quantities are real; declaring it lets SymPy differentiate
    ``abs`` and ``sqrt`` without complex parts."""
    return sympy.Symbol(name, real=True)


@dataclass(frozen=True)
class Coupling:
    """One product node ``node = matrix @ argument``.

    Attributes
    ----------
    matrix : str
        The coupling matrix's name, e.g. ``"J_z"``.
    node : sympy.Symbol
        The node value, e.g. ``eta_z``.
    argument : sympy.Expr
        ``v_a``: an elementwise expression of states, parameters and earlier
        nodes (intermediate definitions already substituted).
    """

    matrix: str
    node: sympy.Symbol
    argument: sympy.Expr


@dataclass(frozen=True)
class Cell:
    """A random gated cell: a frozen, validated value.

    Build one with :class:`CellBuilder` or :func:`gatefield.load_cell`; change
    a default with :meth:`with_defaults`.

    Attributes
    ----------
    name : str
    time : {"discrete", "continuous"}
    states : tuple of sympy.Symbol
        The per-unit state components ``s`` (m of them).
    parameters : tuple of (sympy.Symbol, float)
        Parameters and their defaults, in declaration order.
    couplings : tuple of Coupling
        The K product nodes, in dependency order.
    definitions : tuple of (sympy.Symbol, sympy.Expr)
        Intermediate definitions as written (they may refer to earlier
        definitions), kept for display and LaTeX.
    updates : tuple of sympy.Expr
        ``F_s(s, eta)`` for each state, definitions substituted.
    description : str
        What the cell is and its conventions.
    """

    name: str
    time: str
    states: tuple
    parameters: tuple
    couplings: tuple
    definitions: tuple
    updates: tuple
    description: str = ""

    @property
    def nodes(self) -> tuple:
        """The node symbols ``eta_a`` in order."""
        return tuple(c.node for c in self.couplings)

    @property
    def parameter_symbols(self) -> tuple:
        return tuple(p for p, _ in self.parameters)

    @property
    def defaults(self) -> dict:
        """Parameter defaults by name."""
        return {str(p): v for p, v in self.parameters}

    @property
    def m(self) -> int:
        """Number of state components per unit."""
        return len(self.states)

    @property
    def K(self) -> int:
        """Number of coupling matrices (product nodes)."""
        return len(self.couplings)

    def resolve(self, overrides: dict | None = None) -> dict:
        """Parameter values by name: the defaults with ``overrides`` applied.

        Raises
        ------
        SpecError
            If an override names no parameter of this cell or is not finite.
        """
        values = self.defaults
        if overrides is not None and not isinstance(overrides, Mapping):
            raise SpecError(
                f"parameter overrides of cell '{self.name}' must be a mapping of names to numbers, such as "
                f"{{'{next(iter(values), 'g')}': 1.0}}; got {type(overrides).__name__}"
            )
        for key, value in (overrides or {}).items():
            if key not in values:
                known = ", ".join(values) or "none"
                raise SpecError(f"cell '{self.name}' has no parameter '{key}'; its parameters are: {known}")
            values[key] = _checks.number(value, f"parameter '{key}'", SpecError)
        return values

    def with_defaults(self, **values) -> Cell:
        """A copy of the cell whose defaults are replaced by ``values``."""
        resolved = self.resolve(values)
        params = tuple((p, resolved[str(p)]) for p, _ in self.parameters)
        return Cell(
            self.name,
            self.time,
            self.states,
            params,
            self.couplings,
            self.definitions,
            self.updates,
            self.description,
        )

    def __repr__(self) -> str:
        return (
            f"Cell(name={self.name!r}, time={self.time!r}, "
            f"states={[str(s) for s in self.states]}, "
            f"couplings={[c.matrix for c in self.couplings]})"
        )


class CellBuilder:
    """Builds a :class:`Cell` step by step, checking each step.

    Examples
    --------
    A minimal gated unit (MGU)::

        b = CellBuilder("mgu", time="discrete")
        h = b.state("h")
        alpha_f, beta_f = b.parameter("alpha_f", 1.0), b.parameter("beta_f", 0.0)
        g_h, beta_h = b.parameter("g_h", 2.0), b.parameter("beta_h", 0.0)
        f = b.define("f", sigmoid(alpha_f * b.couple("J_f", h) + beta_f))
        h_tilde = b.define("h_tilde", tanh(g_h * b.couple("J_h", f * h) + beta_h))
        b.update(h, (1 - f) * h + f * h_tilde)
        cell = b.build()

    Notes
    -----
    ``couple(matrix, argument)`` returns the node symbol ``eta``; the argument
    may use states, parameters, definitions and earlier nodes. Every name is a
    plain identifier; a name is declared once.
    """

    def __init__(self, name: str, time: str = "discrete", description: str = ""):
        if time not in TIMES:
            raise SpecError(f"cell time must be 'discrete' or 'continuous', got {time!r}")
        if not isinstance(name, str) or not _IDENTIFIER.match(name.replace("-", "_")):
            raise SpecError(f"cell name {name!r} must be a plain identifier (letters, digits, _ or -)")
        self.name = name
        self.time = time
        self.description = description
        self._states: list = []
        self._params: list = []
        self._couplings: list = []
        self._definitions: list = []  # (symbol, expression as written)
        self._expanded: dict = {}  # definition symbol -> expression in states/params/nodes
        self._updates: dict = {}
        self._names: dict = {}  # name -> kind

    # -- declarations -------------------------------------------------------

    def _claim(self, name: str, kind: str, where: str) -> None:
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise SpecError(
                f"{where}: {name!r} is not a valid name; use letters, digits and _ , starting with a letter"
            )
        if keyword.iskeyword(name) or name in _RESERVED or name in FUNCTIONS:
            raise SpecError(f"{where}: the name '{name}' is reserved; choose another name")
        if name in self._names:
            raise SpecError(
                f"{where}: '{name}' is already declared as a {self._names[name]}; each name may be declared once"
            )
        self._names[name] = kind

    def state(self, name: str) -> sympy.Symbol:
        """Declare a state component; returns its symbol."""
        self._claim(name, "state", f"state '{name}'")
        sym = real_symbol(name)
        self._states.append(sym)
        return sym

    def parameter(self, name: str, default: float) -> sympy.Symbol:
        """Declare a parameter with its default value; returns its symbol."""
        self._claim(name, "parameter", f"parameter '{name}'")
        value = _checks.number(default, f"parameter '{name}': the default", SpecError)
        sym = real_symbol(name)
        self._params.append((sym, value))
        return sym

    def couple(self, matrix: str, argument, where: str | None = None) -> sympy.Symbol:
        """Declare the product node ``matrix @ argument``; returns the node symbol.

        Each matrix may be used once (docs/theory/1-model.md).
        """
        where = where or f"coupling '{matrix}'"
        if matrix in self._names and self._names[matrix] == "coupling":
            raise SpecError(
                f"{where}: the coupling matrix '{matrix}' is used twice; each matrix may "
                "appear in one product only, so give the second use its own name"
            )
        self._claim(matrix, "coupling", where)
        node = node_name(matrix)
        self._claim(node, "node", where)
        argument = self._expand(argument, where)
        sym = real_symbol(node)
        self._couplings.append(Coupling(matrix, sym, argument))
        return sym

    def define(self, name: str, expression, where: str | None = None) -> sympy.Symbol:
        """Declare an elementwise intermediate definition; returns its symbol."""
        where = where or f"definition '{name}'"
        self._claim(name, "definition", where)
        expanded = self._expand(expression, where)
        sym = real_symbol(name)
        self._definitions.append((sym, expression))
        self._expanded[sym] = expanded
        return sym

    def update(self, state, expression, where: str | None = None) -> None:
        """Give a state's update: its next value (discrete) or time derivative
        (continuous)."""
        name = str(state)
        where = where or f"update of '{name}'"
        if self._names.get(name) != "state":
            raise SpecError(f"{where}: '{name}' is not a declared state; declare it first")
        sym = real_symbol(name)
        if sym in self._updates:
            raise SpecError(f"{where}: state '{name}' has two updates; give it exactly one")
        self._updates[sym] = self._expand(expression, where)

    # -- checks ----------------------------------------------------------------

    def _expand(self, expression, where: str) -> sympy.Expr:
        """Substitute definitions and check that every symbol is declared."""
        if isinstance(expression, (int, float)):
            number = sympy.Float if isinstance(expression, float) else sympy.Integer
            expression = number(expression)
        if not isinstance(expression, sympy.Expr):
            raise SpecError(f"{where}: expected a SymPy expression, got {type(expression).__name__}")
        expression = expression.xreplace(self._expanded)
        for sym in expression.free_symbols:
            kind = self._names.get(sym.name)
            if kind is None:
                raise SpecError(
                    f"{where}: '{sym.name}' is not defined above this line; declare it or define it before it is used"
                )
            if kind == "coupling":
                raise SpecError(f"{where}: the coupling '{sym.name}' may only appear as '{sym.name} @ (...)'")
        for fn in expression.atoms(sympy.Function):
            if type(fn) not in FUNCTIONS.values() and not isinstance(fn, sympy.Heaviside):
                raise SpecError(
                    f"{where}: function '{type(fn).__name__}' is not supported; use one of {', '.join(FUNCTIONS)}"
                )
        # Make every symbol real so derivatives of abs/sqrt stay real.
        return expression.xreplace({s: real_symbol(s.name) for s in expression.free_symbols})

    def build(self) -> Cell:
        """Check completeness and return the frozen :class:`Cell`."""
        if not self._states:
            raise SpecError(f"cell '{self.name}' declares no state; list at least one")
        missing = [str(s) for s in self._states if s not in self._updates]
        if missing:
            raise SpecError(f"state '{missing[0]}' has no update; add an equation '{missing[0]} = ...'")
        if not self._couplings:
            raise SpecError(f"cell '{self.name}' has no coupling; write at least one 'J @ (...)'")
        updates = tuple(self._updates[s] for s in self._states)
        return Cell(
            name=self.name,
            time=self.time,
            states=tuple(self._states),
            parameters=tuple(self._params),
            couplings=tuple(self._couplings),
            definitions=tuple(self._definitions),
            updates=updates,
            description=self.description,
        )
