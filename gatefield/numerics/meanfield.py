"""Solving the fixed-point mean-field equations ``q = Phi(q)`` (THEORY.md section 2).

``Phi_a(q) = E[v_a(s*(eta), eta)^2]`` with ``eta_b ~ N(0, q_b)``. Order
parameters whose integrands are identical are one unknown (all four of an
LSTM's are ``E[h*^2]``), so the search runs over the distinct integrals only.

How all solutions in ``[0, q_max]`` are found:

- one unknown: ``Phi(x) - x`` is scanned on a logarithmic grid with a cheap
  quadrature rule, every sign change is refined by Brent's method with the
  accurate rule, and near-touching minima of ``|Phi(x) - x|`` are examined so
  that pairs born at a saddle-node are not missed;
- several unknowns: Powell's hybrid method from a grid of starts and from
  the end points of forward iteration, duplicates merged;
- ``q = 0`` is checked exactly (it is a solution when ``Phi(0) = 0``).

Each solution carries its residual and, by default, the stability of the
network's fixed point from the predicted support of its Jacobian.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..errors import SolverError
from ..theory.spec import Cell
from .codegen import CompiledCell, compile_cell
from .quadrature import ORDER, node_rule, tensor_rule
from .support import Support, fixed_point_sites, fixed_states, trace_support

__all__ = [
    "MeanFieldSolution",
    "MeanFieldResult",
    "mean_field_map",
    "solve_mean_field",
    "continue_mean_field",
]

#: Cheap rule (4 Legendre nodes per panel, relative error <= 2.5e-5) used
#: only to bracket roots; every root is then refined with the accurate rule.
SCAN_ORDER = 4
#: A root is accepted when ``|Phi(q) - q| <= RESIDUAL_TOL * (1 + |q|)``.
RESIDUAL_TOL = 1e-9


@dataclass(frozen=True)
class MeanFieldSolution:
    """One solution of the mean-field equations.

    Attributes
    ----------
    order_parameters : dict
        ``q_a`` by coupling matrix name (``{"J_z": 0.41, ...}``).
    residual : float
        ``max_a |Phi_a(q) - q_a|`` with the default quadrature.
    quadrature_error : float
        ``max_a |Phi_a(q)|`` change when the quadrature order is raised by
        4 nodes per panel: an estimate of the error in ``q`` from the rule.
    node_variances : dict
        The same by node name (``{"eta_z": 0.41, ...}``): the variances of
        the site distribution, as :func:`fixed_point_sites` takes them.
    stable : bool or None
        Whether the network's fixed point is linearly stable (support of the
        Jacobian's spectrum inside the unit disc / left half-plane); None if
        not computed.
    support : Support or None
    """

    order_parameters: dict
    residual: float
    quadrature_error: float = float("nan")
    stable: bool | None = None
    support: Support | None = field(default=None, repr=False)
    node_variances: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.order_parameters.values()))

    def to_json(self) -> dict:
        out = {
            "order_parameters": dict(self.order_parameters),
            "residual": self.residual,
            "quadrature_error": self.quadrature_error,
            "stable": self.stable,
        }
        if self.support is not None:
            out["spectral_radius"] = self.support.spectral_radius
            out["rightmost_real"] = self.support.rightmost_real
        return out


@dataclass(frozen=True)
class MeanFieldResult:
    """All solutions found, sorted by increasing total order parameter.

    Attributes
    ----------
    solutions : tuple of MeanFieldSolution
    parameters : dict
    status : str
        "ok", or "no solution" (only when asked not to raise).
    evaluations : int
        Number of evaluations of ``Phi``.
    """

    cell: str
    parameters: dict
    solutions: tuple
    status: str
    evaluations: int

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "status": self.status,
            "solutions": [s.to_json() for s in self.solutions],
        }


def _integrals(compiled: CompiledCell, values: dict, q: dict, order: int = ORDER) -> np.ndarray:
    """The distinct mean-field integrals at node variances ``q``."""
    rules = {n: node_rule(q[n], compiled.features.get(n, ()), values, order) for n in compiled.nodes}
    out = np.empty(len(compiled.integrals))
    for j, integral in enumerate(compiled.integrals):
        total = 1.0
        for names, fn in integral.groups:
            points, w = tensor_rule([rules[n] for n in names])
            env = dict(values)
            env.update(zip(names, points))
            if compiled.numeric_states:  # then the one group holds every node
                env.update(fixed_states(compiled, env))
            (value,) = fn(env)
            total *= float(np.broadcast_to(value, w.shape) @ w)
        out[j] = total
    return out


class _Map:
    """``Phi`` over the distinct integrals, counting evaluations."""

    def __init__(self, compiled: CompiledCell, values: dict):
        self.c = compiled
        self.values = values
        self.unknowns = len(compiled.integrals)
        self.calls = 0

    def node_q(self, x) -> dict:
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return {n: float(x[j]) for n, j in zip(self.c.nodes, self.c.integral_of)}

    def __call__(self, x, order=ORDER) -> np.ndarray:
        self.calls += 1
        return _integrals(self.c, self.values, self.node_q(x), order)


def mean_field_map(cell: Cell, q, parameters: dict | None = None) -> dict:
    """``Phi(q)``: the right-hand sides of the mean-field equations.

    Parameters
    ----------
    q : dict
        Order parameters by coupling name; every coupling must be given.

    Returns
    -------
    dict
        ``E[v_a^2]`` by coupling name.
    """
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    names = [c.matrix for c in cell.couplings]
    missing = [n for n in names if n not in q]
    if missing:
        raise SolverError(f"mean_field_map needs q for every coupling; missing {', '.join(missing)}")
    q_nodes = {node: float(q[name]) for node, name in zip(compiled.nodes, names)}
    integrals = _integrals(compiled, values, q_nodes)
    return {name: float(integrals[compiled.integral_of[k]]) for k, name in enumerate(names)}


def _roots_1d(phi: _Map, q_max: float, points: int) -> list:
    grid = np.concatenate([[0.0], np.geomspace(1e-7 * q_max, q_max, points)])
    g = np.array([phi([x], SCAN_ORDER)[0] - x for x in grid])

    def accurate(x):
        return phi([x])[0] - x

    roots = []
    if abs(phi([0.0])[0]) <= RESIDUAL_TOL:
        roots.append(0.0)
    for k in range(1, len(grid) - 1):
        if np.sign(g[k]) != np.sign(g[k + 1]) or g[k] == 0:
            # The cheap rule can misplace a sign change by a cell or two where
            # an integrand switches along a curve no single-node feature
            # describes (an LSTM's tanh(i g / (1 - f))): widen the bracket
            # with the accurate rule until it really brackets.
            lo, hi = k, k + 1
            fa, fb = accurate(grid[lo]), accurate(grid[hi])
            while np.sign(fa) == np.sign(fb) and fa != 0 and (lo > 0 or hi < len(grid) - 1) and hi - lo < 8:
                if np.sign(fa) == np.sign(g[k + 1]) and lo > 0:
                    lo -= 1
                    fa = accurate(grid[lo])
                elif hi < len(grid) - 1:
                    hi += 1
                    fb = accurate(grid[hi])
                else:
                    break
            if fa == 0:
                roots.append(grid[lo])
            elif np.sign(fa) != np.sign(fb):
                roots.append(optimize.brentq(accurate, grid[lo], grid[hi], xtol=1e-14, rtol=1e-13))
        elif (
            0 < k
            and abs(g[k]) < abs(g[k - 1])
            and abs(g[k]) < abs(g[k + 1])
            and abs(g[k]) < 1e-2 * max(grid[k], 1e-12)
        ):
            # A near-touching minimum: a pair of roots may hide inside one cell.
            lo, hi = grid[k - 1], grid[k + 1]
            sign = np.sign(g[k])
            res = optimize.minimize_scalar(
                lambda x, s=sign: s * accurate(x),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-12 * hi},
            )
            xm = res.x
            f_lo, f_mid, f_hi = accurate(lo), accurate(xm), accurate(hi)
            if np.sign(f_lo) != np.sign(f_mid):
                roots.append(optimize.brentq(accurate, lo, xm, xtol=1e-14, rtol=1e-13))
            if np.sign(f_mid) != np.sign(f_hi):
                roots.append(optimize.brentq(accurate, xm, hi, xtol=1e-14, rtol=1e-13))
    return [np.array([r]) for r in roots]


def _roots_nd(phi: _Map, q_max: float, starts, points: int) -> list:
    n = phi.unknowns
    levels = np.geomspace(1e-3 * q_max, q_max, points)
    candidates = [np.array(s, dtype=float) for s in starts]
    grid = list(itertools.product(levels, repeat=n))
    if len(grid) > 400:  # keep the multi-start affordable for many unknowns
        rng = np.random.default_rng(0)
        grid = [grid[i] for i in rng.choice(len(grid), 400, replace=False)]
    candidates += [np.array(g) for g in grid]
    for x0 in (np.full(n, q_max), np.full(n, 1.0)):  # forward iteration finds stable branches
        x = x0
        for _ in range(200):
            x = phi(x)
        candidates.append(x)
    roots = []
    if np.max(np.abs(phi(np.zeros(n)))) <= RESIDUAL_TOL:
        roots.append(np.zeros(n))
    coarse = []
    for x0 in candidates:  # search with the cheap rule ...
        sol = optimize.root(lambda x: phi(x, SCAN_ORDER) - x, x0, method="hybr", options={"xtol": 1e-8})
        if (
            sol.success
            and np.all(sol.x >= -1e-8)
            and not any(np.allclose(sol.x, y, rtol=1e-4, atol=1e-8) for y in coarse)
        ):
            coarse.append(sol.x)
    for x0 in coarse:  # ... and polish every distinct root with the accurate one
        sol = optimize.root(lambda x: phi(x) - x, np.maximum(x0, 0.0), method="hybr", options={"xtol": 1e-13})
        # hybr may report "not making good progress" on a root it has already
        # reached to round-off: keep the candidate; the caller's residual
        # test decides.
        if np.all(sol.x >= -1e-12):
            roots.append(np.maximum(sol.x, 0.0))
    return roots


def solve_mean_field(
    cell: Cell,
    parameters: dict | None = None,
    q_max: float = 50.0,
    grid_points: int = 160,
    stability: bool = True,
    starts=(),
    raise_on_failure: bool = True,
) -> MeanFieldResult:
    """Find all solutions of the mean-field equations with ``q`` in ``[0, q_max]``.

    Parameters
    ----------
    cell : Cell
    parameters : dict, optional
        Overrides of the cell's defaults.
    q_max : float
        Upper end of the search range for every order parameter.
    grid_points : int
        Points of the bracketing scan (one unknown) or starts per unknown
        (several).
    stability : bool
        Compute each solution's support and stability.
    starts : sequence
        Extra starting points (in the distinct unknowns), e.g. the solutions
        at a neighbouring parameter value during continuation.
    raise_on_failure : bool
        Raise :class:`SolverError` when no solution is found; otherwise
        return a result with status "no solution".
    """
    if not (np.isfinite(q_max) and q_max > 0):
        raise SolverError(f"q_max must be a positive number, got {q_max}")
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    phi = _Map(compiled, values)
    if phi.unknowns == 1:
        roots = _roots_1d(phi, q_max, grid_points)
    else:
        roots = _roots_nd(phi, q_max, starts, max(3, min(grid_points // 20, 8)))
    found = []
    for x in roots:
        residual = float(np.max(np.abs(phi(x) - x)))
        if residual > RESIDUAL_TOL * (1 + float(np.max(x))) or np.max(x) > q_max * (1 + 1e-9):
            continue
        if any(np.allclose(x, y, rtol=1e-6, atol=1e-10) for y, _ in found):
            continue
        found.append((x, residual))
    found.sort(key=lambda item: sum(phi.node_q(item[0]).values()))
    solutions = []
    for x, residual in found:
        q_nodes = phi.node_q(x)
        quad_error = float(np.max(np.abs(phi(x, ORDER + 4) - phi(x))))
        support = None
        if stability:
            support = trace_support(fixed_point_sites(compiled, values, q_nodes), cell.time)
        order_parameters = {c.matrix: q_nodes[compiled.nodes[k]] for k, c in enumerate(cell.couplings)}
        solutions.append(
            MeanFieldSolution(
                order_parameters,
                residual,
                quad_error,
                None if support is None else support.stable,
                support,
                node_variances=q_nodes,
            )
        )
    if not solutions and raise_on_failure:
        raise SolverError(
            f"no mean-field solution found for cell '{cell.name}' with q in [0, {q_max}]; try a larger q_max"
        )
    return MeanFieldResult(
        cell.name, values, tuple(solutions), "ok" if solutions else "no solution", phi.calls
    )


def continue_mean_field(
    cell: Cell, name: str, values, parameters: dict | None = None, progress=None, **kwargs
) -> list:
    """Solve along a sweep of parameter ``name``, seeding each solve with the
    previous solutions (continuation) as well as a fresh search.

    Returns
    -------
    list of MeanFieldResult, one per value.
    """
    compiled = compile_cell(cell)
    # The coupling whose order parameter stands for each distinct integral.
    representative = [
        cell.couplings[compiled.integral_of.index(j)].matrix for j in range(len(compiled.integrals))
    ]
    results, starts = [], []
    for k, value in enumerate(values):
        params = dict(parameters or {})
        params[name] = float(value)
        result = solve_mean_field(cell, params, starts=starts, raise_on_failure=False, **kwargs)
        results.append(result)
        starts = [np.array([s.order_parameters[c] for c in representative]) for s in result.solutions]
        if progress is not None:
            progress(k + 1, len(values))
    return results
