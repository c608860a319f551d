"""Finite-N simulation of a cell, generated from the same spec as the theory.

A :class:`Network` is N units of a cell with fixed couplings ``J_a`` (entries
iid N(0, 1/N)). Everything here evaluates the numpy functions that
:func:`gatefield.numerics.codegen.compile_cell` generates from the cell, so
the simulator and the mean-field theory read one and the same specification
(THEORY.md section 1). This module never imports SymPy (STYLE.md: the
validation layer uses numpy and scipy only).

State layout
------------
A network state is an array of shape ``(m, N)``: row ``k`` holds state
component ``k`` (in ``cell.states`` order) of every unit. Node values are an
array of shape ``(K, N)`` in ``cell.couplings`` order. Flattened vectors and
Jacobians are **component-major**: component ``k`` of unit ``i`` sits at index
``k * N + i``, which is ``state.reshape(-1)`` of an ``(m, N)`` array.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import scipy.integrate

from ..errors import GatefieldError
from ..numerics.codegen import CompiledCell, compile_cell
from ..theory.spec import Cell

__all__ = [
    "FixedPointResult",
    "Network",
    "find_fixed_point",
    "finite_difference_jacobian",
    "initial_state",
    "jacobian",
    "make_network",
    "nodes",
    "rhs",
    "run_to_steady_state",
    "step",
    "trajectory",
]

#: Default sampling interval of continuous-time trajectories, in the cell's
#: time unit. Half a unit resolves the relaxation of a unit-leak rate network
#: (time constant 1) while keeping trajectories short.
DEFAULT_DT = 0.5

#: Integrator settings for continuous-time cells: explicit Runge-Kutta 4(5)
#: (Dormand-Prince). rtol 1e-6 keeps trajectory errors well below the
#: O(1/sqrt(N)) finite-size effects the simulations are compared against;
#: atol 1e-9 resolves states decaying towards a zero fixed point.
INTEGRATOR = {"method": "RK45", "rtol": 1e-6, "atol": 1e-9}

#: Continuous-time relaxation in :func:`find_fixed_point` is integrated in
#: chunks of this many sampling intervals, checking convergence between them.
_RELAX_CHUNK = 20

#: Entropy tag mixed into initial-state seeds, so that ``initial_state(net, s)``
#: and ``make_network(..., coupling_seed=s)`` draw from different streams even
#: when given the same integer (otherwise the first unit's state would equal
#: sqrt(N) times the first row of the first coupling matrix).
_STATE_STREAM = 0x5EED

#: Largest number of halvings of a Newton step in the backtracking line search.
_MAX_HALVINGS = 30


@dataclass(frozen=True, eq=False)
class Network:
    """N units of a cell with fixed couplings.

    Build one with :func:`make_network`. Matrices ``J_a`` (N x N, entries iid
    N(0, 1/N)) are drawn from ``coupling_seed``.

    Attributes
    ----------
    cell : Cell
        The cell specification.
    parameters : dict
        Parameter values by name, complete (the cell's defaults with the
        overrides applied, see :meth:`Cell.resolve`).
    N : int
        Number of units.
    couplings : tuple of numpy.ndarray
        K arrays of shape ``(N, N)``, in ``cell.couplings`` order.
    coupling_seed : int
        The seed the couplings were drawn from.
    compiled : CompiledCell
        The generated numpy functions of the cell.

    Notes
    -----
    Compared by identity: two networks are equal only if they are the same
    object (their arrays have no cheap value equality).
    """

    cell: Cell
    parameters: dict
    N: int
    couplings: tuple
    coupling_seed: int
    compiled: CompiledCell = field(repr=False)

    @property
    def m(self) -> int:
        """Number of state components per unit."""
        return self.cell.m

    @property
    def K(self) -> int:
        """Number of coupling matrices."""
        return self.cell.K

    @property
    def continuous(self) -> bool:
        """Whether the cell's update is a time derivative."""
        return self.cell.time == "continuous"

    def __repr__(self) -> str:
        return (
            f"Network(cell={self.cell.name!r}, N={self.N}, "
            f"coupling_seed={self.coupling_seed}, parameters={self.parameters})"
        )


def _check_seed(seed, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise GatefieldError(f"{what} must be a non-negative integer, got {seed!r}")
    return int(seed)


def make_network(cell: Cell, N: int, coupling_seed: int, parameters: dict | None = None) -> Network:
    """N units of ``cell`` with couplings drawn from ``coupling_seed``.

    Parameters
    ----------
    cell : Cell
    N : int
        Number of units, at least 2.
    coupling_seed : int
        Seed of the couplings (non-negative).
    parameters : dict, optional
        Parameter overrides by name; the rest keep the cell's defaults.

    Returns
    -------
    Network

    Raises
    ------
    GatefieldError
        If ``N`` is not an integer of at least 2, the seed is not a
        non-negative integer, or an override names no parameter of the cell.

    Notes
    -----
    With ``rng = numpy.random.default_rng(coupling_seed)``, one matrix per
    coupling, in ``cell.couplings`` order::

        J_a = rng.standard_normal((N, N)) / sqrt(N)

    so the entries are iid N(0, 1/N) and independent across matrices
    (THEORY.md section 1).
    """
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        raise GatefieldError(f"the number of units N must be an integer, got {N!r}")
    if N < 2:
        raise GatefieldError(f"a network needs at least N = 2 units, got N = {N}; choose a larger N")
    N = int(N)
    seed = _check_seed(coupling_seed, "the coupling seed")
    values = cell.resolve(parameters)
    rng = np.random.default_rng(seed)
    scale = 1.0 / math.sqrt(N)
    couplings = tuple(rng.standard_normal((N, N)) * scale for _ in cell.couplings)
    for J in couplings:
        J.setflags(write=False)
    return Network(
        cell=cell,
        parameters=values,
        N=N,
        couplings=couplings,
        coupling_seed=seed,
        compiled=compile_cell(cell),
    )


def initial_state(net: Network, seed: int, scale: float = 1.0) -> np.ndarray:
    """A random state with iid N(0, scale^2) entries, shape ``(m, N)``.

    Parameters
    ----------
    net : Network
    seed : int
        Seed of the initial state, separate from the coupling seed: the same
        integer used for both gives independent draws.
    scale : float
        Standard deviation of each entry (non-negative).

    Returns
    -------
    numpy.ndarray, shape (m, N)
    """
    seed = _check_seed(seed, "the initial-state seed")
    scale = float(scale)
    if not math.isfinite(scale) or scale < 0:
        raise GatefieldError(f"the initial-state scale must be finite and non-negative, got {scale}")
    rng = np.random.default_rng([seed, _STATE_STREAM])
    return scale * rng.standard_normal((net.m, net.N))


# -- evaluation ------------------------------------------------------------------


def _state(net: Network, s) -> np.ndarray:
    s = np.asarray(s, dtype=float)
    if s.shape != (net.m, net.N):
        raise GatefieldError(f"a state of this network has shape (m, N) = ({net.m}, {net.N}), got {s.shape}")
    return s


def _evaluate(net: Network, s: np.ndarray) -> tuple:
    """Node values ``(K, N)`` and the name -> value mapping at state ``s``."""
    c = net.compiled
    values = dict(net.parameters)
    for name, row in zip(c.states, s):
        values[name] = row
    eta = np.zeros((net.K, net.N))
    for name, row in zip(c.nodes, eta):
        values[name] = row
    # v_a depends only on nodes before a, so re-evaluating after each node is
    # exact: the still-zero later nodes do not enter v_a.
    for a, J in enumerate(net.couplings):
        v = c.arguments(values)[a]
        eta[a] = J @ v
    return eta, values


def nodes(net: Network, s) -> np.ndarray:
    """Node values ``eta_a = J_a v_a`` at state ``s``, shape ``(K, N)``.

    Notes
    -----
    Computed sequentially in node order, ``eta_a = J_a v_a(s, eta_1, ...,
    eta_{a-1})`` (THEORY.md section 1): one matrix-vector product per node.
    """
    eta, _ = _evaluate(net, _state(net, s))
    return eta


def rhs(net: Network, s) -> np.ndarray:
    """The update ``F(s, eta(s))``, shape ``(m, N)``.

    The next state for a discrete-time cell, the time derivative ``ds/dt``
    for a continuous-time one.
    """
    s = _state(net, s)
    _, values = _evaluate(net, s)
    return np.array(net.compiled.update(values), dtype=float).reshape(net.m, net.N)


def step(net: Network, s) -> np.ndarray:
    """One step of a discrete-time network: ``s_next = F(s, eta(s))``.

    Raises
    ------
    GatefieldError
        For a continuous-time cell.
    """
    if net.continuous:
        raise GatefieldError(
            f"cell '{net.cell.name}' is continuous-time; use trajectory or "
            "run_to_steady_state instead of step"
        )
    return rhs(net, s)


def _flat_rhs(net: Network):
    shape = (net.m, net.N)

    def fun(t, y):
        return rhs(net, y.reshape(shape)).reshape(-1)

    return fun


def _integrate(net: Network, s0: np.ndarray, t_end: float, t_eval=None):
    """Integrate the ODE from 0 to ``t_end``; returns the solution's ``y``."""
    sol = scipy.integrate.solve_ivp(_flat_rhs(net), (0.0, t_end), s0.reshape(-1), t_eval=t_eval, **INTEGRATOR)
    if sol.status < 0:
        raise GatefieldError(
            f"integrating cell '{net.cell.name}' failed at t = {sol.t[-1]:.6g}: "
            f"{sol.message}; try a smaller time span or milder parameters"
        )
    return sol.y


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise GatefieldError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def trajectory(net: Network, s0, steps: int, dt: float | None = None, record_every: int = 1) -> np.ndarray:
    """States along a trajectory from ``s0``, shape ``(T, m, N)``.

    Parameters
    ----------
    net : Network
    s0 : array, shape (m, N)
    steps : int
        Discrete time: the number of map iterations. Continuous time: the
        number of sampling intervals ``dt``; the trajectory spans
        ``steps * dt``.
    dt : float, optional
        Continuous time only: the sampling interval (default
        :data:`DEFAULT_DT`).
    record_every : int
        Keep every ``record_every``-th state.

    Returns
    -------
    numpy.ndarray, shape (T, m, N)
        The states at steps (or times ``dt`` times) ``0, record_every,
        2 record_every, ...`` up to ``steps``: ``T = steps // record_every + 1``,
        the first being ``s0``.

    Notes
    -----
    Discrete time iterates ``s_{t+1} = F(s_t, eta(s_t))``. Continuous time
    integrates ``ds/dt = F(s, eta(s))`` with :func:`scipy.integrate.solve_ivp`,
    explicit Runge-Kutta 4(5) (``RK45``, Dormand-Prince) with ``rtol=1e-6``,
    ``atol=1e-9``, and dense output at the recorded times.
    """
    s = _state(net, s0).copy()
    steps = _check_count(steps, "the number of steps")
    record_every = _check_count(record_every, "record_every")
    if record_every == 0:
        raise GatefieldError("record_every must be at least 1")
    if not net.continuous:
        if dt is not None:
            raise GatefieldError(
                f"cell '{net.cell.name}' is discrete-time; dt applies only to "
                "continuous-time cells, so leave it out"
            )
        out = np.empty((steps // record_every + 1, net.m, net.N))
        out[0] = s
        for t in range(1, steps + 1):
            s = rhs(net, s)
            if t % record_every == 0:
                out[t // record_every] = s
        return out
    dt = DEFAULT_DT if dt is None else float(dt)
    if not math.isfinite(dt) or dt <= 0:
        raise GatefieldError(f"the sampling interval dt must be positive and finite, got {dt}")
    times = dt * np.arange(0, steps + 1, record_every)
    if len(times) == 1:
        return s[None].copy()
    y = _integrate(net, s, float(times[-1]), t_eval=times)
    return y.T.reshape(len(times), net.m, net.N)


def run_to_steady_state(net: Network, s0, time_or_steps) -> np.ndarray:
    """The state after a burn-in from ``s0``, shape ``(m, N)``.

    Parameters
    ----------
    net : Network
    s0 : array, shape (m, N)
    time_or_steps : int or float
        Discrete time: the number of map iterations (an integer).
        Continuous time: the integration time ``T``.

    Notes
    -----
    Continuous time uses the integrator of :func:`trajectory` (RK45,
    ``rtol=1e-6``, ``atol=1e-9``).
    """
    s = _state(net, s0).copy()
    if not net.continuous:
        for _ in range(_check_count(time_or_steps, "the number of burn-in steps")):
            s = rhs(net, s)
        return s
    T = float(time_or_steps)
    if not math.isfinite(T) or T < 0:
        raise GatefieldError(f"the burn-in time must be finite and non-negative, got {T}")
    if T == 0:
        return s
    y = _integrate(net, s, T)
    return y[:, -1].reshape(net.m, net.N)


# -- linearization ---------------------------------------------------------------


def _pencil(net: Network, values: dict) -> tuple:
    """Per-unit pencil coefficients as nested lists of arrays over units."""
    m, K = net.m, net.K
    P = net.compiled.pencil(values)
    A = [[P[k * m + l] for l in range(m)] for k in range(m)]
    o = m * m
    B = [[P[o + k * K + a] for a in range(K)] for k in range(m)]
    o += m * K
    C = [[P[o + a * m + k] for k in range(m)] for a in range(K)]
    o += K * m
    E = [[P[o + a * K + b] for b in range(K)] for a in range(K)]
    return A, B, C, E


def jacobian(net: Network, s) -> np.ndarray:
    """The finite-N Jacobian of ``s -> F(s, eta(s))`` at state ``s``.

    Parameters
    ----------
    net : Network
    s : array, shape (m, N)

    Returns
    -------
    numpy.ndarray, shape (N m, N m)
        Component-major: entry ``[k N + i, l N + j]`` is
        ``d F_k(unit i) / d s_l(unit j)``. For a continuous-time cell this is
        the Jacobian of the vector field ``ds/dt``.

    Notes
    -----
    From the linear pencil of THEORY.md section 3, with per-unit coefficients
    ``A = dF/ds`` (m x m), ``B = dF/deta`` (m x K), ``C_a = dv_a/ds`` and
    ``E_ab = dv_a/deta_b`` (non-zero only for b before a)::

        Jac = A + B (I - J E)^(-1) J C

    computed without an inverse: since ``E`` is strictly lower triangular in
    node order, ``X_a = d eta_a / d s`` (N x N m) follows node by node,

        X_a = J_a (diag(C_a) + sum_{b<a} diag(E_ab) X_b)

    and ``Jac = blockdiag(A) + sum_a diag(B_a) X_a``. A node with no
    dependence on earlier nodes costs only a column scaling of ``J_a``; each
    other node costs one N x N by N x N m product.
    """
    s = _state(net, s)
    N, m, K = net.N, net.m, net.K
    _, values = _evaluate(net, s)
    A, B, C, E = _pencil(net, values)
    units = np.arange(N)
    nonzero_E = [[b < a and bool(np.any(E[a][b] != 0)) for b in range(K)] for a in range(K)]
    # Last node that still needs X_b, so X_b can be freed after it.
    last_use = [max([a for a in range(K) if nonzero_E[a][b]], default=-1) for b in range(K)]
    jac = np.zeros((N * m, N * m))
    X: list = [None] * K
    for a, J in enumerate(net.couplings):
        dense = None
        for b in range(a):
            if nonzero_E[a][b]:
                term = E[a][b][:, None] * X[b]
                dense = term if dense is None else dense + term
            if last_use[b] == a:
                X[b] = None
        if dense is None:
            # diag(C_a) only: J_a diag(C_ak) scales the columns of J_a.
            Xa = np.empty((N, N * m))
            for k in range(m):
                Xa[:, k * N : (k + 1) * N] = J * C[a][k][None, :]
        else:
            for k in range(m):
                dense[units, k * N + units] += C[a][k]
            Xa = J @ dense
            del dense
        for k in range(m):
            if np.any(B[k][a] != 0):
                jac[k * N : (k + 1) * N] += B[k][a][:, None] * Xa
        if last_use[a] > a:
            X[a] = Xa
    for k in range(m):
        for l in range(m):
            jac[k * N + units, l * N + units] += A[k][l]
    return jac


def finite_difference_jacobian(net: Network, s, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of :func:`rhs` by central differences, same layout as
    :func:`jacobian`.

    A reference for tests: it costs 2 N m evaluations of :func:`rhs`.

    Notes
    -----
    Column ``l N + j`` is ``(F(s + eps e_lj) - F(s - eps e_lj)) / (2 eps)``,
    accurate to ``O(eps^2)`` truncation plus ``O(machine eps / eps)``
    round-off.
    """
    s = _state(net, s)
    n = net.m * net.N
    flat = s.reshape(-1)
    out = np.empty((n, n))
    for col in range(n):
        up, down = flat.copy(), flat.copy()
        up[col] += eps
        down[col] -= eps
        out[:, col] = (rhs(net, up.reshape(s.shape)) - rhs(net, down.reshape(s.shape))).reshape(-1)
    return out / (2 * eps)


# -- fixed points ----------------------------------------------------------------


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


def find_fixed_point(
    net: Network,
    s0,
    relax_steps: int = 2000,
    newton_steps: int = 50,
    tol: float = 1e-10,
    newton_below: float = 1e-3,
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
    s = _state(net, s0).copy()
    relax_steps = _check_count(relax_steps, "relax_steps")
    newton_steps = _check_count(newton_steps, "newton_steps")
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
            s = s + G  # = F(s), the next iterate of the map
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
