"""The tilted site measure and the action ``S`` on a tensor quadrature rule.

All averages of the saddle-point equations are K-dimensional Gaussian
integrals over the active nodes, ``eta_a = sqrt(q_a) x_a`` with ``x`` on a
tensor product of graded Gauss-Legendre rules (:func:`node_rule`), weighted
by the tilt ``exp(-sum_g qhat_g v_g^2) det(I + diag(a) T^T diag(b) T)^(1/2)``.
The rule is built at one ``q`` and then *frozen* in standard units while a
solver moves ``q``, so that the equations are smooth in the unknowns; the
solver rebuilds it at the solution and polishes (docs/theory/10-complexity.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quadrature import DEFAULT, Quadrature, node_rule, tensor
from ._compiled import CompiledKacRice

__all__ = ["SiteRule", "Averages", "Evaluator", "averages"]

#: Largest tensor rule, in points: beyond it each node's rule is coarsened
#: (fewer points per panel) so that a 3- or 4-node cell stays affordable.
MAX_POINTS = 400_000


@dataclass(frozen=True, eq=False)
class SiteRule:
    """A frozen standard tensor rule ``x`` (K, n) and weights (n,) for the active nodes."""

    x: np.ndarray
    weights: np.ndarray

    @classmethod
    def build(cls, ck: CompiledKacRice, values: dict, q_nodes, quadrature: Quadrature = DEFAULT) -> SiteRule:
        order = quadrature.order
        while True:
            rules = []
            for name, q in zip(ck.nodes, q_nodes):
                r = node_rule(float(q), ck.features.get(name, ()), values, quadrature.with_order(order))
                sd = np.sqrt(max(float(q), 1e-300))
                rules.append(type(r)(r.points / sd, r.weights))
            size = int(np.prod([len(r.weights) for r in rules]))
            if size <= MAX_POINTS or order <= 3:
                break
            order -= 1
        t = tensor(rules)
        return cls(np.atleast_2d(t.points), t.weights)


@dataclass(frozen=True)
class Averages:
    """The action and the averages entering the stationarity equations.

    Attributes
    ----------
    S : float
        ``sum qhat q - a.b / 2 + log E[tilt]``; for ``tilted=False``, the
        untilted log-potential ``(E log det - a.b) / 2``.
    v2 : (G,) array        ``<v_g^2>``
    eta2 : (K,) array      ``<eta_a^2>``
    b_rhs : (K,) array     ``<(W Mm^-1)_cc>``
    a_rhs : (K,) array     ``<(T Mm^-1 diag(a) T^T)_cc>``
    ell : (K, K) array     ``<T_ab^2>``: the support matrix at the slow point
    mass : float           effective number of rule points (``1 / sum p^2``)
    """

    S: float
    v2: np.ndarray
    eta2: np.ndarray
    b_rhs: np.ndarray
    a_rhs: np.ndarray
    ell: np.ndarray
    mass: float


class Evaluator:
    """``V`` and ``T`` on a frozen rule, cached per ``q``."""

    def __init__(self, ck: CompiledKacRice, values: dict, rule: SiteRule):
        self.ck, self.values, self.rule = ck, values, rule
        self._key: tuple | None = None
        self._cache: tuple = ()
        self.calls = 0

    def at(self, q_nodes) -> tuple:
        key = tuple(float(v) for v in q_nodes)
        if key != self._key:
            eta = np.sqrt(np.maximum(np.asarray(key), 0.0))[:, None] * self.rule.x
            V, T = self.ck.evaluate(eta, self.values)
            self._key, self._cache = key, (eta, V, T)
        return self._cache


def _det_inv(M: np.ndarray) -> tuple:
    """Determinants (n,) and inverses (K, K, n) of a stack of small matrices:
    explicit for K <= 2 (several times faster than batched LAPACK there)."""
    K = M.shape[0]
    if K == 1:
        return M[0, 0], 1.0 / M
    if K == 2:
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        inv = np.array([[M[1, 1], -M[0, 1]], [-M[1, 0], M[0, 0]]]) / det
        return det, inv
    Mn = np.moveaxis(M, -1, 0)
    with np.errstate(all="ignore"):
        det = np.linalg.det(Mn)
        inv = np.linalg.inv(Mn) if np.all(det > 0) else np.full_like(Mn, np.nan)
    return det, np.moveaxis(inv, 0, -1)


def averages(ev: Evaluator, q_groups, qhat, a, b, tilted: bool = True) -> Averages:
    """Evaluate the action and every average at ``(q, qhat, a, b)``.

    With ``tilted=False`` the measure is the Gaussian itself (``qhat``
    ignored, weight 1): the Hermitized equations of the untilted
    log-potential.
    """
    ev.calls += 1
    with np.errstate(all="ignore"):  # a step outside the domain is reported as nan, not warned about
        return _averages(ev, q_groups, qhat, a, b, tilted)


def _averages(ev: Evaluator, q_groups, qhat, a, b, tilted: bool) -> Averages:
    ck = ev.ck
    q_groups = np.asarray(q_groups, dtype=float)
    q_nodes = q_groups[list(ck.group_of)]
    eta, V, T = ev.at(q_nodes)
    a, b, qhat = np.asarray(a, float), np.asarray(b, float), np.asarray(qhat, float)
    K = ck.K
    # (K, K, n) layout throughout: the per-point matrices are small.
    W = np.einsum("kin,k,kjn->ijn", T, b, T)
    Mm = np.eye(K)[:, :, None] + a[:, None, None] * W
    det, Minv = _det_inv(Mm)
    if not np.all(det > 0) or not np.all(np.isfinite(det)):
        nan = np.full(K, np.nan)
        return Averages(np.nan, np.full(ck.G, np.nan), nan, nan, nan, np.full((K, K), np.nan), 0.0)
    logdet = np.log(det)
    w0 = ev.rule.weights
    if tilted:
        logw = -(qhat @ (V**2)) + 0.5 * logdet
        shift = float(np.max(logw))
        p = w0 * np.exp(logw - shift)
        Z = float(p.sum())
        p = p / Z
        S = float(qhat @ q_groups - 0.5 * a @ b + np.log(Z) + shift)
    else:
        p = w0
        S = float(0.5 * (p @ logdet - a @ b))
    WMinv = np.einsum("cjn,jcn->cn", W, Minv)
    TMaT = np.einsum("cin,ijn,j,cjn->cn", T, Minv, a, T)
    return Averages(
        S=S,
        v2=(V**2) @ p,
        eta2=(eta**2) @ p,
        b_rhs=WMinv @ p,
        a_rhs=TMaT @ p,
        ell=(T**2) @ p,
        mass=float(1.0 / np.sum(p**2)),
    )
