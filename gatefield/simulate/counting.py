"""Counting the fixed points of finite networks, three ways.

- :func:`count_fixed_points`: every fixed point of one network by
  multi-start damped Newton on the node map ``G(eta) = eta - J v(eta)``,
  deduplicated, with a completeness estimate and each fixed point's index
  and stability;
- :func:`state_fixed_points`: the same in state space, on ``F(s) - s`` (or
  ``F(s)``), an independent route used to check the node-space count;
- :func:`kac_rice_integral`: the exact finite-N Kac-Rice integral ``E[#]``
  over coupling draws, by importance sampling;
- :func:`growth_fit`: ``log E[#] = N Sigma + a log N + c`` over sizes, with errors.

The node map is the one :mod:`gatefield.theory.complexity` derives
(docs/theory/10-complexity.md); nodes that no argument depends on (a GRU's
update gate) are not part of it, so their couplings never enter the count.
This module never imports SymPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..errors import GatefieldError
from ..numerics.complexity._compiled import CompiledKacRice, compile_kac_rice
from ..numerics.complexity.sites import TiltedSites
from ..numerics.solution import Estimate
from .linearize import jacobian
from .network import Network, rhs

__all__ = [
    "FixedPointCount",
    "count_fixed_points",
    "state_fixed_points",
    "fixed_point_states",
    "KacRiceIntegral",
    "kac_rice_integral",
    "GrowthFit",
    "growth_fit",
]

#: Newton has converged when ``max |G| < TOL`` (O(1) node values).
TOL = 1e-10
#: Two roots closer than this in sup norm are one (the spec's 1e-6; distinct
#: roots of the counted networks were never found closer than 1e-3).
DEDUP = 1e-6
#: Largest Newton step in sup norm, in units of the typical node scale: a
#: step cap keeps the iteration from jumping between basins.
STEP_CAP = 2.0
#: Newton iterations per start.
MAX_ITERATIONS = 60


def _active_couplings(net: Network, ck: CompiledKacRice) -> list:
    names = net.compiled.couplings
    return [net.couplings[names.index(c)] for c in ck.couplings]


def _node_map(net: Network, ck: CompiledKacRice, eta: np.ndarray) -> tuple:
    """``G`` (B, K, N) and ``dG`` (B, KN, KN) at a batch of node values (B, K, N)."""
    B, K, N = eta.shape
    J = _active_couplings(net, ck)
    x = np.moveaxis(eta, 1, 0)  # (K, B, N)
    V, T = ck.evaluate(x, net.parameters)
    v = V[list(ck.group_of)]  # (K, B, N)
    Gv = np.stack([np.einsum("ij,bj->bi", J[a], v[a]) for a in range(K)], axis=1)
    G = eta - Gv
    dG = np.zeros((B, K * N, K * N))
    for a in range(K):
        for b in range(K):
            block = -J[a][None, :, :] * T[a, b][:, None, :]
            if a == b:
                block = block + np.eye(N)[None]
            dG[:, a * N : (a + 1) * N, b * N : (b + 1) * N] = block
    return G, dG


def _newton(net: Network, ck: CompiledKacRice, eta0: np.ndarray, scale: float) -> tuple:
    """Damped Newton on a batch of starts; returns the end points and a converged mask."""
    eta = eta0.copy()
    B, K, N = eta.shape
    G, dG = _node_map(net, ck, eta)
    norm = np.max(np.abs(G.reshape(B, -1)), axis=1)
    active = np.ones(B, bool)
    for _ in range(MAX_ITERATIONS):
        active &= norm >= TOL
        if not active.any():
            break
        idx = np.flatnonzero(active)
        try:
            step = np.linalg.solve(dG[idx], -G[idx].reshape(len(idx), -1, 1))[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(m, -g.reshape(-1), rcond=None)[0] for m, g in zip(dG[idx], G[idx])])
        big = np.max(np.abs(step), axis=1, keepdims=True)
        step *= np.minimum(1.0, STEP_CAP * scale / np.maximum(big, 1e-300))
        t = np.ones(len(idx))
        for _ in range(20):  # backtracking: accept the first step that lowers max |G|
            trial = eta[idx] + (t[:, None] * step).reshape(len(idx), K, N)
            Gt, dGt = _node_map(net, ck, trial)
            nt = np.max(np.abs(Gt.reshape(len(idx), -1)), axis=1)
            better = (nt < norm[idx]) | (t < 1e-4)
            if better.all():
                break
            t = np.where(better, t, t / 2)
        eta[idx], G[idx], dG[idx], norm[idx] = trial, Gt, dGt, nt
        active[idx] &= np.isfinite(nt)
    return eta, norm < TOL


@dataclass(frozen=True, eq=False)
class FixedPointCount:
    """Every fixed point found in one network.

    Attributes
    ----------
    nodes : (n, K, N) array
        The active node values of each fixed point.
    states : (n, m, N) array
        The states ``s*(eta)``.
    hits : (n,) int array
        How many starts converged to each.
    starts : int
        Starts used.
    state_residual : float
        Largest ``max |F(s) - s|`` (or ``|F(s)|``) over the fixed points.
    index : (n,) int array
        Unstable directions: eigenvalues of the state Jacobian with
        ``|mu| > 1`` (discrete time) or ``Re mu > 0`` (continuous time).
    stable : (n,) bool array
    missing : float
        Chao1 estimate of the fixed points not found, ``f1^2 / (2 f2)``
        (``f1 (f1 - 1) / 2`` when ``f2 = 0``) from the hit counts.
    unseen : float
        Good-Turing probability that one more start finds a new fixed point,
        ``f1 / (converged starts)``.
    """

    nodes: np.ndarray
    states: np.ndarray
    hits: np.ndarray
    starts: int
    state_residual: float
    index: np.ndarray
    stable: np.ndarray
    missing: float
    unseen: float

    @property
    def count(self) -> int:
        return len(self.hits)

    def to_json(self) -> dict:
        return {
            "count": self.count,
            "starts": self.starts,
            "missing_estimate": self.missing,
            "unseen_probability": self.unseen,
            "state_residual": self.state_residual,
            "index": [int(k) for k in self.index],
            "stable": [bool(s) for s in self.stable],
            "hits": [int(h) for h in self.hits],
        }


def fixed_point_states(net: Network, eta: np.ndarray) -> np.ndarray:
    """The states ``s*(eta)`` (m, N) of active node values ``eta`` (K, N)."""
    ck = compile_kac_rice(net.cell)
    c = net.compiled
    env = dict(net.parameters)
    for name in c.states:
        env[name] = np.zeros(net.N)
    for name in c.nodes:  # inert nodes do not enter s*: any value will do
        env[name] = np.zeros(net.N)
    env.update(zip(ck.nodes, eta))
    if c.fixed_state is None:  # pragma: no cover - kac_rice refuses such cells
        raise GatefieldError(f"cell '{net.cell.name}' has no closed-form fixed point")
    solved = dict(zip(c.solved_states, (np.asarray(v, float) for v in c.fixed_state(env))))
    return np.stack([np.broadcast_to(solved[name], (net.N,)) for name in c.states])


def _describe(net: Network, states) -> tuple:
    residuals, index, stable = [], [], []
    for s in states:
        F = rhs(net, s)
        residuals.append(float(np.max(np.abs(F if net.continuous else F - s))))
        mu = np.linalg.eigvals(jacobian(net, s))
        unstable = mu.real > 0 if net.continuous else np.abs(mu) > 1
        index.append(int(np.sum(unstable)))
        stable.append(not unstable.any())
    return max(residuals, default=0.0), np.array(index, int), np.array(stable, bool)


def _completeness(hits: np.ndarray) -> tuple:
    f1, f2 = int(np.sum(hits == 1)), int(np.sum(hits == 2))
    missing = f1 * f1 / (2.0 * f2) if f2 else f1 * (f1 - 1) / 2.0
    return float(missing), float(f1 / max(int(hits.sum()), 1))


def _merge(found: list, hits: list, eta: np.ndarray) -> bool:
    for k, other in enumerate(found):
        if np.max(np.abs(other - eta)) < DEDUP:
            hits[k] += 1
            return False
    found.append(eta)
    hits.append(1)
    return True


def count_fixed_points(
    net: Network,
    seed: int = 0,
    batch: int = 300,
    min_starts: int = 1500,
    max_starts: int = 20000,
    scale: float | None = None,
) -> FixedPointCount:
    """Every fixed point of ``net`` by multi-start Newton in node space.

    Parameters
    ----------
    net : Network
    seed : int
        Seed of the starts (separate from the coupling seed).
    batch, min_starts, max_starts : int
        Starts per batch; stop after a batch that finds nothing new once
        ``min_starts`` are used, or at ``max_starts``.
    scale : float, optional
        Typical node scale; default: the RMS node value of the mean-field
        fixed point or 1.

    Notes
    -----
    Starts are ``eta ~ N(0, scale^2)`` times ``exp(U(-0.9, 0.5))`` per start;
    each root ``eta`` is also tried with its sign flipped (odd cells, the
    rate network, have roots in pairs), accepted only when Newton confirms
    it. Stability is read from the eigenvalues of the full state Jacobian,
    update gates included.
    """
    ck = compile_kac_rice(net.cell)
    _checks.count(seed, "the start seed", 0)
    _checks.count(batch, "batch", 1)
    K, N = ck.K, net.N
    scale = float(scale) if scale is not None else 0.7
    rng = np.random.default_rng([seed, 0xC0DE])
    found: list = []
    hits: list = []
    if ck.zero_is_fixed_point(net.parameters):
        found.append(np.zeros((K, N)))
        hits.append(0)
    used = 0
    while used < max_starts:
        factor = np.exp(rng.uniform(-0.9, 0.5, size=(batch, 1, 1)))
        eta0 = scale * factor * rng.standard_normal((batch, K, N))
        eta, ok = _newton(net, ck, eta0, scale)
        used += batch
        new = 0
        for e in eta[ok]:
            if _merge(found, hits, e):
                new += 1
                flipped, fok = _newton(net, ck, -e[None], scale)
                if fok[0] and _merge(found, hits, flipped[0]):
                    new += 1
                    hits[-1] = 0  # found by symmetry, not by a start
        if new == 0 and used >= min_starts:
            break
    roots = np.array(found) if found else np.zeros((0, K, N))
    states = np.array([fixed_point_states(net, e) for e in roots]) if found else np.zeros((0, net.m, N))
    residual, index, stable = _describe(net, states)
    h = np.array(hits, int)
    missing, unseen = _completeness(h[h > 0])
    return FixedPointCount(roots, states, h, used, residual, index, stable, missing, unseen)


def state_fixed_points(net: Network, starts: int = 400, seed: int = 0, scale: float = 0.7) -> np.ndarray:
    """Distinct fixed points ``(n, m, N)`` of ``net`` by Newton in state space.

    The independent route: damped Newton on ``R(s) = F(s) - s`` (discrete)
    or ``F(s)`` (continuous) with the full Jacobian of
    :func:`gatefield.simulate.jacobian`, every gate included, from ``starts``
    random states ``N(0, scale^2)``.
    """
    rng = np.random.default_rng([seed, 0x57A7])
    n = net.m * net.N
    found: list = []
    for _ in range(starts):
        s = scale * rng.standard_normal((net.m, net.N))
        for _ in range(MAX_ITERATIONS):
            F = rhs(net, s)
            R = (F if net.continuous else F - s).reshape(-1)
            norm = np.max(np.abs(R))
            if norm < TOL or not np.isfinite(norm):
                break
            D = jacobian(net, s) - (0 if net.continuous else np.eye(n))
            try:
                step = np.linalg.solve(D, -R)
            except np.linalg.LinAlgError:
                break
            step *= min(1.0, STEP_CAP * scale / max(np.max(np.abs(step)), 1e-300))
            t = 1.0
            while t > 1e-4:
                trial = s + t * step.reshape(s.shape)
                Ft = rhs(net, trial)
                if np.max(np.abs(Ft if net.continuous else Ft - trial)) < norm:
                    break
                t /= 2
            s = trial
        if norm < TOL and not any(np.max(np.abs(f - s)) < DEDUP for f in found):
            found.append(s)
    return np.array(found) if found else np.zeros((0, net.m, net.N))


@dataclass(frozen=True)
class KacRiceIntegral:
    """``E[#]`` over coupling draws at one N, by importance sampling.

    Attributes
    ----------
    N : int
    mean : Estimate
        ``E[#]``, the deterministic zero (when there is one) included.
    samples : int
    log_weight_variance : float
        ``Var(log w)``: O(1) when the proposal matches the tilted measure.
    effective_samples : float
        ``(sum w)^2 / sum w^2``.
    """

    N: int
    mean: Estimate
    samples: int
    log_weight_variance: float
    effective_samples: float


def kac_rice_integral(
    cell, N: int, samples: int, parameters: dict | None = None, seed: int = 0, sites: TiltedSites | None = None
) -> KacRiceIntegral:
    """The exact finite-N Kac-Rice integral, unbiased at every N.

    Form::

        E[#] = [eta = 0 is a root] + int d^{KN} eta prod_a N(eta_a; 0, |v_a|^2/N I)
               E[|det(I - J T(eta))| | J_a v_a(eta) = eta_a]

    Each sample draws ``eta`` from the proposal ``r`` (a mixture of products
    of tilted site measures, :class:`TiltedSites`), one fresh ``Jt_a`` per
    node, the conditioned ``J_a = Jt_a (I - v_a v_a^T/|v_a|^2) + eta_a
    v_a^T/|v_a|^2``, and weighs ``p(eta) |det(I - J T)| / r(eta)``.
    """
    N = _checks.count(N, "N", 2)
    samples = _checks.count(samples, "samples", 2)
    ck = compile_kac_rice(cell)
    values = cell.resolve(parameters)
    sites = sites if sites is not None else TiltedSites.from_saddle(cell, parameters)
    rng = np.random.default_rng([seed, 0x4B52])
    K = ck.K
    logw = np.empty(samples)
    for k in range(samples):
        eta, log_r = sites.sample(N, rng)
        V, T = ck.evaluate(eta, values)
        v = V[list(ck.group_of)]
        norm2 = np.sum(v * v, axis=1)
        q = norm2 / N
        log_p = float(np.sum(-0.5 * N * np.log(2 * np.pi * q) - np.sum(eta * eta, axis=1) / (2 * q)))
        M = np.eye(K * N)
        for a in range(K):
            Jt = rng.standard_normal((N, N)) / math.sqrt(N)
            Ja = Jt - np.outer(Jt @ v[a], v[a]) / norm2[a] + np.outer(eta[a], v[a]) / norm2[a]
            for b in range(K):
                M[a * N : (a + 1) * N, b * N : (b + 1) * N] -= Ja * T[a, b][None, :]
        _, logdet = np.linalg.slogdet(M)
        logw[k] = log_p + logdet - log_r
    shift = float(np.max(logw))
    w = np.exp(logw - shift)
    mean = float(np.mean(w)) * math.exp(shift)
    err = float(np.std(w, ddof=1) / math.sqrt(samples)) * math.exp(shift)
    zero = 1.0 if ck.zero_is_fixed_point(values) else 0.0
    ess = float(w.sum() ** 2 / np.sum(w * w))
    return KacRiceIntegral(N, Estimate(mean + zero, err), samples, float(np.var(logw)), ess)


@dataclass(frozen=True)
class GrowthFit:
    """``log E[#] = N Sigma + a log N + c``, weighted least squares.

    Attributes
    ----------
    sigma, log_n, constant : Estimate
        The fitted coefficients (``log_n`` is 0 with stderr 0 when not fitted).
    chi2 : float
        Residual chi-square; the errors are scaled by ``sqrt(chi2 / dof)``
        when that exceeds 1 (the Birge ratio).
    dof : int
    """

    sigma: Estimate
    log_n: Estimate
    constant: Estimate
    chi2: float
    dof: int


def growth_fit(sizes, means, errors, log_term: bool = False, subtract: float = 0.0) -> GrowthFit:
    """Fit ``log(E[#] - subtract)`` against N, errors by the delta method.

    ``subtract = 1`` removes a deterministic zero fixed point before the fit.
    """
    Ns = np.asarray(sizes, float)
    y = np.log(np.asarray(means, float) - subtract)
    sy = np.asarray(errors, float) / (np.asarray(means, float) - subtract)
    columns = [Ns, np.ones_like(Ns)] + ([np.log(Ns)] if log_term else [])
    X = np.stack(columns, axis=1)
    if len(Ns) <= X.shape[1]:
        raise GatefieldError(f"a growth fit with {X.shape[1]} coefficients needs more than {X.shape[1]} sizes")
    Wt = 1.0 / sy**2
    cov = np.linalg.inv(X.T @ (Wt[:, None] * X))
    beta = cov @ X.T @ (Wt * y)
    chi2 = float(np.sum(Wt * (y - X @ beta) ** 2))
    dof = len(Ns) - X.shape[1]
    cov = cov * max(1.0, chi2 / dof)
    se = np.sqrt(np.diag(cov))
    log_n = Estimate(beta[2], se[2]) if log_term else Estimate(0.0, 0.0)
    return GrowthFit(Estimate(beta[0], se[0]), log_n, Estimate(beta[1], se[1]), chi2, dof)
