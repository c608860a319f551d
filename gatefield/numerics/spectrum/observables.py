"""Observables of the cavity equations: the resolvent, the density and shares.

The Hermitized cavity equations (``docs/theory/5-cavity.md``) give the
limiting resolvent ``g(lam) = lim (1/N) tr (lam - Jac)^(-1)``; the density is
``rho = (1/pi) dg/d conj(lam)`` and the share of eigenvalues inside a curve
is the contour integral of ``g``. Every function here takes a
:class:`~gatefield.numerics.spectrum.sites.SiteDistribution` and works on its
full pencils.

Limits: ``lam`` must not coincide with an eigenvalue of a site's ``A``
(``(lam - A)^(-1)`` enters the equations; e.g. ``lam = 0`` for a product of
Ginibre matrices or an LSTM, whose sites all have ``A`` singular): such a
point raises :class:`~gatefield.errors.SolverError`. Near the real axis inside
the bulk, discrete sites whose ``A`` is real limit the accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import _checks
from ...errors import GatefieldError
from ..solution import Solution, Status
from .cavity.equations import Equations
from .cavity.hermitized import _hermitized_solve
from .cavity.newton import EDGE_MARGIN, MAX_ITER, TOL, check_converged, solve_points, solve_rows
from .sites import SiteDistribution
from .views import PencilView

__all__ = [
    "CavitySolution",
    "ResolventGrid",
    "resolvent",
    "resolvent_grid",
    "density",
    "share_inside",
    "share_in_annulus",
    "CONTOUR_ACCEPT",
]

#: A contour point left at ``max_iter`` with a relative residual below this
#: still counts (see :func:`share_inside`): one such point of the default 256
#: moves the share by under 1e-8, far below any finite-N error (seen: 4e-11
#: next to a GRU's support edge, 1.3e-6 on an LSTM's 2000 DMFT sites).
CONTOUR_ACCEPT = 1e-6


def _pencils(sites) -> PencilView:
    if not isinstance(sites, SiteDistribution):
        raise GatefieldError(
            f"expected a SiteDistribution, got {type(sites).__name__}; build one with "
            "gatefield.sites.from_fixed_point, from_snapshot or from_dmft"
        )
    return sites.pencils


def _settings(tol, max_iter) -> None:
    _checks.positive(tol, "tol")
    _checks.count(max_iter, "max_iter", 1)


def _as_lams(lams) -> np.ndarray:
    try:
        lams = np.asarray(lams, dtype=complex)
    except (TypeError, ValueError):
        raise GatefieldError("lam must be complex numbers") from None
    if not np.all(np.isfinite(lams)):
        raise GatefieldError("every lam must be a finite complex number")
    return lams


@dataclass(frozen=True, kw_only=True)
class CavitySolution(Solution):
    """The cavity equations solved at one ``lam``.

    Attributes
    ----------
    g : complex
        ``lim (1/N) tr (lam - Jac)^(-1)`` (per unit: ``(1/2 pi i)`` times its
        integral around the whole spectrum is ``m``).
    u, w : (K,) complex arrays
        The cavity unknowns, one per node. At ``eps = 0`` they are
        ``u = -i a``, ``w = -i b`` with ``a, b >= 0``, determined only up to
        ``(c u, w / c)``, ``c > 0`` (``g`` does not depend on ``c``); they are
        reported with ``sum(a) = sum(b)`` over the nodes that take part.
        Zero outside the support.
    eps : float
        The regularization the equations were solved at (0: the exact limit).
    inside : bool
        Whether ``lam`` is in the support (``spectral_radius(M) > 1``).
    route : str
        The site distribution's route.

    ``iterations`` are Newton iterations (0 outside the support, where
    ``u = w = 0`` is exact); ``residual`` is ``max |Phi(x) - x| / max |x|``.
    """

    g: complex
    u: np.ndarray
    w: np.ndarray
    eps: float
    inside: bool
    route: str


def _inside(equations: Equations, lam: complex) -> bool:
    """``spectral_radius(M(lam)) > 1``: the support."""
    if equations.K == 0:
        return False
    M = equations.support_matrix(equations.prepare(np.array([lam])))
    return bool(np.max(np.abs(np.linalg.eigvals(M))) > 1.0 + EDGE_MARGIN)


def resolvent(
    sites: SiteDistribution,
    lam: complex,
    eps: float = 0.0,
    tol: float = TOL,
    start: CavitySolution | None = None,
    max_iter: int = MAX_ITER,
    throw: bool = True,
) -> CavitySolution:
    """Solve the Hermitized cavity equations at one point ``lam``.

    Parameters
    ----------
    sites : SiteDistribution
    lam : complex
    eps : float
        0 (default) solves the exact ``eps -> 0+`` limit in reduced form;
        ``eps > 0`` solves the literal ``2k x 2k`` equations at that
        regularization (slower; continued in eps from 0.1).
    tol : float
        Relative residual at which Newton's method stops.
    start : CavitySolution, optional
        A solution at a nearby point to start from.
    max_iter : int
    throw : bool
        Raise :class:`~gatefield.errors.SolverError` if the solve does not
        converge; otherwise return the last iterate with status
        ``MAX_ITERATIONS``.

    Notes
    -----
    The reduction at eps = 0 and the solver are derived in
    ``docs/theory/5-cavity.md#reduction`` and ``#newton``: Newton's method
    with the analytic Jacobian from the bifurcating branch (exact for
    Ginibre) or from ``start``, typically 3 to 7 iterations. The reduction
    is checked against the literal equations at ``eps = 1e-7`` (difference
    O(eps)) in the tests.
    """
    pencils = _pencils(sites)
    lam = complex(_as_lams(lam))
    _settings(tol, max_iter)
    eps = _checks.positive(eps, "eps", allow_zero=True)
    if eps > 0:
        init = None if start is None else (np.asarray(start.u, complex), np.asarray(start.w, complex))
        u, w, g, ok, iters, res = _hermitized_solve(pencils, lam, eps, tol, max_iter, init)
        check_converged(np.array([ok]), np.array([res]), f"at lam = {lam} (eps = {eps})", throw)
        inside = _inside(Equations(pencils), lam)
        status = Status.SUCCESS if ok else Status.MAX_ITERATIONS
        return CavitySolution(
            g=g,
            u=u,
            w=w,
            eps=eps,
            inside=inside,
            route=sites.route,
            status=status,
            iterations=iters,
            residual=res,
        )
    equations = Equations(pencils)
    starts = None
    if start is not None and start.inside:
        a = -np.asarray(start.u).imag[equations.active]
        b = -np.asarray(start.w).imag[equations.active]
        starts = np.concatenate([a, b])[None]
    sol = solve_points(equations, np.array([lam]), starts=starts, tol=tol, max_iter=max_iter, all_nodes=True)
    check_converged(sol.converged, sol.residual, f"at lam = {lam}", throw)
    K = pencils.K
    u = np.zeros(K, dtype=complex)
    w = np.zeros(K, dtype=complex)
    if sol.inside[0] and sol.a_all is not None:
        u = -1j * sol.a_all[0]
        w[equations.active] = -1j * sol.x[0, equations.K :]
    return CavitySolution(
        g=complex(sol.g[0]),
        u=u,
        w=w,
        eps=0.0,
        inside=bool(sol.inside[0]),
        route=sites.route,
        status=Status.SUCCESS if sol.converged[0] else Status.MAX_ITERATIONS,
        iterations=int(sol.iterations[0]),
        residual=float(sol.residual[0]),
    )


@dataclass(frozen=True)
class ResolventGrid:
    """``g`` on a grid, with per-point solver diagnostics (arrays of the grid's shape)."""

    g: np.ndarray
    inside: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    route: str


def resolvent_grid(
    sites: SiteDistribution,
    lams,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    progress=None,
    throw: bool = True,
) -> ResolventGrid:
    """``g`` on a grid of points, warm-started along it.

    Parameters
    ----------
    sites : SiteDistribution
    lams : 2-D complex array
        Rows are solved in order, every point of a row at once (vectorized),
        each starting from the solution at the same column of the row before
        (or from the bifurcating branch where that one was outside).
    progress : callable, optional
        Called as ``progress(rows_done, rows)``.
    """
    pencils = _pencils(sites)
    lams = _as_lams(lams)
    _settings(tol, max_iter)
    grid = lams.reshape(1, -1) if lams.ndim < 2 else lams.reshape(lams.shape[0], -1)
    sols = solve_rows(Equations(pencils), grid, tol, max_iter, progress=progress)

    def gather(key):
        return np.concatenate([getattr(s, key) for s in sols]).reshape(lams.shape)

    out = ResolventGrid(
        gather("g"),
        gather("inside"),
        gather("converged"),
        gather("iterations"),
        gather("residual"),
        sites.route,
    )
    check_converged(out.converged, out.residual, "of the grid", throw)
    return out


def density(
    sites: SiteDistribution,
    lam,
    method: str = "implicit",
    h: float = 1e-4,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    progress=None,
    throw: bool = True,
):
    """The eigenvalue density ``rho(lam) = (1/pi) dg / d conj(lam)``.

    Parameters
    ----------
    sites : SiteDistribution
    lam : complex or array of complex
        A 2-D array is treated as a grid (rows warm-started as in
        :func:`resolvent_grid`).
    method : {"implicit", "difference"}
        "implicit" (default): exact derivative of the solution by implicit
        differentiation (``docs/theory/5-cavity.md#density``), one extra
        linear solve per point. "difference": central differences of ``g``
        with step ``h``, ``d/d conj(lam) = (d/dx + i d/dy) / 2``, truncation
        error ``O(h^2 |g'''|)`` plus ``O(tol |g| / h)`` from the solves.
    h : float
        Step of the "difference" method.

    Returns
    -------
    float or float array of ``lam``'s shape
        Eigenvalues per unit and per unit area: it integrates to ``m`` over
        the plane (divide by ``m`` for a probability density). Zero outside
        the support.
    """
    pencils = _pencils(sites)
    lams = _as_lams(lam)
    _settings(tol, max_iter)
    _checks.choice(method, "the density method", ("implicit", "difference"))
    scalar = lams.ndim == 0
    grid = lams.reshape(1, -1) if lams.ndim < 2 else lams.reshape(lams.shape[0], -1)
    equations = Equations(pencils)
    if method == "implicit":
        sols = solve_rows(equations, grid, tol, max_iter, derivative=True, progress=progress)
        conv = np.concatenate([s.converged for s in sols])
        res = np.concatenate([s.residual for s in sols])
        check_converged(conv, res, "for the density", throw)
        out = np.concatenate([s.density for s in sols]).reshape(lams.shape)
    else:
        h = _checks.positive(h, "the difference step h")
        shifted = np.stack([grid + h, grid - h, grid + 1j * h, grid - 1j * h], axis=1)
        flat = shifted.reshape(grid.shape[0], -1)
        sols = solve_rows(equations, flat, tol, max_iter, progress=progress)
        conv = np.concatenate([s.converged for s in sols])
        res = np.concatenate([s.residual for s in sols])
        check_converged(conv, res, "for the density", throw)
        g = np.stack([s.g for s in sols]).reshape(shifted.shape)
        dbar = 0.5 * ((g[:, 0] - g[:, 1]) / (2 * h) + 1j * (g[:, 2] - g[:, 3]) / (2 * h))
        out = (dbar.real / np.pi).reshape(lams.shape)
    return float(out) if scalar else out


def share_inside(
    sites: SiteDistribution,
    center: complex,
    radius: float,
    points: int = 256,
    segments: int = 16,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    throw: bool = True,
) -> float:
    """Share of the eigenvalues inside the circle ``|lam - center| < radius``.

    Parameters
    ----------
    points : int
        Points of the trapezoid rule on the circle.
    segments : int
        The circle is cut into this many arcs solved side by side; along each
        arc every point starts from its neighbour's solution.

    Returns
    -------
    float
        ``(1 / (2 pi i m)) * contour integral of g``: the share of the ``N m``
        eigenvalues enclosed (``docs/theory/5-cavity.md#counts``).

    Notes
    -----
    With ``lam_j = center + r exp(i theta_j)``, ``theta_j = 2 pi (j + 1/2) /
    points`` (no point on the real axis when ``center`` is real, where a
    site's own eigenvalue may sit), the rule is ``mean_j g(lam_j) (lam_j -
    center) / m``. It converges geometrically when ``g`` is smooth along the
    circle; ``g`` is continuous but not smooth across the support's edge, so
    a circle crossing the edge converges like ``points^(-2)``.
    """
    _pencils(sites)
    _settings(tol, max_iter)
    center = complex(_as_lams(center))
    radius = _checks.positive(radius, "the radius")
    if _crosses_whisker(sites, center, radius):
        sites = sites.resolving_whiskers()
    pencils = sites.pencils
    _checks.count(points, "points", 4)
    _checks.count(segments, "segments", 1)
    if points % segments:
        raise GatefieldError(f"points ({points}) must be a multiple of segments ({segments})")
    theta = 2 * np.pi * (np.arange(points) + 0.5) / points
    z = center + radius * np.exp(1j * theta)
    grid = z.reshape(segments, -1).T  # row j: the j-th point of every arc
    sols = solve_rows(Equations(pencils), grid, tol, max_iter)
    conv = np.stack([s.converged for s in sols])
    res = np.stack([s.residual for s in sols])
    # At the support's edge the solution bifurcates from zero and Newton's
    # method slows to linear convergence; a residual below CONTOUR_ACCEPT
    # there moves the share by less than that (g is Lipschitz in x).
    check_converged(conv | (res <= CONTOUR_ACCEPT), res, "on the contour", throw)
    g = np.stack([s.g for s in sols]).T.reshape(-1)
    return float(np.mean(g * (z - center)).real) / pencils.m


def _crosses_whisker(sites: SiteDistribution, center: complex, radius: float) -> bool:
    """Whether the circle crosses the real axis where the fixed-point sites'
    own real eigenvalues lie (a whisker, or the real part of the bulk):
    there the share is an indicator of the gate's node, resolved by
    :meth:`~gatefield.numerics.spectrum.sites.SiteDistribution.resolving_whiskers`."""
    if sites.samples is not None or abs(center.imag) >= radius:
        return False
    from .support import unit_eigenvalues

    mu = unit_eigenvalues(sites)
    real = mu.real[np.abs(mu.imag) <= 1e-12 * np.maximum(1.0, np.abs(mu))]
    if real.size == 0:
        return False
    half = float(np.sqrt(radius * radius - center.imag**2))
    crossings = np.array([center.real - half, center.real + half])
    return bool(np.any((crossings >= real.min()) & (crossings <= real.max())))


def share_in_annulus(
    sites: SiteDistribution, center: complex, r_in: float, r_out: float, points: int = 256, **kwargs
) -> float:
    """Share of the eigenvalues with ``r_in < |lam - center| < r_out``: the
    difference of two :func:`share_inside`."""
    if not (_checks.positive(r_in, "r_in") < _checks.positive(r_out, "r_out")):
        raise GatefieldError(f"an annulus needs 0 < r_in < r_out, got r_in={r_in}, r_out={r_out}")
    return share_inside(sites, center, r_out, points, **kwargs) - share_inside(sites, center, r_in, points, **kwargs)
