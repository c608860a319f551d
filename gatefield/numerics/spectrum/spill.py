"""How many of a finite network's eigenvalues lie past the predicted support
(``docs/theory/4-support.md#spill``).

Two effects put eigenvalues of an N-unit network outside the support of the
N = infinity spectrum, both O(N^-1/2):

- **the edge's own spill.** Near an edge where the density jumps from
  ``rho`` to 0, a non-Hermitian random matrix's eigenvalues spread over
  the local spacing ``(N rho)^-1/2``. The share outside is local: an N x N
  Ginibre matrix loses ``1/sqrt(2 pi N)`` past its unit disc, and a support
  of any shape loses that times ``shape = oint sqrt(rho) ds / (2 sqrt(pi) m)``
  (1 for a disc of uniform density; more for a thin or elongated support,
  whose edge is long for its mass).
- **the network's own law.** A network's units are N draws from the one-time
  law, so its own support's edge sits a random normal distance ``dn(s)`` from
  the limit's, and ``oint rho dn ds / m`` of its eigenvalues move across. Its
  standard deviation over resamples of N units is the ``shift``.

:func:`edge_spill` computes both from a site distribution; the outside
check's tolerance (:func:`gatefield.validation.tolerances.outside_tolerance`)
is built on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import _checks
from .sites import SiteDistribution, from_samples
from .support import _in_bulk

__all__ = ["Spill", "edge_spill", "SPILL_DRAWS"]

#: Resamples of N units for the shift's standard deviation (known to about
#: ``1 / sqrt(2 (draws - 1))``, 18% at 16).
SPILL_DRAWS = 16
#: Boundary vertices per component at which the density and the shift are read.
VERTICES = 96
#: The seed of the resamples (a prediction, not a simulation: fixed).
_SEED = 0x5B11
#: Inward step, as a share of the bulk's radius, at which the edge density is read.
_INWARD = 1e-3
#: Window along each normal, as a share of the bulk's radius, searched for a
#: resample's edge.
_WINDOW = 0.2


@dataclass(frozen=True)
class Spill:
    """The predicted share of an N-unit network's eigenvalues outside the support.

    Attributes
    ----------
    expected : float
        The edge's own spill, ``shape / sqrt(2 pi N)``.
    shape : float
        ``oint sqrt(rho) ds / (2 sqrt(pi) m)``: 1 for a uniform disc.
    shift : float
        Standard deviation of the share moved across the edge by the
        network's own law (0 for a network's own plug-in support).
    N : int
    m : int
    """

    expected: float
    shape: float
    shift: float
    N: int
    m: int

    @property
    def stderr(self) -> float:
        """One network's standard deviation of its share outside: the
        edge's spill as a Poisson count of ``N m`` eigenvalues (repulsion makes
        it smaller: conservative) and the shift, in quadrature."""
        return math.sqrt(self.expected / (self.N * self.m) + self.shift**2)


def _boundary(sites: SiteDistribution):
    """Midpoints, lengths and outward unit normals of the support's boundary
    segments (every component, at most ``VERTICES`` vertices each)."""
    mids, lengths, normals = [], [], []
    for curve in sites.support.components:
        z = np.asarray(curve)
        if len(z) < 4:
            continue
        if len(z) > VERTICES:
            z = z[np.linspace(0, len(z) - 1, VERTICES).astype(int)]
        if abs(z[0] - z[-1]) > 1e-12 * max(1.0, abs(z[0])):
            z = np.append(z, z[0])  # closed
        step = np.diff(z)
        ds = np.abs(step)
        keep = ds > 0
        mids.append(0.5 * (z[1:] + z[:-1])[keep])
        lengths.append(ds[keep])
        normals.append(-1j * step[keep] / ds[keep])  # one side; oriented below
    if not mids:
        return np.zeros(0, complex), np.zeros(0), np.zeros(0, complex)
    mid, ds, normal = np.concatenate(mids), np.concatenate(lengths), np.concatenate(normals)
    eps = _INWARD * max(sites.support.bulk_radius, 1e-12)
    outward = ~_in_bulk(sites, mid + eps * normal)
    normal = np.where(outward, normal, -normal)
    return mid, ds, normal


def _resample(sites: SiteDistribution, N: int, rng) -> SiteDistribution:
    """N units drawn from the one-time law of ``sites``."""
    compiled = sites.compiled
    if sites.samples is not None:
        states, nodes = sites.samples
        pick = rng.choice(states.shape[-1], N, replace=True)
        return from_samples(compiled.cell, sites.values, states[:, pick], nodes[:, pick], sites.provenance)
    from ..states import fixed_states

    env = dict(sites.values)
    for name in compiled.nodes:
        variance = float((sites.variances or {}).get(name, 0.0))
        env[name] = math.sqrt(variance) * rng.standard_normal(N) if variance > 0 else np.zeros(N)
    env.update(fixed_states(compiled, env))
    states = np.array([np.broadcast_to(np.asarray(env[s], dtype=float), (N,)) for s in compiled.states])
    nodes = np.array([env[n] for n in compiled.nodes])
    return from_samples(compiled.cell, sites.values, states, nodes, sites.provenance)


def _edge_shift(sub, mid, normal, window) -> np.ndarray:
    """Signed normal distance from each limit boundary point to ``sub``'s edge
    (outward positive): bisection of the bulk test along the normal."""
    lo, hi = -window * np.ones(len(mid)), window * np.ones(len(mid))
    inside_lo = _in_bulk(sub, mid + lo * normal)
    inside_hi = _in_bulk(sub, mid + hi * normal)
    found = inside_lo & ~inside_hi
    for _ in range(30):
        t = 0.5 * (lo + hi)
        inside = _in_bulk(sub, mid + t * normal)
        lo, hi = np.where(inside, t, lo), np.where(inside, hi, t)
    # No crossing in the window: the resample has no edge near this point (a
    # thin tip that N units do not reach): no move is read there.
    return np.where(found, 0.5 * (lo + hi), 0.0)


def edge_spill(sites: SiteDistribution, N: int, draws: int | None = SPILL_DRAWS) -> Spill:
    """The share of an N-unit network's eigenvalues predicted outside the
    support of ``sites`` (module docstring).

    Parameters
    ----------
    draws : int or None
        Resamples of N units for the shift; 0 or None for a support that is
        the network's own (plug-in), whose edge does not move.
    """
    from .observables import density

    N = _checks.count(N, "N", 2)
    m = sites.m
    mid, ds, normal = _boundary(sites)
    if not len(mid):
        return Spill(0.0, 0.0, 0.0, N, m)
    radius = max(sites.support.bulk_radius, 1e-12)
    with np.errstate(all="ignore"):
        rho = np.real(np.asarray(density(sites, mid - _INWARD * radius * normal, throw=False)))
    rho = np.where(np.isfinite(rho) & (rho > 0), rho, 0.0)
    shape = float(np.sum(np.sqrt(rho) * ds) / (2 * math.sqrt(math.pi) * m))
    expected = shape / math.sqrt(2 * math.pi * N)
    shift = 0.0
    if draws:
        rng = np.random.default_rng(_SEED)
        moved = []
        for _ in range(_checks.count(draws, "draws", 2)):
            sub = _resample(sites, N, rng)
            dn = _edge_shift(sub, mid, normal, _WINDOW * radius)
            moved.append(float(np.sum(rho * dn * ds) / m))
        shift = float(np.std(moved, ddof=1))
    return Spill(expected, shape, shift, N, m)
