"""The annealed complexity ``Sigma``: problem, solver and solution.

Form (docs/theory/10-complexity.md)::

    Sigma = sup_q inf_qhat extr_{a,b} S(q, qhat, a, b)
    S = sum_g qhat_g q_g - a.b / 2 + log E_{N(0, diag q)}[exp(-sum_g qhat_g v_g^2) det(I + diag(a) T^T diag(b) T)^(1/2)]

solved for every stationary point ("saddle") with ``a, b`` not all zero by
Powell's hybrid method from several starts: the typical mean-field roots
(``qhat = 0`` and the Hermitized ``(a, b)`` of their Gaussian site measure),
a coarse grid of ``q`` and any continuation starts. The gauge ``(a, b) -> (c
a, b / c)`` is fixed by ``a_c = b_c`` on a node where both are non-zero,
and that node's ``b`` equation, dependent on the others, is dropped.
``Sigma`` is the largest saddle value; when ``eta = 0`` is a fixed point
of every network the count is at least 1 and the reported ``sigma`` is ``max(Sigma, 0)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ... import _checks
from ...errors import GatefieldError
from ..problems import MeanField
from ..quadrature import DEFAULT, Quadrature
from ..solution import Status
from ._compiled import CompiledKacRice, compile_kac_rice
from ._tilted import Evaluator, SiteRule, averages
from .results import Complexity, ComplexitySolution, Saddle, Typical

__all__ = ["Complexity", "Saddles", "Saddle", "Typical", "ComplexitySolution", "hermitized", "pack", "unpack"]

#: A start whose coarse-rule residual ends below this is polished on the
#: accurate rule (the coarse rule's own error is about 2.5e-5).
SEARCH_TOL = 1e-4

#: A saddle whose order parameters are all below this is the zero fixed
#: point approached along a vanishing branch (S -> 0), not a saddle of its own.
Q_MIN = 1e-8

#: ``a.b`` below this is the trivial solution ``a = b = 0`` (the slow point
#: outside the support): relative to O(1) values of ``a b`` on a saddle.
TRIVIAL = 1e-12


# -- unknowns -----------------------------------------------------------------


def pack(q, qhat, a, b) -> np.ndarray:
    """``x = (log q, qhat, a, b)``, ``(a, b)`` moved to the gauge ``sum a = sum b``
    (the solver re-gauges internally, :func:`_gauged`)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = np.sqrt(b.sum() / a.sum()) if a.sum() > 0 and b.sum() > 0 else 1.0
    return np.concatenate([np.log(q), qhat, a * c, b / c])


def unpack(x, G: int, K: int) -> tuple:
    """``(q, qhat, a, b)`` from packed ``x``."""
    q = np.exp(np.clip(x[:G], -700.0, 50.0))
    return q, x[G : 2 * G], x[2 * G : 2 * G + K], x[2 * G + K :]


def _equations(ev: Evaluator, x, G: int, K: int) -> np.ndarray:
    """The ``2G + 2K`` scaled stationarity residuals at packed ``x``."""
    q, qhat, a, b = unpack(x, G, K)
    av = averages(ev, q, qhat, a, b)
    if not np.isfinite(av.S) or not np.all(q > 0):
        # Outside the domain (a determinant <= 0, q underflowed): a large
        # residual turns the solver back.
        return np.full(len(x), 1e3)
    members = ev.ck.groups
    f_q = 1.0 - av.v2 / q
    f_qhat = np.array([qhat[g] * q[g] - sum(0.5 * (1.0 - av.eta2[k] / q[g]) for k in m) for g, m in enumerate(members)])
    return np.concatenate([f_q, f_qhat, a - av.a_rhs, b - av.b_rhs])


def _gauged(x, G: int, K: int) -> tuple:
    """``x`` in the gauge ``a_c = b_c`` of the node ``c`` with the largest
    ``min(a_c, b_c)``, and the index of ``b_c`` in ``x``.

    The gauge symmetry makes one of the ``2K`` Hermitized equations
    dependent on the others; the ``b_c`` equation may be dropped only where
    ``b_c != 0`` (a column of ``T`` that vanishes at these parameters, a GRU
    reset gate at ``alpha_r = 0``, forces its own ``b`` to zero), hence the choice.
    """
    q, qhat, a, b = unpack(x, G, K)
    c = int(np.argmax(np.minimum(a, b)))
    if a[c] > 0 and b[c] > 0:
        scale = np.sqrt(b[c] / a[c])
        a, b = a * scale, b / scale
    y = np.concatenate([np.log(q), qhat, a, b])
    return y, 2 * G + K + c, 2 * G + c


def hermitized(ev: Evaluator, q_groups, tilted: bool = False, qhat=None, iterations: int = 60) -> tuple | None:
    """The non-trivial ``(a, b)`` of ``b = <W Mm^-1>``, ``a = <T Mm^-1 diag(a) T^T>``
    at fixed ``(q, qhat)`` (the Gaussian measure for ``tilted=False``), or
    None when only ``a = b = 0`` solves them.

    A few forward iterations from ``a = b = 1`` with the gauge reset each
    step (the trivial solution repels them exactly when the slow point is
    inside the support), then hybr in the gauge of :func:`_gauged`.
    """
    K, G = ev.ck.K, ev.ck.G
    qhat = np.zeros(G) if qhat is None else np.asarray(qhat, float)
    a, b = np.ones(K), np.ones(K)
    for _ in range(iterations):
        av = averages(ev, q_groups, qhat, a, b, tilted)
        if not np.isfinite(av.S):
            return None
        a_new, b_new = np.maximum(av.a_rhs, 0.0), np.maximum(av.b_rhs, 0.0)
        if a_new @ b_new < TRIVIAL or a_new.sum() <= 0 or b_new.sum() <= 0:
            return None
        c = np.sqrt(b_new.sum() / a_new.sum())
        a_new, b_new = a_new * c, b_new / c
        done = np.max(np.abs(a_new - a)) + np.max(np.abs(b_new - b)) < 1e-12
        a, b = a_new, b_new
        if done:
            break

    c = int(np.argmax(np.minimum(a, b)))  # the gauge a_c = b_c, as in _gauged
    keep = np.arange(2 * K) != K + c

    def full(y):
        out = np.empty(2 * K)
        out[keep] = y
        out[K + c] = out[c]
        return out

    def f(y):
        ab = full(y)
        av = averages(ev, q_groups, qhat, ab[:K], ab[K:], tilted)
        if not np.isfinite(av.S):
            return np.full(len(y), 1e3)
        return np.concatenate([ab[:K] - av.a_rhs, ab[K:] - av.b_rhs])[keep]

    scale = np.sqrt(b[c] / a[c])
    y0 = np.concatenate([a * scale, b / scale])[keep]
    sol = optimize.root(f, y0, method="hybr", options={"xtol": 1e-13})
    y = full(sol.x if np.max(np.abs(f(sol.x))) < np.max(np.abs(f(y0))) else y0)
    a, b = y[:K], y[K:]
    if a @ b < TRIVIAL or np.any(a < -1e-12) or np.any(b < -1e-12):
        return None
    return a, b


def _root(ck: CompiledKacRice, values: dict, x0, quadrature: Quadrature, rounds: int, logab: bool = False) -> tuple:
    """Powell's hybrid method from ``x0`` on a rule frozen at the current ``q``,
    rebuilt at the solution up to ``rounds`` times; returns ``(x, residual, calls)``.

    With ``logab`` the unknowns are ``log a, log b``: the trivial solution
    ``a = b = 0`` is then at infinity. Near a continuous onset it is a
    strong attractor for starts in linear unknowns (the non-trivial saddle
    has ``a b ~ g - 1`` next to it), so the search runs in logs and the
    polish, which may need an ``a`` or ``b`` that is exactly 0, in linear
    unknowns.
    """
    G, K = ck.G, ck.K
    x, drop, twin = _gauged(np.asarray(x0, float), G, K)
    keep = np.arange(len(x)) != drop
    ab = slice(2 * G, 2 * G + 2 * K)
    calls, residual = 0, np.inf
    if logab:
        x = x.copy()
        x[ab] = np.log(np.maximum(x[ab], 1e-12))

    def full(y):
        out = np.empty(len(x))
        out[keep] = y
        out[drop] = out[twin]
        return out

    def linear(z):
        if not logab:
            return z
        z = z.copy()
        z[ab] = np.exp(np.clip(z[ab], -700.0, 50.0))
        return z

    for _ in range(rounds):
        ev = Evaluator(ck, values, SiteRule.build(ck, values, np.exp(x[:G])[list(ck.group_of)], quadrature))
        try:
            sol = optimize.root(
                lambda y, ev=ev: _equations(ev, linear(full(y)), G, K)[keep],
                x[keep],
                method="hybr",
                options={"xtol": 1e-13},
            )
        except (ValueError, np.linalg.LinAlgError):
            break
        calls += ev.calls
        if not np.all(np.isfinite(sol.x)):
            break
        moved = float(np.max(np.abs(sol.x - x[keep])))
        x = full(sol.x)
        residual = float(np.max(np.abs(sol.fun)))
        if moved < 1e-10:
            break
    return linear(x), residual, calls


def _spectral_radius(ell: np.ndarray) -> float:
    return float(np.sqrt(np.max(np.abs(np.linalg.eigvals(ell)))))


@dataclass(frozen=True)
class Saddles:
    """Find every non-trivial saddle of ``S``.

    Attributes
    ----------
    quadrature : Quadrature
        The graded rule per node (tensor product over the active nodes).
    grid : tuple of float
        Levels of the coarse ``q`` grid of starts, in units of the largest
        non-zero mean-field root (of 1 without one), for each group (their
        product for several groups); empty: only mean-field and given starts.
    tilts : tuple of float
        Starting ``qhat`` (every group) at each grid point. Near a continuous
        onset the saddle has ``qhat -> 1/2`` (the rate network's), far
        from the mean-field start ``qhat = 0``, so both are tried.
    starts : tuple of numpy arrays
        Extra starts in packed form (:func:`pack`), e.g. the saddles of a
        neighbouring parameter value.
    mean_field : bool
        Start from the mean-field roots too (and report the untilted bounds).
    tol : float
        A saddle is accepted when its largest scaled residual is below this.
    scan_order : int
        Points per panel of the cheap rule every start is first solved
        with (4: relative error about 2.5e-5); distinct results are then
        polished with ``quadrature``.
    """

    quadrature: Quadrature = DEFAULT
    grid: tuple = (0.05, 0.2, 0.5, 0.9)
    tilts: tuple = (0.0, 0.5)
    starts: tuple = ()
    mean_field: bool = True
    tol: float = 1e-9
    scan_order: int = 4

    problems = (Complexity,)

    def __post_init__(self):
        _checks.positive(self.tol, "tol")
        for level in self.grid:
            _checks.positive(level, "a q grid level")

    def run(self, problem: Complexity) -> ComplexitySolution:
        ck = compile_kac_rice(problem.cell)
        values = problem.values
        G, K = ck.G, ck.K
        typical, candidates = [], [np.asarray(s, float) for s in self.starts]
        if self.mean_field:
            typical, mf_starts = self._typical(problem, ck)
            candidates += mf_starts
        coarse = self.quadrature.with_order(self.scan_order)
        scale = np.ones(G)  # grid levels relative to the largest mean-field q, else to 1
        roots = [np.array([t.order_parameters[ck.couplings[m[0]]] for m in ck.groups]) for t in typical]
        if roots:
            scale = np.max(roots, axis=0)
        for levels in itertools.product(self.grid, repeat=G):
            levels = tuple(np.asarray(levels) * scale)
            ev = Evaluator(ck, values, SiteRule.build(ck, values, np.asarray(levels)[list(ck.group_of)], coarse))
            for tilt in self.tilts:
                qhat = np.full(G, tilt)
                ab = hermitized(ev, np.asarray(levels), tilted=tilt != 0, qhat=qhat)
                if ab is not None:
                    candidates.append(pack(np.asarray(levels), qhat, *ab))
        calls = 0
        found: list = []
        for rule in (coarse, self.quadrature):
            # Search with the cheap rule and polish with the accurate one; where
            # that finds nothing, search again with the accurate rule: near a
            # continuous onset the saddle differs from the trivial solution by
            # less than the cheap rule's error.
            rough: list = []
            for x0 in candidates:
                x, residual, used = _root(ck, values, x0, rule, rounds=1, logab=True)
                calls += used
                q, _, a, b = unpack(x, G, K)
                if not residual < SEARCH_TOL or a @ b < TRIVIAL or np.any(a < -1e-8) or np.any(b < -1e-8):
                    continue
                if not any(np.allclose(x, y, rtol=1e-4, atol=1e-7) for y in rough):
                    rough.append(x)
            for x0 in rough:
                saddle, x, used = self._solve(ck, values, x0)
                calls += used
                if saddle is None or any(np.allclose(x, y, rtol=1e-6, atol=1e-9) for y, _ in found):
                    continue
                found.append((x, saddle))
            if found:
                break
        saddles = tuple(s for _, s in sorted(found, key=lambda item: -item[1].sigma))
        zero = ck.zero_is_fixed_point(values)
        if saddles:
            sigma = saddles[0].sigma
            sigma = max(sigma, 0.0) if zero else sigma
        else:
            sigma = 0.0 if zero else float("nan")
        ok = bool(saddles) or zero
        return ComplexitySolution(
            problem=problem,
            parameters=dict(values),
            saddles=saddles,
            typical=tuple(typical),
            zero_fixed_point=zero,
            sigma=float(sigma),
            status=Status.SUCCESS if ok else Status.NO_SOLUTION,
            iterations=calls,
            residual=max((s.residual for s in saddles), default=float("nan")),
            settings={"order": self.quadrature.order, "grid": list(self.grid), "tol": self.tol},
            message=""
            if ok
            else (
                f"no Kac-Rice saddle found for cell '{problem.cell.name}' and eta = 0 is not a fixed point; "
                "add q grid levels (Saddles(grid=...)) or starts from a neighbouring parameter value"
            ),
            packed=tuple(x for x, _ in sorted(found, key=lambda item: -item[1].sigma)),
        )

    def _typical(self, problem: Complexity, ck: CompiledKacRice) -> tuple:
        """Untilted bounds and starts at every non-zero mean-field root."""
        from ..solve import solve
        from ..solvers.roots import AllRoots

        mf = solve(MeanField(problem.cell, problem.parameters), AllRoots(quadrature=self.quadrature), throw=False)
        out, starts = [], []
        for root in mf.roots:
            q = np.array([root.order_parameters[ck.couplings[m[0]]] for m in ck.groups])
            if np.any(q <= 0):
                continue
            rule = SiteRule.build(ck, problem.values, q[list(ck.group_of)], self.quadrature)
            ev = Evaluator(ck, problem.values, rule)
            ab = hermitized(ev, q, tilted=False)
            if ab is None:
                av = averages(ev, q, np.zeros(ck.G), np.zeros(ck.K), np.zeros(ck.K), tilted=False)
                out.append(Typical(0.0, self._keyed(ck, q), _spectral_radius(av.ell)))
                continue
            a, b = ab
            av = averages(ev, q, np.zeros(ck.G), a, b, tilted=False)
            out.append(Typical(av.S, self._keyed(ck, q), _spectral_radius(av.ell)))
            starts.append(pack(q, np.zeros(ck.G), a, b))
        return out, starts

    @staticmethod
    def _keyed(ck: CompiledKacRice, values) -> dict:
        return {ck.couplings[m[0]]: float(v) for m, v in zip(ck.groups, values)}

    def _solve(self, ck: CompiledKacRice, values: dict, x0) -> tuple:
        """Polish ``x0`` on the accurate rule and describe the saddle (None if it fails)."""
        G, K = ck.G, ck.K
        x, _, calls = _root(ck, values, x0, self.quadrature, rounds=3)
        ev = Evaluator(ck, values, SiteRule.build(ck, values, np.exp(x[:G])[list(ck.group_of)], self.quadrature))
        residual = float(np.max(np.abs(_equations(ev, x, G, K))))
        q, qhat, a, b = unpack(x, G, K)
        if (
            not (residual < self.tol)
            or a @ b < TRIVIAL
            or np.any(a < -1e-10)
            or np.any(b < -1e-10)
            or np.max(q) < Q_MIN
        ):
            return None, x, calls + ev.calls
        av = averages(ev, q, qhat, a, b)
        higher = self.quadrature.with_order(self.quadrature.order + 4)
        ev_hi = Evaluator(ck, values, SiteRule.build(ck, values, q[list(ck.group_of)], higher))
        quad_error = abs(averages(ev_hi, q, qhat, a, b).S - av.S)
        saddle = Saddle(
            sigma=av.S,
            order_parameters=self._keyed(ck, q),
            multipliers=self._keyed(ck, qhat),
            a={c: float(v) for c, v in zip(ck.couplings, a)},
            b={c: float(v) for c, v in zip(ck.couplings, b)},
            radius=_spectral_radius(av.ell),
            residual=residual,
            quadrature_error=float(quad_error),
        )
        return saddle, x, calls + ev.calls + ev_hi.calls


def solve_complexity(cell, parameters: dict | None = None, solver: Saddles | None = None, throw: bool = True):
    """``gatefield.solve(Complexity(cell, parameters), solver)``."""
    from ..solve import solve

    if solver is not None and not isinstance(solver, Saddles):
        raise GatefieldError(f"the complexity is solved by Saddles, not {type(solver).__name__}")
    return solve(Complexity(cell, parameters), solver or Saddles(), throw=throw)
