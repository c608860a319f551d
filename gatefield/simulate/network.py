"""Finite-N simulation of a cell, generated from the same spec as the theory.

A :class:`Network` is N units of a cell with fixed couplings ``J_a`` (entries
iid N(0, 1/N)). Everything here evaluates the numpy functions that
:func:`gatefield.numerics.codegen.compile_cell` generates from the cell, so
the simulator and the mean-field theory read one and the same specification
(``docs/theory/1-model.md``). This package never imports SymPy.

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

from .. import _checks, _sampling
from .._integrate import adaptive
from ..errors import GatefieldError, SolverError
from ..numerics.codegen import CompiledCell, compile_cell
from ..theory.spec import Cell

__all__ = [
    "Network",
    "initial_state",
    "make_network",
    "nodes",
    "population_q",
    "rhs",
    "run_to_steady_state",
    "step",
    "trajectory",
]

#: Default sampling interval of continuous-time trajectories, in the cell's
#: time unit. Half a unit resolves the relaxation of a unit-leak rate network
#: (time constant 1) while keeping trajectories short.
DEFAULT_DT = 0.5


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
    (``docs/theory/1-model.md``).
    """
    if not isinstance(cell, Cell):
        raise GatefieldError(
            f"make_network needs a Cell (gatefield.load_cell(name or file)), got {type(cell).__name__}"
        )
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        raise GatefieldError(f"the number of units N must be an integer, got {N!r}")
    if N < 2:
        raise GatefieldError(f"a network needs at least N = 2 units, got N = {N}; choose a larger N")
    N = int(N)
    seed = _checks.count(coupling_seed, "the coupling seed", 0)
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
    seed = _checks.count(seed, "the initial-state seed", 0)
    scale = float(scale)
    if not math.isfinite(scale) or scale < 0:
        raise GatefieldError(f"the initial-state scale must be finite and non-negative, got {scale}")
    # The state stream is kept apart from the couplings' (otherwise the first
    # unit's state would equal sqrt(N) times the first row of the first matrix).
    rng = _sampling.rng(seed, "state")
    return scale * rng.standard_normal((net.m, net.N))


# -- evaluation ------------------------------------------------------------------


def _state(net: Network, s) -> np.ndarray:
    try:
        s = np.asarray(s, dtype=float)
    except (TypeError, ValueError):
        raise GatefieldError(
            f"a state of this network is an (m, N) = ({net.m}, {net.N}) array of numbers, got {type(s).__name__}"
        ) from None
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
    eta_{a-1})`` (``docs/theory/1-model.md``): one matrix-vector product per node.
    """
    eta, _ = _evaluate(net, _state(net, s))
    return eta


def population_q(net, state) -> dict:
    """``<v_a^2>`` over units by coupling at ``state``: the order parameters
    of one finite network."""
    env = dict(net.parameters)
    env.update(zip(net.compiled.states, state))
    env.update(zip(net.compiled.nodes, nodes(net, state)))
    v = net.compiled.arguments(env)
    return {c: float(np.mean(np.asarray(v[k]) ** 2)) for k, c in enumerate(net.compiled.couplings)}


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
            f"cell '{net.cell.name}' is continuous-time; use trajectory or run_to_steady_state instead of step"
        )
    return rhs(net, s)


def _flat_rhs(net: Network):
    shape = (net.m, net.N)

    def fun(t, y):
        return rhs(net, y.reshape(shape)).reshape(-1)

    return fun


def _integrate(net: Network, s0: np.ndarray, t_end: float, t_eval=None):
    """Integrate the ODE from 0 to ``t_end``; returns the solution's ``y``."""
    sol = adaptive(_flat_rhs(net), s0.reshape(-1), t_end, t_eval)
    if sol.status < 0:
        raise SolverError(
            f"integrating cell '{net.cell.name}' failed at t = {sol.t[-1]:.6g}: "
            f"{sol.message}; try a smaller time span or milder parameters"
        )
    return sol.y


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
    integrates ``ds/dt = F(s, eta(s))`` with :func:`scipy.integrate.solve_ivp`
    (``gatefield._integrate.adaptive``),
    explicit Runge-Kutta 4(5) (``RK45``, Dormand-Prince) with ``rtol=1e-6``,
    ``atol=1e-9``, and dense output at the recorded times.
    """
    s = _state(net, s0).copy()
    steps = _checks.count(steps, "the number of steps", 0)
    record_every = _checks.count(record_every, "record_every", 0)
    if record_every == 0:
        raise GatefieldError("record_every must be at least 1")
    if not net.continuous:
        if dt is not None:
            raise GatefieldError(
                f"cell '{net.cell.name}' is discrete-time; dt applies only to continuous-time cells, so leave it out"
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
        for _ in range(_checks.count(time_or_steps, "the number of burn-in steps", 0)):
            s = rhs(net, s)
        return s
    T = float(time_or_steps)
    if not math.isfinite(T) or T < 0:
        raise GatefieldError(f"the burn-in time must be finite and non-negative, got {T}")
    if T == 0:
        return s
    y = _integrate(net, s, T)
    return y[:, -1].reshape(net.m, net.N)
