"""Slow modes, atoms, marginals and the log-potential of the Jacobian's spectrum.

Built on the resolvent of :mod:`gatefield.numerics.resolvent` (THEORY.md
section 5) and the support of :mod:`gatefield.numerics.support` (section 4):

- **atoms**: a gate that is exactly shut freezes state components, whose
  Jacobian rows then no longer see the network; their own eigenvalues become
  point masses. :func:`site_atoms` finds them in a site distribution (sites
  whose ``B`` or ``C`` vanishes), :func:`step_gate_atoms` gives them in the
  limit where every gate is a step (large gain), from the cell's update rule
  (:func:`gatefield.theory.gates.binary_states`) and the node variances;
- **slow modes**: the share of eigenvalues within ``delta`` of the slow point
  (1 in discrete time, 0 in continuous time) by the contour integral of
  ``g``, atoms included; its accumulation law ``F(delta) ~ delta^p``; and
  :func:`edge_gap`, the distance from the support's edge to the slow point
  (zero: marginal stability);
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
from scipy.special import ndtr

from ..errors import SolverError
from ..theory.gates import binary_states, gates, whisker_nodes
from .resolvent import (
    PencilSites,
    count_inside,
    density,
    fixed_point_pencil_sites,
    resolvent,
    resolvent_grid,
)

__all__ = [
    "SLOW_POINTS",
    "Atom",
    "AccumulationLaw",
    "Marginals",
    "slow_point",
    "site_atoms",
    "step_gate_atoms",
    "slow_mode_fraction",
    "slow_mode_sites",
    "accumulation_law",
    "edge_gap",
    "marginal_window",
    "marginals",
    "log_potential",
]

#: Where slow modes pile up: eigenvalue 1 of a map, 0 of a flow.
SLOW_POINTS = {"discrete": 1.0, "continuous": 0.0}
#: A site is decoupled when every entry of its ``B`` (or of its ``C``) is at
#: most this times the largest entry over all sites: exactly zero for a hard
#: gate; a sigmoid is never below ~1e-16 within the 8.5-sd range of the rules.
DECOUPLED = 1e-13
#: Atom locations closer than this are merged.
MERGE = 1e-9
#: Default radii of :func:`accumulation_law`.
DELTAS = (0.02, 0.04, 0.08, 0.16)
#: Gauss-Legendre nodes per panel of the log-potential's path integral.
PATH_NODES = 16


def slow_point(time: str) -> float:
    """1 for a discrete-time cell, 0 for a continuous-time one."""
    try:
        return SLOW_POINTS[time]
    except KeyError:
        raise SolverError(f"time must be 'discrete' or 'continuous', got {time!r}") from None


@dataclass(frozen=True)
class Atom:
    """A point mass of the spectrum.

    Attributes
    ----------
    location : complex
    weight : float
        Share of all ``N m`` eigenvalues sitting exactly there.
    source : str
        "sites" (decoupled sites of the distribution) or "step gates" (the
        large-gain limit, :func:`step_gate_atoms`).
    """

    location: complex
    weight: float
    source: str

    def to_dict(self) -> dict:
        return {
            "re": self.location.real,
            "im": self.location.imag,
            "weight": self.weight,
            "source": self.source,
        }


def _merge(locations, weights, source) -> tuple:
    """Group equal locations and sum their weights, heaviest first."""
    atoms: list = []
    for lam, w in sorted(zip(locations, weights), key=lambda p: (p[0].real, p[0].imag)):
        if atoms and abs(atoms[-1][0] - lam) <= MERGE:
            atoms[-1][1] += w
        else:
            atoms.append([lam, w])
    return tuple(
        sorted((Atom(complex(lam), float(w), source) for lam, w in atoms if w > 0), key=lambda a: -a.weight)
    )


def site_atoms(sites: PencilSites) -> tuple:
    """Atoms of a site distribution: sites cut off from the network.

    A site whose ``B`` vanishes has Jacobian rows ``A`` alone (its update
    sees no node); one whose ``C`` vanishes has columns ``A`` alone (no node
    sees its state). Either way the eigenvalues of its ``A`` are exact
    eigenvalues of the whole Jacobian, each carrying ``weight / m``.

    Returns
    -------
    tuple of Atom
        Empty for gates that never shut exactly (sigmoids).
    """
    B = np.abs(sites.B).reshape(sites.n, -1)
    C = np.abs(sites.C).reshape(sites.n, -1)
    scale = max(float(B.max(initial=0.0)), float(C.max(initial=0.0)), np.finfo(float).tiny)
    floor = DECOUPLED * scale
    cut = (B.max(axis=1, initial=0.0) <= floor) | (C.max(axis=1, initial=0.0) <= floor)
    if not np.any(cut):
        return ()
    eig = np.linalg.eigvals(sites.A[cut])
    weights = np.repeat(sites.weights[cut] / sites.m, sites.m)
    return _merge(eig.reshape(-1), weights, "sites")


def _substitute(expr, values: dict):
    """``expr`` with its parameters replaced by their values (by name)."""
    return expr.xreplace({s: values[s.name] for s in expr.free_symbols if s.name in values})


def step_gate_atoms(cell, values: dict, node_variances: dict) -> tuple:
    """Atoms when every gate is replaced by the step of its argument.

    This is the limit of large gate gain at a fixed threshold ``-beta /
    alpha`` (at a fixed bias: the same with the bias set to 0, every gate
    then shut with probability 1/2). Each gate ``sigmoid(alpha eta + beta)``
    is shut with probability ``P(alpha eta + beta < 0)``, ``eta ~ N(0, q)``
    with ``q`` its node's variance; nodes of different couplings are
    independent, so a unit's gates sit in each of the ``2^G`` positions with
    the product probability, and the frozen components of each position
    (:func:`gatefield.theory.gates.binary_states`) contribute their
    eigenvalues exactly.

    Parameters
    ----------
    cell : Cell
    values : dict
        Parameter values by name (``cell.resolve(...)``).
    node_variances : dict
        Variance of each node by node name (a mean-field solution's
        ``node_variances``).

    Returns
    -------
    tuple of Atom
        Atoms whose location depends on the state (not a point mass) are
        left out.
    """
    found = gates(cell)
    shut = {}
    for gate in found:
        if gate.node is None:
            raise SolverError(
                f"gate {gate.name} = {gate.expression} is not sigmoid(slope * node + offset), "
                "so its large-gain limit is not defined here"
            )
        slope = float(_substitute(gate.slope, values))
        offset = float(_substitute(gate.offset, values))
        q = float(node_variances[gate.node.name])
        if q > 0 and slope != 0:
            shut[gate.name] = float(ndtr(-offset / (abs(slope) * np.sqrt(q))))
        else:
            shut[gate.name] = 1.0 if offset < 0 else (0.5 if offset == 0 else 0.0)
    locations, weights = [], []
    for positions, _, eigenvalues in binary_states(cell):
        p = float(np.prod([shut[g] if v == 0 else 1.0 - shut[g] for g, v in positions.items()]))
        for value in eigenvalues:
            number = _substitute(value, values)
            if number.free_symbols:
                continue
            locations.append(complex(number))
            weights.append(p / cell.m)
    return _merge(locations, weights, "step gates")


def _deltas(deltas) -> np.ndarray:
    d = np.atleast_1d(np.asarray(deltas, dtype=float))
    if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d) & (d > 0)):
        raise SolverError(f"delta must be positive numbers, got {deltas}")
    return d


#: Equal-weight quantile nodes on each whisker node in :func:`slow_mode_sites`
#: (count error at most 1/(2 x 128) = 0.004; measured: the GRU share within
#: 0.1 of 1 at alpha_z = 16 changes by 1e-4 from 128 to 512 nodes, where the
#: 16-node Gauss rule was 0.024 off).
SLOW_QUANTILE_POINTS = 128
#: Gauss nodes on the other nodes in :func:`slow_mode_sites`.
SLOW_OTHER_POINTS = 8
#: Most sites :func:`slow_mode_sites` builds (memory: each count holds
#: about 20k (point, site) pairs at once, so time grows linearly).
SLOW_MAX_SITES = 1 << 15


def slow_mode_sites(
    cell,
    compiled,
    values: dict,
    node_variances: dict,
    quantile: int = SLOW_QUANTILE_POINTS,
    others: int = SLOW_OTHER_POINTS,
) -> PencilSites:
    """Fixed-point sites that resolve the slow point's whisker.

    Near a gate's slow point the spectrum is a real whisker of the units'
    own eigenvalues (``1 - z`` for a GRU); a circle about the slow point
    crosses it, so the count is an indicator of the gate's node, which a
    Gauss rule (a few heavy nodes) resolves only to a node's weight (the
    16-node rule put the GRU share within 0.1 of 1 at ``alpha_z = 16`` at
    0.408 against 0.384). The nodes that move the units' own eigenvalues
    (:func:`~gatefield.theory.gates.whisker_nodes`: ``eta_z`` of a GRU,
    ``eta_f`` of an LSTM) get an equal-weight
    :func:`~gatefield.numerics.resolvent.quantile_rule` instead (at most
    ``quantile`` nodes each), the others ``others`` Gauss nodes, within
    ``SLOW_MAX_SITES`` sites (an LSTM: 64 quantile nodes on ``eta_f``).
    """
    moving = whisker_nodes(cell)
    # At most SLOW_MAX_SITES sites: fewer quantile nodes if several nodes move the whisker.
    budget = SLOW_MAX_SITES / others ** (len(compiled.nodes) - len(moving))
    per_node = max(others, min(quantile, int(budget ** (1.0 / max(len(moving), 1)))))
    points = {name: others for name in compiled.nodes if name not in moving}
    return fixed_point_pencil_sites(
        compiled, values, node_variances, points=points, quantile={name: per_node for name in moving}
    )


def slow_mode_fraction(sites: PencilSites, time: str, deltas, points: int = 256) -> np.ndarray:
    """Share of eigenvalues within ``delta`` of the slow point, for each delta.

    The contour integral of ``g`` around ``|lam - slow| = delta``
    (:func:`count_inside`), so atoms inside the circle are counted. A circle
    through the support's edge converges like ``points^(-2)``. At a fixed
    point build ``sites`` with :func:`slow_mode_sites`: the circle crosses
    the real whisker of the units' own eigenvalues, which a Gauss rule
    resolves only to one node's weight.
    """
    center = slow_point(time)
    return np.array([count_inside(sites, center, float(d), points=points) for d in _deltas(deltas)])


@dataclass(frozen=True)
class AccumulationLaw:
    """How eigenvalues accumulate at the slow point: ``F(delta) ~ c delta^p``.

    Attributes
    ----------
    deltas, fractions : arrays
        ``F(delta)``, the share within ``delta`` of the slow point.
    local_exponents : array
        ``d log F / d log delta`` at each delta (finite differences; 2 for
        a density that is finite and non-zero at the slow point, 1 for a
        finite density along a real whisker, 0 for an atom).
    exponent, prefactor : float
        Least-squares fit of ``log F = log c + p log delta`` (nan where
        ``F = 0`` somewhere).
    """

    deltas: np.ndarray
    fractions: np.ndarray
    local_exponents: np.ndarray
    exponent: float
    prefactor: float


def accumulation_law(sites: PencilSites, time: str, deltas=DELTAS, points: int = 256) -> AccumulationLaw:
    """The accumulation law of eigenvalues at the slow point (see :class:`AccumulationLaw`)."""
    d = np.sort(_deltas(deltas))
    if d.size < 2:
        raise SolverError("the accumulation law needs at least two radii delta")
    F = slow_mode_fraction(sites, time, d, points)
    if np.all(F > 0):
        logs = np.log(F)
        local = np.gradient(logs, np.log(d))
        p, logc = np.polyfit(np.log(d), logs, 1)
        return AccumulationLaw(d, F, local, float(p), float(np.exp(logc)))
    nan = np.full(d.size, np.nan)
    return AccumulationLaw(d, F, nan, float("nan"), float("nan"))


def edge_gap(support, time: str) -> float:
    """Distance from the support's edge to the slow point, signed.

    Discrete time: ``1 - spectral radius``; continuous time: ``-rightmost
    real part``. Positive: stable with that margin; zero: the edge touches
    the slow point (marginal stability); negative: unstable.
    """
    if time == "discrete":
        return 1.0 - support.spectral_radius
    return -support.rightmost_real


#: ``|edge_gap|`` at most this counts as touching the slow point. A sigmoid
#: gate never shuts, so at finite gain the edge approaches the slow point
#: exponentially in the gain (``1 - z_min`` with ``z_min ~ exp(-8.5 alpha
#: sqrt(q))`` over the quadrature's range) rather than reaching it.
MARGINAL_TOL = 1e-3


def marginal_window(values, gaps, tol: float = MARGINAL_TOL) -> list:
    """Parameter intervals where the support's edge touches the slow point.

    Parameters
    ----------
    values : 1-D array
        The swept parameter (increasing).
    gaps : 1-D array
        :func:`edge_gap` at each value (``nan`` where there was no solution).
    tol : float

    Returns
    -------
    list of (first, last)
        The first and last grid values of each run of ``|gap| <= tol``; the
        true window extends up to one grid step beyond each end.
    """
    v = np.asarray(values, dtype=float)
    g = np.asarray(gaps, dtype=float)
    if v.shape != g.shape or v.ndim != 1:
        raise SolverError("values and gaps must be 1-D arrays of the same length")
    touching = np.isfinite(g) & (np.abs(g) <= tol)
    out, start = [], None
    for k, flag in enumerate(touching):
        if flag and start is None:
            start = k
        if not flag and start is not None:
            out.append((float(v[start]), float(v[k - 1])))
            start = None
    if start is not None:
        out.append((float(v[start]), float(v[-1])))
    return out


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
    sites: PencilSites, center: complex, r_max: float, radii: int = 48, angles: int = 96, progress=None
) -> Marginals:
    """Radial and angular marginals of the density on a polar grid.

    ``radii`` Gauss-Legendre nodes on ``(0, r_max)`` (two panels) times
    ``angles`` equal cells offset by half a cell, so no node lies on the
    real axis when ``center`` is real. ``r_max`` should enclose the support.
    """
    if not (np.isfinite(r_max) and r_max > 0):
        raise SolverError(f"r_max must be a positive number, got {r_max}")
    if radii < 2 or angles < 4:
        raise SolverError("marginals need at least 2 radii and 4 angles")
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


def _outside_potential(sites: PencilSites, lam: complex) -> float:
    """``E_P log|det(lam - A)|``: the log-potential outside the support."""
    eye = np.eye(sites.m)
    _, logabs = np.linalg.slogdet(lam * eye[None] - sites.A)
    return float(np.dot(sites.weights, logabs))


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


def log_potential(sites: PencilSites, lam, height: float | None = None, scan: int = 48) -> np.ndarray:
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
        raise SolverError(f"lam must be a finite complex number, got {lam}")
    T = height
    if T is None:
        T = 1.0 + float(np.max(np.abs(np.linalg.eigvals(sites.A))))
        while resolvent(sites, lam + 1j * T).inside:
            T *= 2.0
            if T > 1e6:
                raise SolverError(f"no height above lam = {lam} leaves the support")
    elif not (np.isfinite(T) and T > 0):
        raise SolverError(f"height must be a positive number, got {height}")
    elif resolvent(sites, lam + 1j * T).inside:
        raise SolverError(f"lam + i*height = {lam + 1j * T} is inside the support; use a larger height")
    edges = [0.0] + _crossings(sites, lam, np.linspace(0.0, T, scan)) + [T]
    x, w = np.polynomial.legendre.leggauss(PATH_NODES)
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        # Two panels per piece: g varies fastest near its ends.
        for lo, hi in ((a, 0.5 * (a + b)), (0.5 * (a + b), b)):
            t = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
            g, _ = resolvent_grid(sites, (lam + 1j * t)[:, None])
            total += 0.5 * (hi - lo) * float(np.dot(w, g[:, 0].imag))
    return _outside_potential(sites, lam + 1j * T) + total
