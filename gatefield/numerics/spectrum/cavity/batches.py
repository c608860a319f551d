"""The data the cavity solver passes between its steps, over a batch of points.

Each field is an array with a *point axis* (declared in the field's
metadata), so that a batch can be cut down to the points still being solved
(:meth:`Batch.take`) and merged back (:meth:`Batch.put`). Shapes: ``P``
points, ``n`` sites, ``K`` active nodes, ``K_all`` all nodes, ``m`` states.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

import numpy as np

__all__ = ["Batch", "PointData", "Evaluation", "PairEvaluation", "Derivatives"]


def _points(axis: int):
    return field(default=None, metadata={"axis": axis})


class Batch:
    """Arrays over points; ``take`` and ``put`` act along each field's point axis
    (subclasses are dataclasses)."""

    __dataclass_fields__: ClassVar[dict]

    def take(self, index, only=None):
        """The points ``index`` (only the fields named in ``only``, the rest None)."""
        kw = {}
        for f in fields(self):
            value = getattr(self, f.name)
            keep = value is not None and (only is None or f.name in only)
            kw[f.name] = np.take(value, index, axis=f.metadata["axis"]) if keep else None
        return type(self)(**kw)

    def put(self, index, source, source_index) -> None:
        """``self[index] = source[source_index]`` along the point axis, in place."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            lead = (slice(None),) * f.metadata["axis"]
            value[lead + (index,)] = getattr(source, f.name)[lead + (source_index,)]

    def with_(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class PointData(Batch):
    """What deciding the support needs at each point, and (after
    :meth:`~.equations.Equations.extend`) what solving inside it needs.

    ``R = (lam - A)^(-1)`` (m, m, P, n); ``V_all = C R`` (K_all, m, P, n);
    ``X_rows = -(C R B + E)`` on every node row (K_all, K, P, n); ``X`` its
    active rows (K, K, P, n); ``g0 = E tr R`` (P,). Extended: ``Xh = X^H``,
    ``Z = R B`` (m, K, P, n), ``V = C R`` on the active rows, ``dX = V Z``
    (``dX/dlam``), and ``pair`` (13, P, n), the closed-form scalars for K = 2.
    """

    R: np.ndarray = _points(2)
    V_all: np.ndarray = _points(2)
    X_rows: np.ndarray = _points(2)
    X: np.ndarray = _points(2)
    g0: np.ndarray = _points(0)
    Xh: np.ndarray = _points(2)
    Z: np.ndarray = _points(2)
    V: np.ndarray = _points(2)
    dX: np.ndarray = _points(2)
    pair: np.ndarray = _points(1)

    #: What evaluating the map reads.
    EVALUATE: ClassVar[tuple] = ("X", "Xh", "pair")


@dataclass(frozen=True)
class Evaluation(Batch):
    """The map's intermediates at an iterate, general K (see
    :meth:`~.equations.Equations.evaluate`): ``a, b`` (K, P) and the
    (K, K, P, n) matrices ``X, Xh, Q, Fa, FaQ, FaXh, Ga, Gb``."""

    a: np.ndarray = _points(1)
    b: np.ndarray = _points(1)
    X: np.ndarray = _points(2)
    Xh: np.ndarray = _points(2)
    Q: np.ndarray = _points(2)
    Fa: np.ndarray = _points(2)
    FaQ: np.ndarray = _points(2)
    FaXh: np.ndarray = _points(2)
    Ga: np.ndarray = _points(2)
    Gb: np.ndarray = _points(2)

    #: What the Jacobian reads.
    JACOBIAN: ClassVar[tuple] = ("a", "X", "Xh", "FaQ", "Ga", "Gb")


@dataclass(frozen=True)
class PairEvaluation(Batch):
    """The map's intermediates for K = 2: the scalars ``pair`` (13, P, n),
    the iterate ``x`` (4, P) and ``state`` (9, P, n): ``Gamma_a11, a22,
    Gamma_b11, b22, 1 / det, Q11, Q22, P11, P22``."""

    pair: np.ndarray = _points(1)
    x: np.ndarray = _points(1)
    state: np.ndarray = _points(1)

    JACOBIAN: ClassVar[tuple] = ("pair", "x", "state")


@dataclass(frozen=True)
class Derivatives:
    """What implicit differentiation in ``conj(lam)`` needs at a solution:
    ``g`` (P,), ``dg = dg/d conj(lam)`` at fixed x (P,), ``grad = dg/dx``
    (P, 2K) and ``dphi = dPhi/d conj(lam)`` (P, 2K)."""

    g: np.ndarray
    dg: np.ndarray
    grad: np.ndarray
    dphi: np.ndarray
