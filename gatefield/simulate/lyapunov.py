"""Lyapunov exponents of a finite network by the QR (Benettin) method.

The tangent dynamics is the linearization of the cell (``docs/theory/3-pencil.md``), applied to
vectors instead of formed as a matrix: for a tangent vector ``V`` (shape
``(m, N)``, component-major like a state) and per-unit pencil coefficients
``A, B, C, E`` at the current state,

    d eta_a = J_a ( sum_k C_ak V_k + sum_{b<a} E_ab d eta_b )     (node order)
    (Jac V)_k = sum_l A_kl V_l + sum_a B_ka d eta_a

which is :func:`gatefield.simulate.jacobian` times ``V`` without
the N m x N m matrix: one matrix-vector product per node (``O(K N^2)`` per
vector instead of ``O(K N^2 m)`` to build the Jacobian and ``O(N^2 m^2)`` to
apply it).

This module never imports SymPy: it evaluates the functions the simulator
already generated for the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _sampling
from .._checks import count as check_count
from .._integrate import rk4
from ..errors import GatefieldError
from .linearize import pencil_values
from .network import Network, _evaluate, _state

__all__ = [
    "LyapunovResult",
    "lyapunov",
    "tangent_product",
]

#: Default integration step of continuous-time cells (fixed-step RK4), in the
#: cell's time unit. With unit leak, RK4's local error at dt = 0.05 is about
#: dt^5 / 120 ~ 3e-9 per step: far below the sampling error of the exponent.
DEFAULT_DT = 0.05

#: Default number of blocks of the measuring window for the standard error
#: (batch means): 20 blocks estimate the scatter to about 1 / sqrt(2 * 19),
#: i.e. 16% of the error itself.
DEFAULT_BLOCKS = 20


@dataclass(frozen=True)
class LyapunovResult:
    """Leading Lyapunov exponents of one finite network along one trajectory.

    Attributes
    ----------
    exponent : float
        The maximal exponent (``exponents[0]``): per step for a discrete-time
        cell, per unit time for a continuous-time one.
    stderr : float
        Its standard error from the block averages (``stderrs[0]``).
    exponents : numpy.ndarray, shape (k,)
        The first ``k`` exponents, largest first.
    stderrs : numpy.ndarray, shape (k,)
        Standard errors of ``exponents``: the scatter of the per-block rates
        over ``sqrt(blocks)``.
    steps : int
        Measured steps (map iterations or RK4 steps), after the burn-in.
    burn_in : int
        Steps run before measuring (state and tangent vectors both evolve).
    dt : float or None
        The RK4 step (continuous time); None for a map.
    time : float
        The measured duration: ``steps`` (discrete) or ``steps * dt``.
    renormalize_every : int
        Steps between QR re-orthonormalizations.
    blocks : int
        Number of blocks of the measuring window.
    integrator : str
        ``"map"`` or ``"rk4"`` (fixed step, state and tangents together).
    state : numpy.ndarray, shape (m, N)
        The final state (to continue a run).
    """

    exponent: float
    stderr: float
    exponents: np.ndarray
    stderrs: np.ndarray
    steps: int
    burn_in: int
    dt: float | None
    time: float
    renormalize_every: int
    blocks: int
    integrator: str
    state: np.ndarray

    def to_json(self) -> dict:
        return {
            "exponent": self.exponent,
            "stderr": self.stderr,
            "exponents": self.exponents.tolist(),
            "stderrs": self.stderrs.tolist(),
            "steps": self.steps,
            "burn_in": self.burn_in,
            "dt": self.dt,
            "time": self.time,
            "renormalize_every": self.renormalize_every,
            "blocks": self.blocks,
            "integrator": self.integrator,
        }


def _rhs_and_tangent(net: Network, s: np.ndarray, V: np.ndarray) -> tuple:
    """``F(s)`` (m, N) and ``Jac(s) V`` for tangents ``V`` of shape (m, N, k)."""
    eta, values = _evaluate(net, s)
    F = np.array(net.compiled.update(values), dtype=float).reshape(net.m, net.N)
    A, B, C, E = pencil_values(net, values)
    m, K = net.m, net.K
    d_eta = []
    for a, J in enumerate(net.couplings):
        u = sum(np.asarray(C[a][k])[:, None] * V[k] for k in range(m))
        for b in range(a):
            Eab = np.asarray(E[a][b])
            if np.any(Eab != 0):
                u = u + Eab[:, None] * d_eta[b]
        d_eta.append(J @ u)
    out = np.empty_like(V)
    for k in range(m):
        acc = sum(np.asarray(A[k][l])[:, None] * V[l] for l in range(m))
        for a in range(K):
            Bka = np.asarray(B[k][a])
            if np.any(Bka != 0):
                acc = acc + Bka[:, None] * d_eta[a]
        out[k] = acc
    return F, out


def tangent_product(net: Network, s, V) -> np.ndarray:
    """The Jacobian of ``s -> F(s, eta(s))`` at ``s`` applied to tangent vectors.

    Parameters
    ----------
    net : Network
    s : array, shape (m, N)
    V : array, shape (m, N) or (m, N, k)
        One tangent vector, or ``k`` of them along the last axis.

    Returns
    -------
    numpy.ndarray, same shape as ``V``
        ``Jac(s) V``, equal to ``jacobian(net, s) @ V.reshape(m N, k)``
        reshaped (component-major layout).
    """
    s = _state(net, s)
    V = np.asarray(V, dtype=float)
    single = V.shape == (net.m, net.N)
    if single:
        V = V[..., None]
    if V.ndim != 3 or V.shape[:2] != (net.m, net.N):
        raise GatefieldError(
            f"tangent vectors of this network have shape (m, N) or (m, N, k) with "
            f"(m, N) = ({net.m}, {net.N}), got {V.shape}"
        )
    _, out = _rhs_and_tangent(net, s, V)
    return out[..., 0] if single else out


def _orthonormalize(V: np.ndarray) -> tuple:
    """QR of the (m N, k) tangent matrix: orthonormal ``Q`` as (m, N, k), log |diag R|."""
    m, N, k = V.shape
    Q, R = np.linalg.qr(V.reshape(m * N, k))
    d = np.abs(np.diag(R))
    with np.errstate(divide="ignore"):
        logs = np.log(d)
    return Q.reshape(m, N, k), logs


def lyapunov(
    net: Network,
    s0,
    steps: int,
    *,
    k: int = 1,
    burn_in: int = 0,
    renormalize_every: int | None = None,
    dt: float | None = None,
    blocks: int = DEFAULT_BLOCKS,
    tangent_seed: int = 0,
) -> LyapunovResult:
    """The first ``k`` Lyapunov exponents of ``net`` by the QR (Benettin) method.

    Parameters
    ----------
    net : Network
    s0 : array, shape (m, N)
        Initial state (e.g. :func:`~gatefield.simulate.initial_state`).
    steps : int
        Measured steps: map iterations (discrete time) or RK4 steps of length
        ``dt`` (continuous time). A multiple of ``renormalize_every * blocks``
        is used exactly; otherwise it is rounded down to one (at least one
        block of one interval).
    k : int
        Number of exponents (at most ``m N``).
    burn_in : int
        Steps run first, with the tangent vectors evolving and re-orthonormalized
        but not measured: it lets the state reach the attractor and the
        vectors align with the leading directions.
    renormalize_every : int, optional
        Steps between QR re-orthonormalizations (default 1 for a map, and
        ``round(0.5 / dt)``, half a time unit, in continuous time). Growth over
        the interval must stay in floating-point range, and for ``k > 1``
        below about 1e8 so the QR keeps the weaker directions.
    dt : float, optional
        Continuous time only: the RK4 step (default :data:`DEFAULT_DT`).
    blocks : int
        Blocks of the measuring window for the standard error (at least 2).
    tangent_seed : int
        Seed of the random initial tangent vectors.

    Returns
    -------
    LyapunovResult

    Raises
    ------
    GatefieldError
        For invalid counts, ``dt`` given for a map, or a trajectory that
        leaves floating-point range.

    Notes
    -----
    Benettin et al. (1980); Shimada and Nagashima (1979). Tangent vectors
    ``V`` (an orthonormal ``m N x k`` frame) evolve with the linearization
    along the trajectory, ``V_{t+1} = Jac(s_t) V_t`` (map) or
    ``dV/dt = Jac(s(t)) V`` (flow), applied by :func:`tangent_product`.
    Every ``renormalize_every`` steps ``V = Q R`` and ``V <- Q``; the
    exponents are

        lambda_i = sum over renormalizations of log |R_ii| / (measured time).

    Continuous time integrates the state and the tangent vectors together,
    as one ODE, with the classical fixed-step fourth-order Runge-Kutta rule
    (step ``dt``); its O(dt^4) error is a systematic error of the exponent
    (check by halving ``dt``).

    Standard error: the window is split into ``blocks`` equal blocks, the
    rate ``sum log |R_ii| / block duration`` is computed per block, and the
    error is ``std(rates) / sqrt(blocks)`` (batch means). Blocks shorter than
    the correlation time of the local growth rates underestimate it. In a
    chaotic state it errs the other way: the log-norm of the tangent vector
    fluctuates about its mean growth, each block's rate carries that
    fluctuation at both ends, and it cancels in the total. For the rate
    network at g = 2 (N = 500, 500 time units, 20 blocks) the batch-means
    error is 0.0057 while 8 trajectories of one network scatter by 0.0031:
    read ``stderr`` as an upper bound on the time error there. It never
    holds the scatter between networks, which is larger (0.012 over 4
    networks of that size): compare with theory over seeds
    (:func:`lyapunov_scan`). At a stable fixed point every block gives the same
    rate and the error reflects only the remaining alignment transient.
    """
    s = _state(net, s0).copy()
    steps = check_count(steps, "the number of steps", 1)
    burn_in = check_count(burn_in, "the number of burn-in steps", 0)
    k = check_count(k, "the number of exponents k", 1)
    if k > net.m * net.N:
        raise GatefieldError(f"at most m N = {net.m * net.N} exponents exist, asked for k = {k}")
    blocks = check_count(blocks, "the number of blocks", 2)
    tangent_seed = check_count(tangent_seed, "the tangent seed", 0)
    if net.continuous:
        dt = DEFAULT_DT if dt is None else float(dt)
        if not math.isfinite(dt) or dt <= 0:
            raise GatefieldError(f"the RK4 step dt must be positive and finite, got {dt}")
        default_every = max(1, int(round(0.5 / dt)))
    else:
        if dt is not None:
            raise GatefieldError(
                f"cell '{net.cell.name}' is discrete-time; dt applies only to continuous-time cells, so leave it out"
            )
        default_every = 1
    every = default_every if renormalize_every is None else check_count(renormalize_every, "renormalize_every", 1)
    per_block = max(1, steps // (every * blocks))
    n_renorm = per_block * blocks
    steps = n_renorm * every

    rng = _sampling.rng(tangent_seed, "tangent")
    V, _ = _orthonormalize(rng.standard_normal((net.m, net.N, k)))

    def advance(s, V):
        if not net.continuous:
            return _rhs_and_tangent(net, s, V)
        # Classical RK4 on the augmented system (s, V).
        return rk4(lambda y: _rhs_and_tangent(net, *y), (s, V), dt)

    def interval(s, V):
        for _ in range(every):
            s, V = advance(s, V)
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(V))):
            raise GatefieldError(
                f"the trajectory or tangent vectors of cell '{net.cell.name}' left "
                "floating-point range; lower renormalize_every or dt"
            )
        V, logs = _orthonormalize(V)
        return s, V, logs

    # Burn-in in whole intervals (plus the remainder as single steps).
    for _ in range(burn_in // every):
        s, V, _ = interval(s, V)
    for _ in range(burn_in % every):
        s, V = advance(s, V)
        V, _ = _orthonormalize(V)

    logs = np.empty((n_renorm, k))
    for r in range(n_renorm):
        s, V, logs[r] = interval(s, V)
    if np.any(~np.isfinite(logs)):
        raise GatefieldError(
            f"a tangent vector of cell '{net.cell.name}' collapsed to zero (the "
            "map is singular along it); ask for fewer exponents k"
        )

    unit = float(dt) if net.continuous and dt is not None else 1.0
    block_time = per_block * every * unit
    rates = logs.reshape(blocks, per_block, k).sum(axis=1) / block_time
    total_time = steps * unit
    exponents = logs.sum(axis=0) / total_time
    stderrs = rates.std(axis=0, ddof=1) / math.sqrt(blocks)
    return LyapunovResult(
        exponent=float(exponents[0]),
        stderr=float(stderrs[0]),
        exponents=exponents,
        stderrs=stderrs,
        steps=steps,
        burn_in=burn_in,
        dt=dt if net.continuous else None,
        time=float(total_time),
        renormalize_every=every,
        blocks=blocks,
        integrator="rk4" if net.continuous else "map",
        state=s,
    )
