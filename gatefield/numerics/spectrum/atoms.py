"""Atoms: point masses of the spectrum (``docs/theory/4-support.md#atoms``).

A gate that is exactly shut freezes state components, whose Jacobian rows
then no longer see the network; their own eigenvalues become point masses.
:func:`site_atoms` finds them in a site distribution (sites whose ``B`` or
``C`` vanishes); :func:`step_gate_atoms` gives them in the limit where every
gate is a step (large gain), from the cell's update rule
(:func:`gatefield.theory.gates.binary_states`) and the node variances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ...errors import GatefieldError
from ...theory.gates import binary_states, gates
from .sites import SiteDistribution

__all__ = ["Atom", "site_atoms", "step_gate_atoms"]

#: A site is decoupled when every entry of its ``B`` (or of its ``C``) is at
#: most this times the largest entry over all sites: exactly zero for a hard
#: gate; a sigmoid is never below ~1e-16 within the 8.5-sd range of the rules.
DECOUPLED = 1e-13
#: An eigenbasis of a site's ``A`` with a larger condition number is taken as
#: defective: its modes' residues are not judged.
ILL_CONDITIONED = 1e8
#: Atom locations closer than this are merged.
MERGE = 1e-9


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
    return tuple(sorted((Atom(complex(lam), float(w), source) for lam, w in atoms if w > 0), key=lambda a: -a.weight))


def site_atoms(sites: SiteDistribution) -> tuple:
    """Atoms of a site distribution: own eigenvalues the network cannot see.

    A site's own eigenvalue ``mu`` (of its ``A``, right eigenvector ``v``,
    left ``u``) is a pole of its transfer ``C (lam - A)^-1 B`` with residue
    ``(C v)(u B)``. Where that residue vanishes (no node sees the mode, ``C v
    = 0``, or no node drives it, ``u B = 0``), ``det(lam - J)`` keeps the
    factor ``lam - mu`` of ``det(lam - A)`` and ``mu`` is an exact
    eigenvalue of the whole Jacobian, carrying ``weight / m``. A site whose
    ``B`` or ``C`` vanishes is the case where every mode is cut off; a state
    that is read by no node and whose own row is local (a gate's state
    variable ``z' = (-z + J h) / tau``) gives an atom at its own rate,
    ``-1/tau``, for every site.

    Returns
    -------
    tuple of Atom
        Empty for gates that never shut exactly (sigmoids) in a cell whose
        every mode is seen and driven.
    """
    if not isinstance(sites, SiteDistribution):
        raise GatefieldError(f"site_atoms expects a SiteDistribution, got {type(sites).__name__}")
    pencils = sites.pencils
    B = np.abs(pencils.B).reshape(pencils.n, -1)
    C = np.abs(pencils.C).reshape(pencils.n, -1)
    scale = max(float(B.max(initial=0.0)), float(C.max(initial=0.0)), np.finfo(float).tiny)
    floor = DECOUPLED * scale
    cut = (B.max(axis=1, initial=0.0) <= floor) | (C.max(axis=1, initial=0.0) <= floor)
    locations = [np.linalg.eigvals(pencils.A[cut]).reshape(-1)]
    weights = [np.repeat(pencils.weights[cut] / pencils.m, pencils.m)]
    rest = ~cut
    if np.any(rest):
        mu, v = np.linalg.eig(pencils.A[rest])  # v[:, :, j]: right eigenvectors, unit norm
        # A (nearly) defective A has no eigenbasis to speak of: no claim there.
        basis = np.linalg.cond(v) < ILL_CONDITIONED
        mu, v = mu[basis], v[basis]
        u = np.linalg.inv(v)  # u[:, j, :]: the matching left eigenvectors (u v = 1)
        C_, B_ = pencils.C[rest][basis], pencils.B[rest][basis]
        seen = np.linalg.norm(np.einsum("nkm,nmj->nkj", C_, v), axis=1)  # |C v_j|
        driven = np.linalg.norm(np.einsum("njm,nmk->njk", u, B_), axis=2)  # |u_j B|
        blind = (seen <= floor) | (driven <= floor * np.linalg.norm(u, axis=2))
        locations.append(mu[blind])
        weights.append(np.broadcast_to(pencils.weights[rest][basis, None] / pencils.m, mu.shape)[blind])
    at, mass = np.concatenate(locations), np.concatenate(weights)
    if not len(at):
        return ()
    return _merge(at, mass, "sites")


def _substitute(expr, values: dict):
    """``expr`` with its parameters replaced by their values (by name)."""
    return expr.xreplace({s: values[s.name] for s in expr.free_symbols if s.name in values})


def step_gate_atoms(sites: SiteDistribution) -> tuple:
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
    sites : SiteDistribution
        A fixed-point distribution: its cell, parameter values and node
        variances.

    Returns
    -------
    tuple of Atom
        Atoms whose location depends on the state (not a point mass) are
        left out.
    """
    if not isinstance(sites, SiteDistribution) or sites.variances is None:
        raise GatefieldError(
            "step_gate_atoms needs a fixed-point SiteDistribution (gatefield.sites.from_fixed_point): the "
            "step-gate limit is taken at the Gaussian node law"
        )
    cell, values, node_variances = sites.cell, sites.values, sites.variances
    found = gates(cell)
    shut = {}
    for gate in found:
        if gate.node is None:
            raise GatefieldError(
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
