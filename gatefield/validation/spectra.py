"""Site distributions by route name, and finite-N spectra to hold them against.

:func:`sites_for_route` is the one place a route *name* (as the command line
takes it) becomes a site distribution:

- ``fixed-point``: :func:`gatefield.sites.from_fixed_point` (theory alone);
- ``plug-in``: :func:`gatefield.sites.from_snapshot` of a simulated network
  (labelled as such);
- ``dmft``: :func:`gatefield.sites.from_dmft` of a solved DMFT (theory alone).

:func:`finite_n_spectrum` simulates the same cell at size N on the same route
and returns its Jacobian's eigenvalues (and, for the plug-in route, the
distribution of that very snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GatefieldError
from ..numerics.problems import DMFT
from ..numerics.solve import solve
from ..numerics.solvers import PathSampling
from ..numerics.spectrum import ROUTES, SiteDistribution, from_dmft, from_fixed_point, from_snapshot
from ..simulate import find_fixed_point, initial_state, jacobian, make_network, snapshot
from ..theory.spec import Cell

__all__ = ["sites_for_route", "FiniteSpectrum", "finite_n_spectrum", "fraction_in_disc", "eigenvalues"]


def sites_for_route(
    cell: Cell,
    parameters: dict | None = None,
    route: str = "fixed-point",
    *,
    solution: int = -1,
    N: int = 1000,
    seed: int = 0,
    dmft_progress=None,
) -> SiteDistribution:
    """The site distribution of ``cell`` on ``route``.

    Parameters
    ----------
    solution : int
        Fixed-point route: index into the mean-field solutions (default the
        last, of largest q).
    N, seed : int
        Plug-in route: network size and seed of the simulated snapshot;
        dmft route: ``seed`` is the sampling seed.
    """
    if route not in ROUTES:
        raise GatefieldError(f"unknown route {route!r}; use one of {', '.join(ROUTES)}")
    if route == "fixed-point":
        return from_fixed_point(cell, parameters, solution=solution)
    if route == "plug-in":
        return from_snapshot(snapshot(cell, parameters, N, seed))
    result = solve(DMFT(cell, parameters), PathSampling(seed=seed, progress=dmft_progress), throw=False)
    return from_dmft(result)


def eigenvalues(net, state) -> np.ndarray:
    """The eigenvalues of the network's Jacobian at ``state``."""
    return np.linalg.eigvals(jacobian(net, state))


@dataclass(frozen=True)
class FiniteSpectrum:
    """The Jacobian's eigenvalues of one simulated network.

    Attributes
    ----------
    eigenvalues : complex array (N m)
    route : str
        "fixed-point" (at a found fixed point) or "plug-in"/"dmft" (a
        steady-state snapshot).
    sites : SiteDistribution or None
        Plug-in route: the distribution of this very snapshot.
    converged : bool
        Fixed-point route: whether a fixed point was found.
    """

    eigenvalues: np.ndarray
    route: str
    sites: SiteDistribution | None
    converged: bool


def finite_n_spectrum(
    cell: Cell,
    parameters: dict | None,
    N: int,
    seed: int,
    route: str = "fixed-point",
    equations: str = "full",
) -> FiniteSpectrum:
    """Simulate ``cell`` at size N and return its Jacobian's spectrum.

    Parameters
    ----------
    route : str
        "fixed-point": relax to a fixed point (relaxation then Newton) and
        take the Jacobian there; otherwise a steady-state snapshot.
    equations : {"full", "reduced"}
        Fixed-point route: relax the network's own dynamics, or solve the
        cell's gate-free fixed-point map (:func:`gatefield.simulate.find_fixed_point`;
        a steep update gate makes the network's own relaxation crawl).
    """
    values = cell.resolve(parameters)
    if route == "fixed-point":
        net = make_network(cell, N, seed, values)
        fp = find_fixed_point(net, initial_state(net, seed), equations=equations)
        if not fp.converged:
            return FiniteSpectrum(np.empty(0, complex), route, None, False)
        return FiniteSpectrum(eigenvalues(net, fp.state), route, None, True)
    snap = snapshot(cell, values, N, seed)
    return FiniteSpectrum(eigenvalues(snap.network, snap.state), route, from_snapshot(snap), True)


def fraction_in_disc(eigenvalues, center: complex, radius: float) -> float:
    """Share of ``eigenvalues`` with ``|lam - center| < radius``."""
    eig = np.asarray(eigenvalues)
    return float(np.mean(np.abs(eig - complex(center)) < radius)) if eig.size else float("nan")
