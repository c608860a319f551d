"""All solutions of the fixed-point mean-field equations ``q = Phi(q)``.

``Phi_a(q) = E[v_a(s*(eta), eta)^2]`` with ``eta_b ~ N(0, q_b)``. Order
parameters whose integrands are identical are one unknown (all four of an
LSTM's are ``E[h*^2]``), so the search runs over the distinct integrals only
(``docs/theory/2-mean-field.md#all-solutions``):

- one unknown: ``Phi(x) - x`` is scanned on a logarithmic grid with a cheap
  rule, every sign change is refined by Brent's method with the accurate
  rule, and near-touching minima of ``|Phi(x) - x|`` are examined so that
  pairs born at a saddle-node are not missed;
- several unknowns: Powell's hybrid method from a grid of starts and from
  the end points of forward iteration, duplicates merged;
- ``q = 0`` is checked exactly (it is a solution when ``Phi(0) = 0``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ... import _checks
from ...errors import GatefieldError, SolverError
from ...theory.spec import Cell
from ..codegen import CompiledCell, compile_cell
from ..problems import MeanField
from ..quadrature import DEFAULT, Quadrature, node_rule, tensor
from ..solution import Solution, Status
from ..states import fixed_states

__all__ = ["AllRoots", "Root", "MeanFieldSolution", "mean_field_map", "continue_mean_field"]


@dataclass(frozen=True)
class Root:
    """One solution of the mean-field equations.

    Attributes
    ----------
    order_parameters : dict
        ``q_a`` by coupling name (``{"J_z": 0.41, ...}``).
    residual : float
        ``max_a |Phi_a(q) - q_a|`` with the solver's quadrature.
    quadrature_error : float
        ``max_a |Phi_a(q)|`` change when the quadrature order is raised by 4
        points per panel: an estimate of the error in ``q`` from the rule.
    """

    order_parameters: dict
    residual: float
    quadrature_error: float = float("nan")

    @property
    def total(self) -> float:
        return float(sum(self.order_parameters.values()))


@dataclass(frozen=True, kw_only=True)
class MeanFieldSolution(Solution):
    """Every root found, sorted by increasing total order parameter.

    Attributes
    ----------
    problem : MeanField
    parameters : dict
        Every parameter value by name.
    roots : tuple of Root
    ``iterations`` counts the evaluations of ``Phi``; ``residual`` is the
    largest root residual (nan without roots). Stability is a spectral
    question: ``gatefield.sites.from_fixed_point(solution, solution=k).support.stable``.
    """

    problem: MeanField = field(repr=False, metadata={"json": False})
    parameters: dict
    roots: tuple

    def to_json(self) -> dict:
        return {
            "cell": self.problem.cell.name,
            "parameters": self.parameters,
            "status": self.status,
            "solutions": [
                {
                    "order_parameters": r.order_parameters,
                    "residual": r.residual,
                    "quadrature_error": r.quadrature_error,
                }
                for r in self.roots
            ],
        }


def _integrals(compiled: CompiledCell, values: dict, q: dict, quadrature: Quadrature = DEFAULT) -> np.ndarray:
    """The distinct mean-field integrals at node variances ``q`` (by node name)."""
    rules = {n: node_rule(q[n], compiled.features.get(n, ()), values, quadrature) for n in compiled.nodes}
    out = np.empty(len(compiled.integrals))
    for j, integral in enumerate(compiled.integrals):
        total = 1.0
        for names, fn in integral.groups:
            rule = tensor([rules[n] for n in names])
            env = dict(values)
            env.update(zip(names, rule.points))
            if compiled.numeric_states:  # then the one group holds every node
                env.update(fixed_states(compiled, env))
            with np.errstate(all="ignore"):
                (value,) = fn(env)
            # A solver's own non-finite trial q gives a non-finite Phi, as before; finite q must not.
            if not np.all(np.isfinite(value)) and np.all(np.isfinite(list(q.values()))):
                raise SolverError(_overflow(compiled, q))
            total *= rule.expect(value)
        out[j] = total
    return out


def _overflow(compiled: CompiledCell, q: dict) -> str:
    at = ", ".join(f"q[{n}] = {v:.3g}" for n, v in compiled.coupling_keyed(q).items())
    return (
        f"the mean-field integrand of cell '{compiled.cell.name}' is not finite at some points ({at}): "
        "an exponential or power overflows, or a gate saturates to exactly 0 or 1 and divides by zero; "
        "write the cell in a bounded form (sigmoid or tanh instead of exp) or use smaller gains"
    )


class _Map:
    """``Phi`` over the distinct integrals, counting evaluations.

    ``scan`` is the cheap rule that brackets roots, ``tol`` the residual at
    which a root is accepted (relative to ``1 + |q|``).
    """

    def __init__(self, compiled: CompiledCell, values: dict, quadrature: Quadrature, scan: Quadrature, tol: float):
        self.c = compiled
        self.values = values
        self.quadrature = quadrature
        self.scan = scan
        self.tol = tol
        self.unknowns = len(compiled.integrals)
        self.calls = 0

    def node_q(self, x) -> dict:
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return {n: float(x[j]) for n, j in zip(self.c.nodes, self.c.integral_of)}

    def __call__(self, x, quadrature: Quadrature | None = None) -> np.ndarray:
        self.calls += 1
        return _integrals(self.c, self.values, self.node_q(x), quadrature or self.quadrature)


def mean_field_map(cell: Cell, q: dict, parameters: dict | None = None, quadrature: Quadrature = DEFAULT) -> dict:
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
    if not isinstance(cell, Cell):
        raise GatefieldError(f"mean_field_map needs a Cell, got {type(cell).__name__}")
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    q_nodes = {n: _checks.number(v, f"q for {n}") for n, v in compiled.node_keyed(q, "q").items()}
    integrals = _integrals(compiled, values, q_nodes, quadrature)
    return {name: float(integrals[compiled.integral_of[k]]) for k, name in enumerate(compiled.couplings)}


def _roots_1d(phi: _Map, q_max: float, points: int) -> list:
    grid = np.concatenate([[0.0], np.geomspace(1e-7 * q_max, q_max, points)])
    g = np.array([phi([x], phi.scan)[0] - x for x in grid])

    def accurate(x):
        return phi([x])[0] - x

    roots = []
    if abs(phi([0.0])[0]) <= phi.tol:
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
            0 < k and abs(g[k]) < abs(g[k - 1]) and abs(g[k]) < abs(g[k + 1]) and abs(g[k]) < 1e-2 * max(grid[k], 1e-12)
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
    if np.max(np.abs(phi(np.zeros(n)))) <= phi.tol:
        roots.append(np.zeros(n))
    coarse = []
    for x0 in candidates:  # search with the cheap rule ...
        sol = optimize.root(lambda x: phi(x, phi.scan) - x, x0, method="hybr", options={"xtol": 1e-8})
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


@dataclass(frozen=True)
class AllRoots:
    """Find every solution of the mean-field equations with ``q`` in ``[0, q_max]``.

    Attributes
    ----------
    q_max : float
        Upper end of the search range for every order parameter.
    grid_points : int
        Points of the bracketing scan (one unknown); several unknowns get
        ``max(3, min(grid_points // 20, 8))`` starts per unknown.
    starts : tuple
        Extra starting points (in the distinct unknowns), e.g. the roots at a
        neighbouring parameter value during continuation.
    quadrature : Quadrature
        The accurate rule every root is refined and checked with.
    scan_order : int
        Gauss-Legendre points per panel of the cheap bracketing rule (4:
        relative error <= 2.5e-5).
    residual_tol : float
        A root is accepted when ``|Phi(q) - q| <= residual_tol * (1 + |q|)``.
    """

    q_max: float = 50.0
    grid_points: int = 160
    starts: tuple = ()
    quadrature: Quadrature = DEFAULT
    scan_order: int = 4
    residual_tol: float = 1e-9

    problems = (MeanField,)

    def __post_init__(self):
        _checks.positive(self.q_max, "q_max")
        _checks.count(self.grid_points, "grid_points", 2)
        _checks.count(self.scan_order, "scan_order", 1)
        _checks.positive(self.residual_tol, "residual_tol")

    def run(self, problem: MeanField) -> MeanFieldSolution:
        compiled = compile_cell(problem.cell)
        values = problem.values
        phi = _Map(compiled, values, self.quadrature, self.quadrature.with_order(self.scan_order), self.residual_tol)
        q_max = float(self.q_max)
        if phi.unknowns == 1:
            roots = _roots_1d(phi, q_max, self.grid_points)
        else:
            roots = _roots_nd(phi, q_max, self.starts, max(3, min(self.grid_points // 20, 8)))
        found = []
        for x in roots:
            residual = float(np.max(np.abs(phi(x) - x)))
            if residual > self.residual_tol * (1 + float(np.max(x))) or np.max(x) > q_max * (1 + 1e-9):
                continue
            if any(np.allclose(x, y, rtol=1e-6, atol=1e-10) for y, _ in found):
                continue
            found.append((x, residual))
        found.sort(key=lambda item: sum(phi.node_q(item[0]).values()))
        higher = self.quadrature.with_order(self.quadrature.order + 4)
        out = []
        for x, residual in found:
            quad_error = float(np.max(np.abs(phi(x, higher) - phi(x))))
            out.append(Root(compiled.coupling_keyed(phi.node_q(x)), residual, quad_error))
        status = Status.SUCCESS if out else Status.NO_SOLUTION
        message = (
            ""
            if out
            else (
                f"no mean-field solution found for cell '{problem.cell.name}' with q in [0, {q_max:g}]; "
                "try a larger q_max"
            )
        )
        return MeanFieldSolution(
            problem=problem,
            parameters=dict(values),
            roots=tuple(out),
            status=status,
            iterations=phi.calls,
            residual=max((r.residual for r in out), default=float("nan")),
            settings={"q_max": q_max, "grid_points": self.grid_points, "order": self.quadrature.order},
            message=message,
        )


def representatives(compiled: CompiledCell) -> list:
    """The coupling whose order parameter stands for each distinct integral."""
    return [compiled.couplings[compiled.integral_of.index(j)] for j in range(len(compiled.integrals))]


def starts_from(solution: MeanFieldSolution) -> tuple:
    """The roots of ``solution`` as starts of the next solve (continuation)."""
    reps = representatives(compile_cell(solution.problem.cell))
    return tuple(np.array([r.order_parameters[c] for c in reps]) for r in solution.roots)


def continue_mean_field(
    cell: Cell,
    name: str,
    values,
    parameters: dict | None = None,
    progress=None,
    solver: AllRoots = AllRoots(),
) -> list:
    """Solve along a sweep of parameter ``name``, seeding each solve with the
    previous roots (continuation) as well as a fresh search.

    Returns
    -------
    list of MeanFieldSolution, one per value (each may have no roots).
    """
    from dataclasses import replace

    from ..solve import solve

    results, starts = [], ()
    for k, value in enumerate(values):
        params = {**(parameters or {}), name: float(value)}
        result = solve(MeanField(cell, params), replace(solver, starts=starts), throw=False)
        results.append(result)
        starts = starts_from(result)
        if progress is not None:
            progress(k + 1, len(values))
    return results
