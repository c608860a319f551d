"""One grid point of a phase diagram: mean-field roots, their stability, the complexity.

Each step here is either a fresh search (the full solvers, seconds) or a
polish from a neighbour's solution (Powell's hybrid method, milliseconds);
:mod:`.diagram` decides which runs where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ...errors import GatefieldError
from ..codegen import compile_cell
from ..complexity._compiled import compile_kac_rice
from ..quadrature import DEFAULT
from ..solvers.roots import _Map

__all__ = ["Point", "Engine", "RING_POINTS"]

#: Points on the stability boundary (half of it: the spectrum of a real
#: matrix is symmetric under conjugation) where the cheap test evaluates
#: ``rho(M(lam))``. 65 points resolve a support crossing the unit circle
#: over an arc of 3 degrees; a narrower crossing is left to the full trace.
RING_POINTS = 65
#: A mean-field root is accepted when ``|Phi(q) - q| <= MF_TOL (1 + |q|)``
#: (AllRoots' default residual_tol).
MF_TOL = 1e-9
#: Roots closer than this (relative) are one root.
SAME_ROOT = 1e-6
#: q levels of a fresh saddle search (``Saddles.grid``, relative to q = 1).
FRESH_GRID = (0.1, 0.5)
#: Scan points of a fresh mean-field search (AllRoots.grid_points; 3 starts
#: per unknown for several unknowns, 5x cheaper than the default's 8).
FRESH_MF_POINTS = 60
#: Starts (every unknown) tried where the zero fixed point is unstable and
#: no root was continued: small, moderate and large q.
GENERIC_STARTS = (0.02, 0.2, 1.0)
#: Floor of a continued saddle's ``a, b`` relative to their largest (:meth:`Engine._lifted`).
AB_FLOOR = 0.02
#: Largest scaled residual of a polished saddle (Saddles' default tol).
POLISH_TOL = 1e-9
#: A start this close (relative) to a saddle already polished is the same branch.
SAME_START = 0.05
#: A neighbour's Sigma above this and no saddle here: search afresh.
LOST_SIGMA = 2e-3
#: A root whose order parameters are all below this is the zero fixed point.
Q_ZERO = 1e-8
#: Draws of the site law for the units' slow share (:meth:`Engine.unit_slow_share`):
#: binomial error sqrt(p (1 - p) / 4000) <= 0.008 (the draws' seed is fixed).
SLOW_SAMPLES = 4000
#: Step in q of the finite differences of the mean-field map at q = 0
#: (:meth:`Engine.bifurcation`). The map is analytic in q there; the error of
#: c2 falls as h^2 (measured on the GRU, whose tricritical point is 2 sqrt(2):
#: off by 2.1e-3, 2.5e-4, 2.6e-6 at h = 3e-3, 1e-3, 1e-4); round-off (1e-15 in
#: Phi) contributes 1e-15 / h^2 = 1e-7 to c2.
BIFURCATION_STEP = 1e-4


@dataclass
class Point:
    """What the diagram keeps of one grid point.

    ``roots`` are the non-zero mean-field roots (the distinct unknowns of
    :class:`~gatefield.numerics.solvers.roots.AllRoots`), ``margins`` their
    cheap stability margins (:meth:`Engine.margin`), ``zero_margin`` the zero
    fixed point's (nan when ``q = 0`` is not a root). ``packed`` are the
    complexity saddles (packed unknowns), ``sigma_saddle`` the best saddle's
    value (nan: none), ``sigma`` the complexity (``max(Sigma, 0)`` when
    ``eta = 0`` is a fixed point of every network).
    """

    params: dict
    roots: list = field(default_factory=list)
    margins: list = field(default_factory=list)
    zero: bool = False
    zero_margin: float = float("nan")
    packed: tuple = ()
    sigma_saddle: float = float("nan")
    sigma: float = float("nan")
    fresh: bool = False


class Engine:
    """The per-point solvers of one cell, with the fast (continuation) and
    fresh (full search) variants of each."""

    def __init__(self, cell, base: dict, quadrature=DEFAULT, complexity: bool = True, fresh_grid=FRESH_GRID):
        self.cell = cell
        self.base = dict(base)
        self.compiled = compile_cell(cell)
        self.quadrature = quadrature
        self.fresh_grid = tuple(fresh_grid)
        self.complexity_reason = ""
        self.complexity = complexity
        if complexity:
            try:
                compile_kac_rice(cell)
            except GatefieldError as err:  # a cell without a closed-form per-unit fixed point
                self.complexity = False
                self.complexity_reason = str(err)

    # -- mean field ---------------------------------------------------------------

    def _phi(self, params) -> _Map:
        values = self.cell.resolve(params)
        return _Map(self.compiled, values, self.quadrature, self.quadrature.with_order(4), MF_TOL)

    def mean_field(self, point: Point, starts, fresh: bool) -> None:
        """Non-zero roots and whether ``q = 0`` is one: from ``starts`` by hybr,
        and with a fresh :class:`AllRoots` search where ``fresh``."""
        phi = self._phi(point.params)
        found: list = []
        candidates = [np.asarray(s, float) for s in starts]
        if fresh:
            from ..problems import MeanField
            from ..solve import solve
            from ..solvers.roots import AllRoots, starts_from

            search = AllRoots(grid_points=FRESH_MF_POINTS, starts=tuple(candidates))
            result = solve(MeanField(self.cell, point.params), search, throw=False)
            candidates = list(starts_from(result)) + candidates
        for x0 in candidates:
            if np.max(x0) < Q_ZERO:
                continue
            sol = optimize.root(lambda x: phi(x) - x, x0, method="hybr", options={"xtol": 1e-13})
            x = np.maximum(sol.x, 0.0)
            residual = float(np.max(np.abs(phi(x) - x)))
            if not residual <= MF_TOL * (1 + float(np.max(x))) or np.max(x) < Q_ZERO:
                continue
            if any(np.allclose(x, y, rtol=SAME_ROOT, atol=1e-10) for y in found):
                continue
            found.append(x)
        found.sort(key=lambda x: float(np.sum(x)))
        point.roots = found
        point.zero = bool(np.max(np.abs(phi(np.zeros(phi.unknowns)))) <= MF_TOL)

    def bifurcation(self, params) -> tuple:
        """``(mu, c2)``: the normal form of the mean-field map about ``q = 0``.

        Notes
        -----
        With ``r`` and ``l`` the right and left Perron vectors of
        ``D = dPhi/dq (0)`` (largest real eigenvalue ``mu``), the branch
        leaving ``q = 0`` is ``q = t r`` with ``t`` solving ``t = mu t + c2
        t^2 + O(t^3)``, ``c2 = l . D^2 Phi(0)[r, r] / (2 l . r)``: at ``mu =
        1`` the branch ``t ~ (1 - mu) / c2`` is born continuously on the
        unstable side (``mu > 1``) when ``c2 < 0`` (supercritical) and on the
        stable side, unstable and ending in a saddle-node, when ``c2 > 0``
        (subcritical: a discontinuous transition). ``c2 = 0`` on ``mu = 1``
        is a tricritical point. ``D`` by second-order one-sided differences
        (q >= 0), ``mu`` and ``c2`` from a cubic through ``l . Phi(t r)`` at
        ``t = h, 2h, 3h`` (:data:`BIFURCATION_STEP`). nan where ``q = 0`` is
        not a root.
        """
        phi = self._phi(params)
        n = phi.unknowns
        h = BIFURCATION_STEP
        if np.max(np.abs(phi(np.zeros(n)))) > MF_TOL:
            return float("nan"), float("nan")
        eye = np.eye(n)
        D = np.stack([(4.0 * phi(h * e) - phi(2.0 * h * e)) / (2.0 * h) for e in eye], axis=1)
        w, vr = np.linalg.eig(D)
        k = int(np.argmax(w.real))
        r = np.abs(vr[:, k].real)
        wl, vl = np.linalg.eig(D.T)
        left = np.abs(vl[:, int(np.argmax(wl.real))].real)
        r, left = r / np.sum(r), left / np.sum(left)
        ts = h * np.arange(1.0, 4.0)
        g = np.array([left @ phi(t * r) for t in ts]) / float(left @ r)
        mu, c2, _ = np.linalg.solve(np.stack([ts, ts**2, ts**3], axis=1), g)
        return float(mu), float(c2)

    def order_parameters(self, x) -> dict:
        """A root in distinct unknowns as ``q`` by coupling name."""
        phi = _Map(self.compiled, {}, self.quadrature, self.quadrature, MF_TOL)
        return {k: float(v) for k, v in self.compiled.coupling_keyed(phi.node_q(x)).items()}

    # -- stability ----------------------------------------------------------------

    def sites(self, params, x):
        from ..spectrum import from_fixed_point

        return from_fixed_point(self.cell, params, q=self.order_parameters(x))

    def margin(self, params, x) -> float:
        """The cheap stability margin of the fixed point with order parameters ``x``.

        ``1 - max rho(M(lam))`` over :data:`RING_POINTS` points of the
        stability boundary (the unit circle in discrete time; the imaginary
        axis from 0 to 1e3 in continuous time), made negative also when a
        unit's own eigenvalue lies outside the stability region (by its
        distance). Positive: stable; its zero set is marginal stability (the
        support's edge on the boundary). A bulk lying wholly outside the
        stability region is not seen by the ring; the full trace
        (:meth:`edge`) at the diagram's sign changes checks the verdict.
        """
        from ..spectrum import support_rho, unit_eigenvalues

        sites = self.sites(params, x)
        if self.cell.time == "discrete":
            lam = np.exp(1j * np.linspace(0.0, np.pi, RING_POINTS))
        else:
            lam = 1j * np.concatenate([[0.0], np.geomspace(1e-3, 1e3, RING_POINTS - 1)])
        with np.errstate(all="ignore"):
            rho = support_rho(sites, lam, bulk=True)
        bulk = 1.0 - float(np.nanmax(rho))
        mu = unit_eigenvalues(sites)
        unit = 1.0 - float(np.max(np.abs(mu))) if self.cell.time == "discrete" else -float(np.max(mu.real))
        return min(bulk, unit) if unit < 0 else bulk

    def unit_slow_share(self, params, x, delta: float) -> float:
        """Share of the units' own eigenvalues (those of ``A``) within ``delta``
        of the slow point at the fixed point ``x``, from :data:`SLOW_SAMPLES`
        draws of the site law (:func:`~gatefield.numerics.spectrum.whiskers.unit_law`).

        The cheap stand-in for the slow-mode share of the whole spectrum
        (:meth:`edge`'s contour integral, seconds per point): slow modes pile
        up on units whose own eigenvalue nears the slow point (an update gate
        shutting, ``1 - z -> 1``). Measured on the GRU (g_h = 1.6, alpha_r =
        2, beta_h = 0.4, alpha_z = 16, delta = 0.1): 0.372 (4000 draws),
        0.378 (20000) against 0.384 for the whole spectrum.
        """
        from ..spectrum import slow_point
        from ..spectrum.whiskers import unit_law

        law = unit_law(self.sites(params, x), samples=SLOW_SAMPLES)
        near = np.abs(law.mu - slow_point(self.cell.time)) < delta
        return float(np.sum(law.weights[:, None] * near) / law.mu.shape[1])

    def edge(self, params, x) -> dict:
        """The full support trace at one fixed point: its edge gap (0: marginal),
        verdict and slow-mode share (the expensive check)."""
        from ..spectrum import edge_gap, slow_mode_fraction, slow_mode_rule

        sites = self.sites(params, x)
        support = sites.support
        return {
            "edge_gap": edge_gap(support),
            "stable": bool(support.stable),
            # a share is >= 0; the contour integral leaves round-off of either sign
            "slow_fraction": max(float(slow_mode_fraction(slow_mode_rule(sites), [0.1])[0]), 0.0),
        }

    def stability(self, point: Point) -> None:
        """Margins of every root; where the zero fixed point is unstable and
        continuation brought no other root, generic starts first: a branch
        that leaves q = 0 where the zero fixed point loses stability has no
        neighbour to continue from."""
        if point.zero:
            point.zero_margin = self.margin(point.params, np.zeros(self._phi(point.params).unknowns))
            if not point.roots and not point.zero_margin > 0:
                n = self._phi(point.params).unknowns
                self.mean_field(point, [np.full(n, level) for level in GENERIC_STARTS], fresh=False)
        point.margins = [self.margin(point.params, x) for x in point.roots]

    # -- complexity ---------------------------------------------------------------

    def _lifted(self, x) -> np.ndarray:
        """A packed saddle with its ``a, b`` floored at ``AB_FLOOR`` of their largest.

        Where a column of ``T`` vanishes (the GRU's reset gate at ``alpha_r
        = 0``) the saddle has an ``a`` or ``b`` of exactly 0; from there the
        search, which runs in ``log a, log b``, cannot move it, and the
        branch is lost one step into ``alpha_r > 0``.
        """
        ck = compile_kac_rice(self.cell)
        x = np.array(x, float)
        ab = x[2 * ck.G :]
        top = float(np.max(ab)) if ab.size else 0.0
        if top > 0:
            x[2 * ck.G :] = np.maximum(ab, AB_FLOOR * top)
        return x

    def saddles(self, point: Point, starts, fresh: bool, start_sigmas=None) -> None:
        """The complexity from the neighbours' saddles (warm, the cheap rule),
        and with a fresh search where ``fresh``, or where every start failed
        although a neighbour's ``Sigma`` exceeds ``LOST_SIGMA`` (a branch does
        not end with a finite complexity next to a positive one, so the
        polish lost it)."""
        if not self.complexity:
            return
        from ..complexity import Complexity, Saddles
        from ..solve import solve

        problem = Complexity(self.cell, point.params)
        result = None
        starts = [self._lifted(x) for x in starts]
        quick = self._polished(point.params, starts) if starts else []
        if quick:
            quick.sort(key=lambda item: -item[0])
            point.packed = tuple(x for _, x in quick)
            point.sigma_saddle = quick[0][0]
            point.sigma = max(quick[0][0], 0.0) if point.zero else quick[0][0]
            return
        if starts:
            warm = Saddles(self.quadrature.with_order(4), grid=(), starts=tuple(starts), mean_field=False)
            result = solve(problem, warm, throw=False)
        lost = bool(starts) and (result is None or not result.saddles) and max(start_sigmas or [0.0]) > LOST_SIGMA
        if (fresh or lost) and (result is None or not result.saddles):
            point.fresh = True
            # A cheap search (no mean-field solve, a 2-level q grid): its job is to find a branch
            # for continuation to carry, not every saddle at this point.
            full = Saddles(
                self.quadrature.with_order(4),
                grid=self.fresh_grid,
                tilts=(0.0, 0.5),
                starts=tuple(starts),
                mean_field=False,
            )
            result = solve(problem, full, throw=False)
        zero = point.zero
        if result is not None:
            point.packed = tuple(result.packed)
            point.sigma_saddle = result.saddles[0].sigma if result.saddles else float("nan")
            zero = result.zero_fixed_point
        best = point.sigma_saddle
        if np.isfinite(best):
            point.sigma = max(best, 0.0) if zero else best
        else:
            point.sigma = 0.0 if zero else float("nan")

    def _polished(self, params, starts, accurate: bool = False) -> list:
        """``[(S, x)]``: each distinct start polished by hybr on the cheap rule
        (two rule rebuilds), kept where the scaled residual is below
        ``POLISH_TOL`` and ``(a, b)`` is a non-trivial, non-negative solution.

        The continuation step of the diagram: a neighbour's saddle is within
        hybr's reach, so the search stage of :class:`Saddles` (log-unknowns
        from every start, then a polish with three rebuilds and a
        higher-order error estimate) is not needed; it runs only where
        this finds nothing.
        """
        from ..complexity._tilted import Evaluator, SiteRule, averages
        from ..complexity.saddles import Q_MIN, TRIVIAL, _equations, _root, unpack

        ck = compile_kac_rice(self.cell)
        values = self.cell.resolve(params)
        rule = self.quadrature if accurate else self.quadrature.with_order(4)
        out: list = []
        for x0 in starts:
            if any(np.allclose(x0, y, rtol=SAME_START, atol=1e-6) for _, y in out):
                continue
            try:
                x, _, _ = _root(ck, values, x0, rule, rounds=2)
            except (ValueError, np.linalg.LinAlgError):
                continue
            q, qhat, a, b = unpack(x, ck.G, ck.K)
            if not np.all(np.isfinite(x)) or np.max(q) < Q_MIN or a @ b < TRIVIAL:
                continue
            if np.any(a < -1e-10) or np.any(b < -1e-10):
                continue
            ev = Evaluator(ck, values, SiteRule.build(ck, values, q[list(ck.group_of)], rule))
            if not float(np.max(np.abs(_equations(ev, x, ck.G, ck.K)))) < POLISH_TOL:
                continue
            if any(np.allclose(x, y, rtol=1e-6, atol=1e-9) for _, y in out):
                continue
            out.append((float(averages(ev, q, qhat, a, b).S), x))
        return out

    def sigma_at(self, params, starts, accurate: bool = False) -> tuple:
        """``(best saddle sigma, packed)`` at ``params`` from ``starts`` (bisection).

        ``accurate``: only the polish, on the full rule instead of the cheap
        one (near a continuous onset, where ``Sigma ~ (p - p*)^3`` falls
        below the cheap rule's error: the GRU at ``alpha_r = 0``, ``g_h =
        2.06``, has ``Sigma = 4.8e-6``, which the cheap rule loses).
        """
        if accurate:
            found = self._polished(params, [self._lifted(x) for x in starts], accurate=True)
            if not found:
                return float("nan"), ()
            found.sort(key=lambda item: -item[0])
            return found[0][0], tuple(x for _, x in found)
        point = Point(dict(params))
        self.saddles(point, starts, fresh=False)
        return point.sigma_saddle, point.packed
