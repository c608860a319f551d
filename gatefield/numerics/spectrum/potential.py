"""Marginals and the log-potential of the spectrum (``docs/theory/5-cavity.md#log-potential``).

- **marginals**: the radial and angular densities about a centre;
- **log-potential** ``(1/N) log|det(lam - Jac)|``: outside the support it is
  ``E_P log|det(lam - A)|`` exactly (both sides are harmonic there, with the
  same behaviour at infinity, since ``g = E_P tr (lam - A)^(-1)`` outside);
  inside it is continued along a vertical path,
  ``Phi(lam) = Phi(lam + i T) + int_0^T Im g(lam + i t) dt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import GatefieldError, SolverError
from .atoms import site_atoms
from .observables import _pencils, density, resolvent, resolvent_grid
from .sites import SiteDistribution

__all__ = ["Marginals", "marginals", "log_potential"]

#: Gauss-Legendre points per panel of the log-potential's path integral.
PATH_NODES = 16


@dataclass(frozen=True)
class Marginals:
    """Radial and angular densities of the spectrum about ``center``.

    Attributes
    ----------
    radii, radial : arrays
        ``p(r) = int rho(center + r e^(i theta)) r d theta`` (eigenvalues per
        unit and per unit radius) at Gauss-Legendre radii.
    angles, angular : arrays
        ``p(theta) = int rho r dr`` at the midpoints of equal angular cells.
    total : float
        The continuous part's share of all eigenvalues (``int p(r) dr / m``);
        ``1 - total`` is in atoms or beyond ``r_max``.
    atoms : tuple of Atom
        From :func:`site_atoms`.
    """

    radii: np.ndarray
    radial: np.ndarray
    angles: np.ndarray
    angular: np.ndarray
    total: float
    atoms: tuple


def marginals(
    sites: SiteDistribution, center: complex, r_max: float, radii: int = 48, angles: int = 96, progress=None
) -> Marginals:
    """Radial and angular marginals of the density on a polar grid.

    ``radii`` Gauss-Legendre nodes on ``(0, r_max)`` (two panels) times
    ``angles`` equal cells offset by half a cell, so no node lies on the
    real axis when ``center`` is real. ``r_max`` should enclose the support.
    """
    if not (np.isfinite(r_max) and r_max > 0):
        raise GatefieldError(f"r_max must be a positive number, got {r_max}")
    if radii < 2 or angles < 4:
        raise GatefieldError("marginals need at least 2 radii and 4 angles")
    x, w = np.polynomial.legendre.leggauss(max(1, radii // 2))
    r = np.concatenate([(x + 1) / 4 * r_max, (x + 3) / 4 * r_max])
    wr = np.concatenate([w, w]) * r_max / 4
    theta = 2 * np.pi * (np.arange(angles) + 0.5) / angles
    grid = complex(center) + r[None, :] * np.exp(1j * theta[:, None])
    rho = density(sites, grid, progress=progress)
    dtheta = 2 * np.pi / angles
    radial = rho.sum(axis=0) * r * dtheta
    angular = (rho * (wr * r)[None, :]).sum(axis=1)
    total = float(np.dot(radial, wr)) / sites.m
    return Marginals(r, radial, theta, angular, total, site_atoms(sites))


def _outside_potential(sites: SiteDistribution, lam: complex) -> float:
    """``E_P log|det(lam - A)|``: the log-potential outside the support."""
    pencils = _pencils(sites)
    eye = np.eye(pencils.m)
    _, logabs = np.linalg.slogdet(lam * eye[None] - pencils.A)
    return float(np.dot(pencils.weights, logabs))


def _crossings(sites, lam, ts) -> list:
    """Heights where the vertical path from ``lam`` enters or leaves the support."""
    inside = [resolvent(sites, lam + 1j * t).inside for t in ts]
    out = []
    for k in range(len(ts) - 1):
        if inside[k] != inside[k + 1]:
            lo, hi = ts[k], ts[k + 1]
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if resolvent(sites, lam + 1j * mid).inside == inside[k]:
                    lo = mid
                else:
                    hi = mid
            out.append(0.5 * (lo + hi))
    return out


def log_potential(sites: SiteDistribution, lam, height: float | None = None, scan: int = 48):
    """The log-potential ``Phi(lam) = lim (1/N) log|det(lam - Jac)|``.

    Parameters
    ----------
    lam : complex or array
    height : float, optional
        ``T``: the path ``lam + i t``, ``0 <= t <= T``, must end outside the
        support. Default: twice the largest ``|lam - A|`` scale of the sites
        plus the support's reach, found by doubling until outside.
    scan : int
        Heights at which the path is probed for support crossings (each
        crossing is then located by bisection and made a panel boundary,
        since ``g`` is continuous but not smooth there).

    Returns
    -------
    float or array
        Per unit (``m`` eigenvalues per unit), so ``Phi ~ m log|lam|`` far
        away.

    Notes
    -----
    ``d Phi / d Im(lam) = -Im g``; on each smooth piece the path integral
    is Gauss-Legendre with ``PATH_NODES`` nodes per panel. The point
    ``lam`` itself must not be an eigenvalue of a site's ``A`` (there
    ``Phi = -inf`` for a discrete site distribution).
    """
    lams = np.asarray(lam, dtype=complex)
    out = np.empty(lams.shape)
    for idx, value in np.ndenumerate(lams):
        out[idx] = _log_potential_one(sites, complex(value), height, scan)
    return float(out) if lams.ndim == 0 else out


def _log_potential_one(sites, lam, height, scan) -> float:
    if not np.isfinite(lam):
        raise GatefieldError(f"lam must be a finite complex number, got {lam}")
    T = height
    if T is None:
        T = 1.0 + float(np.max(np.abs(np.linalg.eigvals(_pencils(sites).A))))
        while resolvent(sites, lam + 1j * T).inside:
            T *= 2.0
            if T > 1e6:
                raise SolverError(f"no height above lam = {lam} leaves the support")
    elif not (np.isfinite(T) and T > 0):
        raise GatefieldError(f"height must be a positive number, got {height}")
    elif resolvent(sites, lam + 1j * T).inside:
        raise GatefieldError(f"lam + i*height = {lam + 1j * T} is inside the support; use a larger height")
    edges = [0.0] + _crossings(sites, lam, np.linspace(0.0, T, scan)) + [T]
    x, w = np.polynomial.legendre.leggauss(PATH_NODES)
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        # Two panels per piece: g varies fastest near its ends.
        for lo, hi in ((a, 0.5 * (a + b)), (0.5 * (a + b), b)):
            t = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
            g = resolvent_grid(sites, (lam + 1j * t)[:, None]).g
            total += 0.5 * (hi - lo) * float(np.dot(w, g[:, 0].imag))
    return _outside_potential(sites, lam + 1j * T) + total
