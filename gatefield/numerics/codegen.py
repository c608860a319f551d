"""Code generation: the one place SymPy expressions become numpy functions.

``generate`` wraps :func:`sympy.lambdify` (common subexpressions eliminated
once over all outputs). Generated functions take their arguments **by symbol
name** from a mapping and describe themselves in their docstring.
``compile_cell`` generates everything the numerics and the simulator need
from one cell, once per cell (cached).

Safety: the code lambdify prints contains only the whitelisted functions
and dummy argument names (``dummify``: a cell's own names, which the spec
layer validated as plain identifiers, never reach the printed code, so a
parameter called ``select`` cannot shadow the ``select`` relu' calls), so
nothing a cell file says can name a Python object to run. Gate complements
``1 - sigmoid(u)`` are printed as ``sigmoid(-u)`` (:func:`stable_form`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special
import sympy

from ..errors import GatefieldError
from ..theory.derive import (
    fixed_point,
    fixed_point_map,
    jacobian_pencil,
    mean_field_equations,
    per_cell,
    support_matrix,
)
from ..theory.functions import sigmoid
from ..theory.gates import gates
from ..theory.spec import Cell

__all__ = ["GeneratedFunction", "generate", "CompiledCell", "compile_cell", "compile_fixed_point_map"]


def _softplus(x):
    return np.logaddexp(0.0, x)


def _relu(x):
    return np.maximum(x, 0.0)


#: numpy implementations of the functions SymPy does not print by itself.
NUMPY_FUNCTIONS = {"sigmoid": scipy.special.expit, "softplus": _softplus, "relu": _relu}


@dataclass(frozen=True)
class GeneratedFunction:
    """A numpy function generated from SymPy expressions.

    Call it with a mapping from symbol names to arrays (extra names are
    ignored); it returns one float array per expression, all broadcast to a
    common shape.
    """

    name: str
    arguments: tuple
    expressions: tuple
    function: Callable

    def __call__(self, values) -> list:
        try:
            # numpy scalars, so that overflow gives inf (and a clear error
            # downstream) instead of Python's OverflowError.
            args = [np.asarray(values[a], dtype=float) for a in self.arguments]
        except KeyError as missing:
            raise GatefieldError(
                f"{self.name} needs a value for {missing}; arguments: {', '.join(self.arguments)}"
            ) from None
        except (TypeError, ValueError) as bad:
            raise GatefieldError(f"{self.name} takes numbers or arrays of numbers for its arguments ({bad})") from None
        with np.errstate(all="ignore"):
            outputs = self.function(*args)
        outputs = [np.asarray(o, dtype=float) for o in outputs]
        shape = np.broadcast_shapes(*(np.shape(a) for a in args), *(o.shape for o in outputs))
        return [np.broadcast_to(o, shape) for o in outputs]

    def __post_init__(self):
        # The instance documents itself (help(), IPython's ``?``); the class
        # keeps its own docstring.
        object.__setattr__(self, "__doc__", self.describe())

    def describe(self) -> str:
        """The generated function's signature and the expressions it returns."""
        lines = [f"{self.name}({', '.join(self.arguments)})", "", "Returns, in order:"]
        lines += [f"  [{k}] {e}" for k, e in enumerate(self.expressions)]
        return "\n".join(lines)


def _is_unit(term, sign) -> bool:
    return term.is_Number and term == sign


def _complement(add):
    """``1 - sigmoid(u)`` as ``sigmoid(-u)`` (and ``sigmoid(u) - 1`` as
    ``-sigmoid(-u)``) inside one sum: the same number, computed without the
    cancellation that makes a saturated gate's complement exactly 0 in floats
    (a fixed point ``m = i c / (1 - f)`` would be ``0 / 0`` where ``f``
    rounds to 1, although ``sigmoid(-u)`` is still a normal number)."""
    terms = list(add.args)
    for sign in (1, -1):
        for k, term in enumerate(terms):
            if isinstance(-sign * term, sigmoid) and any(_is_unit(t, sign) for t in terms):
                unit = next(j for j, t in enumerate(terms) if _is_unit(t, sign))
                rest = [t for j, t in enumerate(terms) if j not in (k, unit)]
                return sympy.Add(sign * sigmoid(-(-sign * term).args[0]), *rest)
    return add


def stable_form(expr):
    """``expr`` with every gate complement written as a gate (:func:`_complement`)."""
    return expr.replace(lambda e: e.is_Add, _complement)


def generate(name: str, expressions, arguments) -> GeneratedFunction:
    """Generate one numpy function computing ``expressions`` of ``arguments``.

    Parameters
    ----------
    name : str
        Used in messages and the docstring.
    expressions : sequence of sympy.Expr
    arguments : sequence of sympy.Symbol
        The function's arguments; bound by name when it is called.
    """
    try:
        # strict: numbers and SymPy objects only; a string is never parsed (parsing evaluates it)
        expressions = tuple(stable_form(sympy.sympify(e, strict=True)) for e in expressions)
    except sympy.SympifyError as bad:
        raise GatefieldError(f"{name}: expressions must be SymPy expressions or numbers, not text ({bad})") from None
    arguments = tuple(arguments)
    fn = sympy.lambdify(
        arguments, list(expressions), modules=[NUMPY_FUNCTIONS, "scipy", "numpy"], cse=True, dummify=True
    )
    return GeneratedFunction(name, tuple(a.name for a in arguments), expressions, fn)


def _depends(expr, nodes) -> tuple:
    return tuple(n for n in nodes if expr.has(n))


@dataclass(frozen=True)
class Integral:
    """``E[prod of factor groups]``: each group a generated function of the
    nodes it depends on (separable factors integrated separately)."""

    groups: tuple  # of (nodes: tuple of names, GeneratedFunction)


@dataclass(frozen=True)
class MomentPlan:
    """How to integrate ``E[t_abp t_abp' | outer nodes]`` term by term.

    Each product ``t_abp t_abp'`` (fixed point substituted) is expanded into
    terms and each term into factor groups that share nodes; a group is
    integrated over its own non-outer nodes only, so a 4-node LSTM moment
    costs a few 1- and 2-dimensional integrals instead of one 4-dimensional.

    Attributes
    ----------
    groups : tuple of (node names, GeneratedFunction)
    slots : tuple of (entry, p, p')
        ``entry`` indexes the distinct rows of ``T``; p <= p'.
    terms : tuple
        For each slot, a tuple of terms, each a tuple of group indices.
    entry_of : tuple of int
        For each ``a*K + b``, its distinct entry.
    """

    groups: tuple
    slots: tuple
    terms: tuple
    entry_of: tuple


@dataclass(frozen=True)
class CompiledCell:
    """Every numpy function derived from one cell.

    Attributes
    ----------
    arguments : GeneratedFunction
        ``v_a`` for each node; node a may use earlier nodes' values.
    update : GeneratedFunction
        ``F`` for each state.
    pencil : GeneratedFunction
        ``A`` (m*m, row-major), ``B`` (m*K), ``C`` (K*m), ``E`` (K*K).
    fixed_state : GeneratedFunction or None
        Closed-form ``s*`` for the states solved symbolically.
    residual : GeneratedFunction
        The fixed-point residuals ``R(s, eta)`` and ``dR/ds`` (m*m).
    integrals : tuple of Integral
        One per distinct mean-field integrand.
    integral_of : tuple of int
        Which integral gives each order parameter.
    support : GeneratedFunction
        ``d_p`` (m+1) then ``T_abp`` (K*K*(m+1), row-major) at a site.
    support_nodes : tuple
        (outer, inner): at a fixed point, the nodes ``D(lam)`` depends on and
        the remaining nodes the coefficients depend on.
    pencil_nodes : tuple
        The nodes the pencil ``(A, B, C, E)`` depends on at a fixed point
        (every node when a state has no closed form).
    couplings : tuple
        The coupling names, in node order (``couplings[a]`` drives ``nodes[a]``).
    definitions : GeneratedFunction or None
        Every intermediate definition (gates, candidates), expanded, as
        functions of states, nodes and parameters.
    definition_names : tuple
        Their names, in declaration order.
    gate_names : tuple
        The definitions that are sigmoid gates of the update rule.
    moment_plan : MomentPlan or None
        Term-by-term integration of the support moments at a fixed point;
        None when a state has no closed form.
    features : dict
        node name -> tuple of GeneratedFunction giving (slope, offset) of
        every function argument affine in that node alone: where a gate or
        a nonlinearity switches, for quadrature breakpoints.
    """

    cell: Cell
    states: tuple
    nodes: tuple
    parameters: tuple
    arguments: GeneratedFunction
    update: GeneratedFunction
    pencil: GeneratedFunction
    fixed_state: GeneratedFunction | None
    solved_states: tuple
    numeric_states: tuple
    residual: GeneratedFunction
    integrals: tuple
    integral_of: tuple
    support: GeneratedFunction
    support_nodes: tuple
    pencil_nodes: tuple
    moment_plan: MomentPlan | None
    features: dict
    couplings: tuple
    definitions: GeneratedFunction | None
    definition_names: tuple
    gate_names: tuple

    def node_keyed(self, q: dict, what: str = "q") -> dict:
        """Order parameters keyed by coupling (``J_z``) re-keyed by node (``eta_z``).

        Raises :class:`~gatefield.errors.GatefieldError` naming the keys when
        one is missing or names a node instead of a coupling.
        """
        from ..errors import GatefieldError

        nodes_given = [k for k in q if k in self.nodes and k not in self.couplings]
        if nodes_given:
            raise GatefieldError(
                f"{what} is keyed by coupling name ({', '.join(self.couplings)}), not by node "
                f"({nodes_given[0]}); use {self.couplings[self.nodes.index(nodes_given[0])]!r}"
            )
        unknown = [k for k in q if k not in self.couplings]
        if unknown:
            raise GatefieldError(
                f"{what} names {unknown[0]!r}, which is not a coupling of cell '{self.cell.name}' "
                f"(its couplings: {', '.join(self.couplings)})"
            )
        missing = [c for c in self.couplings if c not in q]
        if missing:
            raise GatefieldError(f"{what} needs a value for every coupling; missing {', '.join(missing)}")
        return {n: q[c] for n, c in zip(self.nodes, self.couplings)}

    def coupling_keyed(self, q: dict) -> dict:
        """Node-keyed values (internal) re-keyed by coupling name."""
        return {c: q[n] for n, c in zip(self.nodes, self.couplings)}


def _features(exprs, nodes, params):
    """(node, slope, offset) for every function argument affine in one node."""
    found = {}
    for expr in exprs:
        for fn in expr.atoms(sympy.Function):
            for arg in fn.args:
                present = [n for n in nodes if arg.has(n)]
                if len(present) != 1:
                    continue
                node = present[0]
                slope = arg.diff(node)
                if slope.free_symbols - set(params):
                    continue
                offset = sympy.expand(arg - slope * node)
                if offset.free_symbols - set(params):
                    continue
                found.setdefault(node, set()).add((slope, offset))
    return {
        n.name: tuple(generate(f"feature_{n.name}", pair, params) for pair in sorted(pairs, key=str))
        for n, pairs in found.items()
    }


def _moment_plan(T, m, K, nodes, params):
    """Build the :class:`MomentPlan` of the fixed-point coefficients ``T``."""
    entries, entry_of = [], []
    for a in range(K):
        for b in range(K):
            row = tuple(T[a][b])
            if row not in entries:
                entries.append(row)
            entry_of.append(entries.index(row))
    groups, index = [], {}
    slots, terms = [], []
    for e, row in enumerate(entries):
        for p in range(m + 1):
            for pp in range(p, m + 1):
                product = sympy.expand(row[p] * row[pp], deep=False)
                slot_terms = []
                for term in sympy.Add.make_args(product):
                    if term == 0:
                        continue
                    ids = []
                    for deps, factor in _factor_groups(term, nodes):
                        key = (deps, factor)
                        if key not in index:
                            index[key] = len(groups)
                            groups.append(
                                (
                                    tuple(n.name for n in deps),
                                    generate("moment_factor", [factor], deps + params),
                                )
                            )
                        ids.append(index[key])
                    slot_terms.append(tuple(ids))
                slots.append((e, p, pp))
                terms.append(tuple(slot_terms))
    return MomentPlan(tuple(groups), tuple(slots), tuple(terms), tuple(entry_of))


def _factor_groups(expr, nodes):
    """Split a product into factors grouped by shared node dependence."""
    groups: list = []  # [set of nodes, list of factors]
    for factor in sympy.Mul.make_args(expr):
        deps = set(_depends(factor, nodes))
        merged = [g for g in groups if g[0] & deps]
        for g in merged:
            groups.remove(g)
            deps |= g[0]
        factors = [factor] + [f for g in merged for f in g[1]]
        groups.append([deps, factors])
    return [(tuple(n for n in nodes if n in deps), sympy.Mul(*factors)) for deps, factors in groups]


@per_cell
def compile_cell(cell: Cell) -> CompiledCell:
    """Derive and generate all numpy functions of ``cell`` (cached per cell)."""
    states, nodes, params = cell.states, cell.nodes, cell.parameter_symbols
    m, K = cell.m, cell.K
    everything = states + nodes + params
    pen = jacobian_pencil(cell)
    fp = fixed_point(cell)
    mf = mean_field_equations(cell)
    sm = support_matrix(cell)

    arguments = generate("node_arguments", [c.argument for c in cell.couplings], everything)
    update = generate("update", cell.updates, everything)
    pencil = generate("pencil", list(pen.A) + list(pen.B) + list(pen.C) + list(pen.E), everything)
    residual_matrix = sympy.Matrix(fp.residuals)
    residual = generate("residual", list(fp.residuals) + list(residual_matrix.jacobian(states)), everything)
    solved = tuple(s for s, _ in fp.solution)
    fixed_state = generate("fixed_state", [e for _, e in fp.solution], everything) if fp.solution else None

    integrals, integral_of, seen = [], [], {}
    for integrand in mf.integrands:
        if integrand not in seen:
            seen[integrand] = len(integrals)
            if fp.numeric:
                # States found numerically may depend on every node: no factoring.
                groups: tuple = ((tuple(n.name for n in nodes), generate("integrand", [integrand], everything)),)
            else:
                groups = tuple(
                    (tuple(n.name for n in deps), generate("integrand", [factor], deps + params))
                    for deps, factor in _factor_groups(integrand, nodes)
                )
            integrals.append(Integral(groups))
        integral_of.append(seen[integrand])

    coefficients = list(sm.D) + [sm.T[a][b][p] for a in range(K) for b in range(K) for p in range(m + 1)]
    support = generate("support_coefficients", coefficients, everything)
    at_fp_D = [fp.substitute(d) for d in sm.D]
    at_fp_T = [fp.substitute(t) for t in coefficients[m + 1 :]]
    if fp.numeric:
        outer = tuple(nodes)
    else:
        outer = tuple(n for n in nodes if any(d.has(n) for d in at_fp_D))
    inner = tuple(n for n in nodes if n not in outer and any(t.has(n) for t in at_fp_T))
    plan = None
    if not fp.numeric:
        T_fp = [[[fp.substitute(t) for t in sm.T[a][b]] for b in range(K)] for a in range(K)]
        plan = _moment_plan(T_fp, m, K, nodes, params)

    if fp.numeric:
        pencil_nodes = tuple(nodes)
    else:
        entries = [fp.substitute(e) for M in (pen.A, pen.B, pen.C, pen.E) for e in M]
        pencil_nodes = tuple(n for n in nodes if any(e.has(n) for e in entries))
    feature_exprs = list(mf.integrands) + at_fp_D + at_fp_T
    expanded, subs = [], {}
    for symbol, expr in cell.definitions:
        value = expr.xreplace(subs)
        subs[symbol] = value
        expanded.append(value)
    definitions = generate("definitions", expanded, everything) if expanded else None
    gate_names = {g.name for g in gates(cell)}
    return CompiledCell(
        cell=cell,
        states=tuple(s.name for s in states),
        nodes=tuple(n.name for n in nodes),
        parameters=tuple(p.name for p in params),
        arguments=arguments,
        update=update,
        pencil=pencil,
        fixed_state=fixed_state,
        solved_states=tuple(s.name for s in solved),
        numeric_states=tuple(s.name for s in fp.numeric),
        residual=residual,
        integrals=tuple(integrals),
        integral_of=tuple(integral_of),
        support=support,
        support_nodes=(tuple(n.name for n in outer), tuple(n.name for n in inner)),
        pencil_nodes=tuple(n.name for n in pencil_nodes),
        moment_plan=plan,
        features=_features(feature_exprs, nodes, params),
        couplings=tuple(c.matrix for c in cell.couplings),
        definitions=definitions,
        definition_names=tuple(str(sym) for sym, _ in cell.definitions),
        gate_names=tuple(name for name in (str(sym) for sym, _ in cell.definitions) if name in gate_names),
    )


@per_cell
def compile_fixed_point_map(cell: Cell) -> CompiledCell | None:
    """The compiled :func:`~gatefield.theory.derive.fixed_point_map` of ``cell``
    (None when no state has a closed form)."""
    reduced = fixed_point_map(cell)
    return None if reduced is None else compile_cell(reduced)
