"""Fixed points of finite networks: relaxation, then Newton's method."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..errors import GatefieldError
from ..numerics.codegen import compile_fixed_point_map
from .linearize import jacobian
from .network import DEFAULT_DT, Network, _integrate, _state, nodes, rhs

__all__ = ["FixedPointResult", "find_fixed_point", "reduced_network"]

#: Continuous-time relaxation is integrated in chunks of this many sampling
#: intervals, checking convergence between them.
_RELAX_CHUNK = 20
#: Largest number of halvings of a Newton step in the backtracking line search.
_MAX_HALVINGS = 30
#: The step of the damped relaxation of the fixed-point map: as a GRU whose
#: update gate is held at 0.12, which converges wherever the continuous-time
#: flow of the map is stable.
REDUCED_DAMPING = 0.12


@dataclass(frozen=True, eq=False)
class FixedPointResult:
    """A fixed point of a finite network, or the best attempt at one.

    Attributes
    ----------
    state : numpy.ndarray, shape (m, N)
    nodes : numpy.ndarray, shape (K, N)
        The node values at ``state``.
    residual : float
        ``max |F(s) - s|`` (discrete time) or ``max |F(s)|`` (continuous
        time) at ``state``; ``inf`` if the state is not finite.
    converged : bool
        Whether ``residual < tol``.
    iterations : int
        Relaxation steps (map iterations, or sampling intervals of length
        :data:`DEFAULT_DT` for continuous time) plus Newton steps taken.
    method : str
        The stages run: ``"relaxation"`` when relaxation alone converged,
        else ``"relaxation+newton"``.
    """

    state: np.ndarray
    nodes: np.ndarray
    residual: float
    converged: bool
    iterations: int
    method: str


def _residual_vector(net: Network, s: np.ndarray) -> np.ndarray:
    F = rhs(net, s)
    return F if net.continuous else F - s


def _size(r: np.ndarray) -> float:
    value = float(np.max(np.abs(r)))
    return value if math.isfinite(value) else math.inf


def reduced_network(net: Network) -> Network | None:
    """The network of the cell's fixed-point map (:func:`gatefield.theory.derive.fixed_point_map`)
    with the same couplings, or None when no state has a closed form."""
    compiled = compile_fixed_point_map(net.cell)
    if compiled is None:
        return None
    return Network(compiled.cell, dict(net.parameters), net.N, net.couplings, net.coupling_seed, compiled)


def find_fixed_point(
    net: Network,
    s0,
    relax_steps: int = 2000,
    newton_steps: int = 50,
    tol: float = 1e-10,
    newton_below: float = 1e-3,
    equations: str = "full",
) -> FixedPointResult:
    """A fixed point near the attractor reached from ``s0``.

    Parameters
    ----------
    net : Network
    s0 : array, shape (m, N)
    relax_steps : int
        Relaxation budget: map iterations (discrete) or sampling intervals of
        length :data:`DEFAULT_DT` (continuous, integrated as in
        :func:`trajectory`). Relaxation stops early once converged.
    newton_steps : int
        Newton iterations after the relaxation.
    tol : float
        Convergence threshold on the residual (max norm).
    newton_below : float
        Relaxation hands over to Newton once the residual is below this:
        Newton converges quadratically from there, while relaxation near a
        nearly marginal fixed point (an LSTM with forget bias 3 contracts by
        0.7% a step) would take thousands of steps.
    equations : {"full", "reduced"}
        "full": relax the network's own dynamics, then Newton. "reduced":
        relax and solve the cell's fixed-point map ``s <- s*(eta(s))``
        instead, with the damped step ``s <- s + REDUCED_DAMPING (s*(eta(s))
        - s)``: the same fixed points, without the gates that slow the real
        dynamics (a steep update gate leaves nearly shut units that barely
        move), and reaching fixed points that are stable for the network but
        not for its undamped map. The residual reported is the network's own.
        Falls back to "full" for a cell with no closed-form state.

    Returns
    -------
    FixedPointResult
        Never raises for non-convergence: ``converged`` says whether the
        residual fell below ``tol``; otherwise the state with the smallest
        residual seen is returned and the caller decides.

    Notes
    -----
    The fixed-point condition is ``G(s) = F(s) - s = 0`` (discrete time) or
    ``G(s) = F(s) = 0`` (continuous time). After relaxation, Newton's method
    with the finite-N Jacobian of :func:`jacobian` solves
    ``(Jac - I) dx = -G(s)`` (discrete) or ``Jac dx = -G(s)`` (continuous),
    with a backtracking line search that halves the step until the Euclidean
    norm of ``G`` decreases.
    """
    _checks.choice(equations, "equations", ("full", "reduced"))
    reduced = reduced_network(net) if equations == "reduced" else None
    if reduced is not None:
        found = _find(reduced, s0, relax_steps, newton_steps, tol, newton_below, REDUCED_DAMPING)
        residual = _size(_residual_vector(net, found.state)) if np.all(np.isfinite(found.state)) else math.inf
        return FixedPointResult(
            state=found.state,
            nodes=found.nodes,
            residual=residual,
            converged=bool(found.converged and residual < tol),
            iterations=found.iterations,
            method="reduced " + found.method,
        )
    return _find(net, s0, relax_steps, newton_steps, tol, newton_below, 1.0)


def _find(net, s0, relax_steps, newton_steps, tol, newton_below, damping) -> FixedPointResult:
    s = _state(net, s0).copy()
    relax_steps = _checks.count(relax_steps, "relax_steps", 0)
    newton_steps = _checks.count(newton_steps, "newton_steps", 0)
    tol = float(tol)
    iterations = 0
    G = _residual_vector(net, s)
    res = _size(G)

    # Relaxation.
    if net.continuous:
        while res >= max(tol, newton_below) and iterations < relax_steps:
            chunk = min(_RELAX_CHUNK, relax_steps - iterations)
            try:
                y = _integrate(net, s, chunk * DEFAULT_DT)
            except GatefieldError:
                break
            s = y[:, -1].reshape(net.m, net.N)
            iterations += chunk
            G = _residual_vector(net, s)
            res = _size(G)
    else:
        while res >= max(tol, newton_below) and iterations < relax_steps and math.isfinite(res):
            s = s + damping * G  # damping 1: F(s), the next iterate of the map
            iterations += 1
            G = _residual_vector(net, s)
            res = _size(G)
    best = (res, s)
    method = "relaxation"

    # Newton polish.
    if res >= tol and newton_steps > 0 and math.isfinite(res):
        method = "relaxation+newton"
        identity = np.eye(net.m * net.N)
        for _ in range(newton_steps):
            jac = jacobian(net, s)
            if not net.continuous:
                jac -= identity
            g = G.reshape(-1)
            try:
                dx = np.linalg.solve(jac, -g)
            except np.linalg.LinAlgError:
                dx = np.linalg.lstsq(jac, -g, rcond=None)[0]
            iterations += 1
            dx = dx.reshape(s.shape)
            # The Euclidean norm is the merit function: the Newton step is a
            # descent direction for it (not necessarily for the max norm).
            merit = float(np.linalg.norm(G))
            lam, accepted = 1.0, False
            for _ in range(_MAX_HALVINGS):
                trial = s + lam * dx
                G_trial = _residual_vector(net, trial)
                if float(np.linalg.norm(G_trial)) < merit:
                    accepted = True
                    break
                lam *= 0.5
            if not accepted:
                break
            s, G, res = trial, G_trial, _size(G_trial)
            if res < best[0]:
                best = (res, s)
            if res < tol:
                break

    res, s = best
    eta = nodes(net, s) if np.all(np.isfinite(s)) else np.full((net.K, net.N), np.nan)
    return FixedPointResult(
        state=s, nodes=eta, residual=res, converged=bool(res < tol), iterations=iterations, method=method
    )
