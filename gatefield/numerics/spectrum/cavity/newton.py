"""Newton's method on the reduced cavity equations, at many points at once
(``docs/theory/5-cavity.md#newton``).

Points outside the support (``rho(M) <= 1``) cost one ``M``: their solution
``x = 0`` is exact. Inside, Newton's method with the analytic Jacobian and a
gauge-bordered least-squares step (the equations are invariant under
``(a, b) -> (c a, b / c)``; the gauge is fixed by ``sum(a) = sum(b)``) starts
from the bifurcating branch or from a neighbour's solution; along a grid each
row starts from the row before, moved to first order along ``dx/d conj(lam)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....errors import SolverError
from .batches import PairEvaluation, PointData
from .equations import Equations
from .linalg import _abs2, _h, _mm

__all__ = ["Solved", "solve_points", "solve_rows", "check_converged", "TOL", "MAX_ITER"]

#: Newton stops when ``max |Phi(x) - x| <= tol * max |x|``.
TOL = 1e-12
#: Newton iterations per point before giving up.
MAX_ITER = 60
#: The support is where the spectral radius of ``M`` exceeds 1; points within
#: this relative margin of 1 are treated as outside (the nontrivial solution
#: there is below the solver's tolerance anyway).
EDGE_MARGIN = 1e-12
#: A warm start (a neighbour's solution) whose relative residual exceeds this
#: is compared with the bifurcating branch, and the better one is kept: deep
#: inside, predicted warm starts are within about 1e-4 and win; near the
#: edge, where the amplitude changes fastest, the branch can be closer.
RESTART = 1e-3
#: Largest number of (point, site) pairs held in memory at once.
BLOCK = 20_000


def _balance(x, K):
    """Move ``x = (a, b)`` along the gauge orbit ``(c a, b / c)`` to equal sums."""
    sa = x[:, :K].sum(axis=1)
    sb = x[:, K:].sum(axis=1)
    ok = (sa > 0) & (sb > 0)
    c = np.where(ok, np.sqrt(np.where(ok, sb, 1.0) / np.where(ok, sa, 1.0)), 1.0)
    return np.concatenate([x[:, :K] * c[:, None], x[:, K:] / c[:, None]], axis=1)


def _perron_start(equations: Equations, prep: PointData, M, rho):
    """The bifurcating branch: ``a = t v``, ``b = t l`` with ``v``, ``l`` the
    right and left Perron vectors of ``M`` and ``t`` from the cubic term of
    the map, scaled so that it is exact for a Ginibre matrix."""
    vals, vecs = np.linalg.eig(M)
    top = np.argmax(vals.real, axis=1)
    v = np.abs(np.take_along_axis(vecs, top[:, None, None], axis=2)[..., 0])
    valsT, vecsT = np.linalg.eig(np.swapaxes(M, 1, 2))
    topT = np.argmax(valsT.real, axis=1)
    l = np.abs(np.take_along_axis(vecsT, topT[:, None, None], axis=2)[..., 0])
    v = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
    l = l / np.maximum(l.sum(axis=1, keepdims=True), 1e-300)
    X = prep.X
    T1 = _mm(X * v.T[None, :, :, None], _h(X))  # X D_v X^H
    cubic = np.einsum("jkp,kp->pj", equations.mean(_abs2(T1)), l.T)
    lv = np.einsum("pj,pj->p", l, v)
    lc = np.einsum("pj,pj->p", l, cubic)
    t2 = (rho - 1.0) * rho * lv / np.maximum(lc, 1e-300)
    t = np.sqrt(np.maximum(t2, 0.0))
    return np.concatenate([t[:, None] * v, t[:, None] * l], axis=1)


def _relative_residual(phi, x):
    return np.max(np.abs(phi - x), axis=1) / np.maximum(np.max(np.abs(x), axis=1), 1e-300)


def _newton(equations: Equations, prep: PointData, x0, tol, max_iter, finish, warm=None, fallback=None):
    """Newton's method on ``Phi(x) = x`` at every point at once.

    ``finish(points, parts)`` is called once for every point, with the
    evaluation at its last iterate (the converged one, or the last at
    ``max_iter``), so that ``g`` and the density reuse it. Points flagged in
    ``warm`` started from a neighbour's solution; where that start's relative
    residual exceeds ``RESTART``, ``fallback(points)`` (the bifurcating
    branch) is tried too and the start closer to solving the equations is
    kept.

    Returns x, converged, iterations and the relative residual, per point.
    """
    P, K = x0.shape[0], equations.K
    x = _balance(x0, K)
    res = np.full(P, np.inf)
    iters = np.zeros(P, dtype=int)
    done = np.zeros(P, dtype=bool)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    eye = np.eye(2 * K)
    todo = np.arange(P)
    picard = np.zeros(P, dtype=bool)
    for it in range(max_iter):
        sub = prep if todo.size == P else prep.take(todo, PointData.EVALUATE)
        phi, parts = equations.evaluate(sub, x[todo])
        rel = _relative_residual(phi, x[todo])
        if it == 0 and warm is not None:
            retry = np.flatnonzero(warm & (rel > RESTART))
            if retry.size:
                alt = _balance(fallback(retry), K)
                alt_phi, alt_parts = equations.evaluate(sub.take(retry, PointData.EVALUATE), alt)
                alt_rel = _relative_residual(alt_phi, alt)
                better = np.flatnonzero(alt_rel < rel[retry])
                if better.size:
                    sel = retry[better]
                    x[sel], phi[sel], rel[sel] = alt[better], alt_phi[better], alt_rel[better]
                    parts.put(sel, alt_parts, better)
        scale = np.max(np.abs(x[todo]), axis=1)
        res[todo] = rel
        iters[todo] = it + 1
        conv = (rel <= tol) & (scale > 0)
        done[todo[conv]] = True
        stop = conv | (it == max_iter - 1)
        if stop.all():
            finish(todo, parts)
        elif stop.any():
            finish(todo[stop], parts.take(np.flatnonzero(stop)))
        keep = np.flatnonzero(~stop)
        if keep.size == 0:
            break
        xt, r = x[todo[keep]], phi[keep] - x[todo[keep]]
        J = equations.jacobian(parts.take(keep, type(parts).JACOBIAN)) - eye
        border = np.broadcast_to(gauge, (len(keep), 1, 2 * K))
        system = np.concatenate([J, border], axis=1)
        rhs = np.concatenate([-r, -(xt @ gauge)[:, None]], axis=1)
        step = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]
        new = np.maximum(xt + step, 0.0)
        # x = 0 always solves the equations and Newton can jump there from
        # far away; a point that loses most of its amplitude takes plain
        # iteration steps instead (inside the support the nontrivial branch
        # attracts them), then Newton again.
        collapse = np.max(new, axis=1) < 0.1 * np.max(xt, axis=1)
        plain = collapse | picard[todo[keep]]
        if plain.any():
            new[plain] = _balance(phi[keep][plain], K)
        picard[todo[keep]] = collapse
        x[todo[keep]] = new
        todo = todo[keep]
    return x, done, iters, res


@dataclass(frozen=True)
class Solved:
    """The cavity equations solved at a batch of points."""

    x: np.ndarray  # (P, 2K) on the active nodes
    g: np.ndarray
    inside: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    density: np.ndarray | None = None
    slope: np.ndarray | None = None  # (P, 2K): dx / d conj(lam), with the density
    a_all: np.ndarray | None = None


def solve_points(
    equations: Equations,
    lams,
    starts=None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    derivative: bool = False,
    all_nodes: bool = False,
) -> Solved:
    """Solve at every ``lam`` of a 1-D array, from ``starts`` (rows of x;
    rows with a non-finite entry or a non-positive sum are ignored) or the
    bifurcating branch."""
    lams = np.asarray(lams, dtype=complex).ravel()
    P, K = len(lams), equations.K
    x = np.zeros((P, 2 * K))
    g = np.empty(P, dtype=complex)
    inside = np.zeros(P, dtype=bool)
    converged = np.ones(P, dtype=bool)
    iterations = np.zeros(P, dtype=int)
    residual = np.zeros(P)
    dens = np.zeros(P) if derivative else None
    slope = np.full((P, 2 * K), np.nan, dtype=complex) if derivative else None
    a_all = np.zeros((P, equations.pencils.K)) if all_nodes else None
    chunk = max(1, BLOCK // equations.pencils.n)
    for lo in range(0, P, chunk):
        sl = slice(lo, min(P, lo + chunk))
        prep = equations.prepare(lams[sl])
        g[sl] = prep.g0
        if K == 0:
            continue
        M = equations.support_matrix(prep)
        rho = np.max(np.abs(np.linalg.eigvals(M)), axis=1)
        idx = np.flatnonzero(rho > 1.0 + EDGE_MARGIN)
        if idx.size == 0:
            continue
        pos = lo + idx
        sub = equations.extend(prep.take(idx), derivative)

        def perron(points, sub=sub, M=M[idx], rho=rho[idx]):
            return _perron_start(equations, sub.take(points, ("X",)), M[points], rho[points])

        warm = np.zeros(len(idx), dtype=bool)
        x0 = np.empty((len(idx), 2 * K))
        if starts is not None:
            given = starts[pos]
            warm = np.all(np.isfinite(given), axis=1) & (np.sum(given, axis=1) > 0)
            x0[warm] = given[warm]
        cold = np.flatnonzero(~warm)
        if cold.size:
            x0[cold] = perron(cold)

        def finish(points, parts, sub=sub, pos=pos):
            at = sub if len(points) == len(pos) else sub.take(points)
            if all_nodes and isinstance(parts, PairEvaluation):
                # inert_a needs the matrices the closed forms skip
                _, parts = equations.evaluate(at, parts.x.T, general=True)
            if derivative:
                g[pos[points]], dens[pos[points]], slope[pos[points]] = _implicit_density(equations, at, parts)
            else:
                g[pos[points]] = equations.resolvent_value(at, parts)
            if all_nodes:
                a_all[pos[points]] = equations.inert_a(at, parts)

        xs, ok, it, rs = _newton(equations, sub, x0, tol, max_iter, finish, warm, perron)
        inside[pos] = True
        x[pos], converged[pos], iterations[pos], residual[pos] = xs, ok, it, rs
    return Solved(x, g, inside, converged, iterations, residual, dens, slope, a_all)


def _implicit_density(equations: Equations, prep: PointData, parts) -> tuple:
    """``(1/pi) dg/d conj(lam)`` at a solution, by implicit differentiation:
    ``(dPhi/dx - I) xi = -dPhi/d conj(lam)`` (gauge-bordered), then
    ``dg/d conj(lam) = dg/d conj(lam)|_x + dg/dx . xi``. Returns ``g``, the
    density and ``xi = dx/d conj(lam)``."""
    K = equations.K
    P = len(prep.g0)
    d = equations.derivatives(prep, parts)
    J = equations.jacobian(parts) - np.eye(2 * K)
    gauge = np.concatenate([np.ones(K), -np.ones(K)])
    system = np.concatenate([J, np.broadcast_to(gauge, (P, 1, 2 * K))], axis=1)
    rhs = np.concatenate([-d.dphi, np.zeros((P, 1))], axis=1)
    xi = (np.linalg.pinv(system) @ rhs[..., None])[..., 0]
    return d.g, (d.dg + np.einsum("pj,pj->p", d.grad, xi)).real / np.pi, xi


def solve_rows(equations: Equations, lams2d, tol, max_iter, derivative=False, progress=None) -> list:
    """Row by row, each row warm-started from the row before (same column).

    With the density, the start is predicted to first order: ``x`` is real,
    so ``dx = 2 Re(xi conj(dlam))`` with ``xi = dx/d conj(lam)`` from the
    implicit differentiation, and the start is off by ``O(|dlam|^2)``
    instead of ``O(|dlam|)``, which saves one or two Newton iterations.
    """
    rows, cols = lams2d.shape
    out = []
    previous = None
    for i in range(rows):
        sol = solve_points(equations, lams2d[i], starts=previous, tol=tol, max_iter=max_iter, derivative=derivative)
        previous = np.where(sol.inside[:, None], sol.x, np.nan)
        if derivative and i + 1 < rows:
            step = np.conj(lams2d[i + 1] - lams2d[i])
            previous = np.maximum(previous + 2 * np.real(sol.slope * step[:, None]), 0.0)
        out.append(sol)
        if progress is not None:
            progress(i + 1, rows)
    return out


def check_converged(converged, residual, what: str, throw: bool) -> None:
    """Raise :class:`SolverError` naming the fix when ``throw`` and a point failed."""
    if throw and not np.all(converged):
        bad = int(np.sum(~converged))
        raise SolverError(
            f"the cavity equations did not converge at {bad} of {converged.size} points "
            f"{what} (worst residual {np.max(residual[~converged]):.2e}); try a larger "
            "max_iter or a looser tol, or move the points off the support's edge"
        )
