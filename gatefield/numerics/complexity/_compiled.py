"""Generated numpy functions of a cell's node-space Kac-Rice problem.

:func:`compile_kac_rice` turns :func:`gatefield.theory.complexity.kac_rice`
into one generated function of the active nodes and the parameters that
returns every group's argument ``v_g(eta)`` and every entry of the transfer
matrix ``T(eta)``; the rest (determinants, inverses) is numpy linear algebra
on the ``K x K`` matrices, so any number of nodes works.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ...theory.complexity import KacRice, kac_rice
from ...theory.spec import Cell
from ..codegen import GeneratedFunction, compile_cell, generate

__all__ = ["CompiledKacRice", "compile_kac_rice"]

#: ``|v_a(0)|`` below this counts as zero: eta = 0 is then a fixed point of
#: every network (the deterministic zero of the count). Arguments are O(1)
#: functions, so 1e-12 is round-off.
ZERO_ATOL = 1e-12


@dataclass(frozen=True)
class CompiledKacRice:
    """The numpy side of :class:`~gatefield.theory.complexity.KacRice`.

    Attributes
    ----------
    kac_rice : KacRice
    nodes : tuple of str
        Active node names (the order of ``T``'s rows and columns).
    couplings : tuple of str
        Their coupling names.
    inert : tuple of str
        Nodes that drop out of the count.
    groups, group_of : tuple
        As in :class:`KacRice`.
    node_space : GeneratedFunction
        ``v_g`` for each group, then ``T_ab`` row-major, of the active
        nodes and the parameters.
    features : dict
        node name -> switch features (from :func:`compile_cell`), for the
        graded quadrature.
    """

    cell: Cell
    kac_rice: KacRice
    nodes: tuple
    couplings: tuple
    inert: tuple
    groups: tuple
    group_of: tuple
    node_space: GeneratedFunction
    features: dict

    @property
    def K(self) -> int:
        return len(self.nodes)

    @property
    def G(self) -> int:
        return len(self.groups)

    def evaluate(self, eta: np.ndarray, values: dict) -> tuple:
        """``V`` (G, ...) and ``T`` (K, K, ...) at node values ``eta`` (K, ...)."""
        env = dict(values)
        env.update(zip(self.nodes, eta))
        out = self.node_space(env)
        G, K = self.G, self.K
        V = np.stack(out[:G])
        T = np.stack(out[G:]).reshape((K, K) + V.shape[1:])
        return V, T

    def arguments(self, eta: np.ndarray, values: dict) -> np.ndarray:
        """``v_a(eta)`` for every active node (K, ...), groups expanded."""
        V, _ = self.evaluate(eta, values)
        return V[list(self.group_of)]

    def zero_is_fixed_point(self, values: dict) -> bool:
        """Whether ``eta = 0`` is a zero of the node map for every network."""
        V, _ = self.evaluate(np.zeros((self.K, 1)), values)
        return bool(np.all(np.abs(V) < ZERO_ATOL))


@cache
def compile_kac_rice(cell: Cell) -> CompiledKacRice:
    """Generate the node-space functions of ``cell`` (cached per cell)."""
    kr = kac_rice(cell)
    params = cell.parameter_symbols
    exprs = [kr.arguments[m[0]] for m in kr.groups] + list(kr.transfer)
    fn = generate("kac_rice_node_space", exprs, tuple(kr.nodes) + tuple(params))
    compiled = compile_cell(cell)
    names = tuple(n.name for n in kr.nodes)
    couplings = tuple(compiled.couplings[compiled.nodes.index(n)] for n in names)
    return CompiledKacRice(
        cell=cell,
        kac_rice=kr,
        nodes=names,
        couplings=couplings,
        inert=tuple(n.name for n in kr.inert),
        groups=kr.groups,
        group_of=kr.group_of,
        node_space=fn,
        features={n: compiled.features.get(n, ()) for n in names},
    )
