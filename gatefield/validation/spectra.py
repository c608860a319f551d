"""Site distributions by route, and finite-N spectra to hold them against.

:func:`route_sites` gives the full-pencil site distribution the density,
count, slow-mode and log-potential predictions need, for each route:

- **fixed-point**: the mean-field solution's quadrature (theory alone);
- **plug-in**: one snapshot of a simulated network (labelled as such);
- **dmft**: samples of the dynamical mean-field solution (theory alone).

:func:`finite_n_spectrum` simulates the same cell at size N on the same
route and returns its Jacobian's eigenvalues (and, for the plug-in route,
the prediction from that very snapshot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import GatefieldError
from ..numerics.codegen import compile_cell
from ..numerics.meanfield import solve_mean_field
from ..numerics.resolvent import PencilSites, fixed_point_pencil_sites, plugin_pencil_sites
from ..numerics.support import SiteTable, fixed_point_sites, plugin_sites
from ..theory.spec import Cell
from . import simulate

__all__ = [
    "RouteSites",
    "FiniteSpectrum",
    "route_sites",
    "finite_n_spectrum",
    "fraction_in_disc",
    "binomial_error",
    "SPECTRAL_ROUTES",
]

SPECTRAL_ROUTES = ("fixed-point", "plug-in", "dmft")
#: Burn-in before a plug-in or dmft-route snapshot: steps (discrete) or time.
BURN_IN = {"discrete": 500, "continuous": 200.0}


@dataclass(frozen=True)
class RouteSites:
    """A site distribution and where it came from.

    Attributes
    ----------
    sites : PencilSites
    route : str
    parameters : dict
        All parameter values.
    label : str
        A short description for outputs ("solution 1 of 2", "plug-in, N = 1000, seed 0").
    state : dict
        What the route solved: order parameters (fixed point), the
        snapshot's population moments (plug-in) or the DMFT moments.
    table : SiteTable
        The same distribution reduced to the moments the support needs
        (``trace_support(table, cell.time)``).
    """

    sites: PencilSites
    route: str
    parameters: dict
    label: str
    state: dict
    table: SiteTable


def _snapshot(cell: Cell, values: dict, N: int, seed: int):
    net = simulate.make_network(cell, N, seed, values)
    state = simulate.run_to_steady_state(net, simulate.initial_state(net, seed), BURN_IN[cell.time])
    return net, state


def route_sites(
    cell: Cell,
    parameters: dict | None = None,
    route: str = "fixed-point",
    solution: int = -1,
    N: int = 1000,
    seed: int = 0,
    dmft_progress=None,
) -> RouteSites:
    """The full-pencil site distribution of ``cell`` on ``route``.

    Parameters
    ----------
    solution : int
        Fixed-point route: index into the mean-field solutions (default the
        last, of largest q).
    N, seed : int
        Plug-in route: network size and seed of the simulated snapshot;
        dmft route: ``seed`` is the sampling seed.
    """
    if route not in SPECTRAL_ROUTES:
        raise GatefieldError(f"unknown route {route!r}; use one of {', '.join(SPECTRAL_ROUTES)}")
    compiled = compile_cell(cell)
    if route == "fixed-point":
        result = solve_mean_field(cell, parameters)
        n = len(result.solutions)
        if n == 0:
            raise GatefieldError(
                f"the mean-field equations of {cell.name} have no solution here; "
                "use --route plug-in or dmft for a time-dependent state"
            )
        if not -n <= solution < n:
            raise GatefieldError(
                f"solution index {solution} is out of range: the mean-field solve found "
                f"{n} solution(s), so use 0..{n - 1}"
            )
        index = solution % n
        chosen = result.solutions[index]
        sites = fixed_point_pencil_sites(compiled, result.parameters, chosen.node_variances)
        table = fixed_point_sites(compiled, result.parameters, chosen.node_variances)
        return RouteSites(
            sites, route, result.parameters, f"solution {index} of {n}", dict(chosen.order_parameters), table
        )
    values = cell.resolve(parameters)
    if route == "plug-in":
        net, state = _snapshot(cell, values, N, seed)
        eta = simulate.nodes(net, state)
        sites = plugin_pencil_sites(compiled, values, state, eta)
        moments = {name: float(np.mean(state[k] ** 2)) for k, name in enumerate(compiled.states)}
        table = plugin_sites(compiled, values, state, eta)
        return RouteSites(sites, route, values, f"plug-in, N = {N}, seed {seed}", moments, table)
    from ..numerics.dmft import solve_dmft

    result = solve_dmft(cell, parameters, seed=seed, progress=dmft_progress)
    states, nodes = result.sites
    sites = replace(plugin_pencil_sites(compiled, result.parameters, states, nodes), route="dmft")
    table = replace(plugin_sites(compiled, result.parameters, states, nodes), route="dmft")
    return RouteSites(sites, route, result.parameters, f"dmft, {result.status}", dict(result.moments), table)


@dataclass(frozen=True)
class FiniteSpectrum:
    """The Jacobian's eigenvalues of one simulated network.

    Attributes
    ----------
    eigenvalues : complex array (N m)
    route : str
        "fixed-point" (at a found fixed point) or "plug-in"/"dmft" (a
        steady-state snapshot).
    sites : PencilSites or None
        Plug-in route: the prediction's sites from this very snapshot.
    converged : bool
        Fixed-point route: whether a fixed point was found.
    table : SiteTable or None
        Plug-in route: the same sites reduced for the support.
    """

    eigenvalues: np.ndarray
    route: str
    sites: PencilSites | None
    converged: bool
    table: SiteTable | None = None


def finite_n_spectrum(
    cell: Cell,
    parameters: dict | None,
    N: int,
    seed: int,
    route: str = "fixed-point",
    relax: dict | None = None,
) -> FiniteSpectrum:
    """Simulate ``cell`` at size N and return its Jacobian's spectrum.

    Parameters
    ----------
    route : str
        "fixed-point": relax to a fixed point (relaxation then Newton) and
        take the Jacobian there; otherwise a steady-state snapshot.
    relax : dict, optional
        Fixed-point route: parameter overrides used only while *finding*
        the fixed point, for cells whose fixed points do not depend on them
        (a GRU's update gate: ``h* = h_tilde`` whatever ``z``). A small
        update gate turns the map into a damped iteration that converges to
        fixed points which are unstable at the target gate setting.
    """
    values = cell.resolve(parameters)
    if route == "fixed-point":
        search = simulate.make_network(cell, N, seed, {**values, **(relax or {})})
        fp = simulate.find_fixed_point(search, simulate.initial_state(search, seed))
        net = simulate.make_network(cell, N, seed, values)
        if not fp.converged:
            return FiniteSpectrum(np.empty(0, complex), route, None, False)
        return FiniteSpectrum(np.linalg.eigvals(simulate.jacobian(net, fp.state)), route, None, True)
    net, state = _snapshot(cell, values, N, seed)
    eta = simulate.nodes(net, state)
    sites = plugin_pencil_sites(net.compiled, values, state, eta)
    table = plugin_sites(net.compiled, values, state, eta)
    return FiniteSpectrum(np.linalg.eigvals(simulate.jacobian(net, state)), route, sites, True, table)


def fraction_in_disc(eigenvalues, center: complex, radius: float) -> float:
    """Share of ``eigenvalues`` with ``|lam - center| < radius``."""
    eig = np.asarray(eigenvalues)
    return float(np.mean(np.abs(eig - complex(center)) < radius)) if eig.size else float("nan")


def binomial_error(fraction: float, n: int) -> float:
    """``sqrt(p (1 - p) / n)``: the standard error of a share of n
    independent draws (eigenvalues are repulsive, so this overstates the
    error of a count in a region of the bulk; it is the conservative one)."""
    return math.sqrt(max(fraction * (1 - fraction), 0.0) / n) if n else float("nan")
