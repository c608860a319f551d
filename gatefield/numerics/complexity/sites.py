"""Samplable tilted site measures: the importance-sampling proposal of the
finite-N Kac-Rice integral (:func:`gatefield.simulate.counting.kac_rice_integral`).

The per-unit tilted measure ``mu*(eta) ∝ N(eta; 0, diag q) exp(-sum_g qhat_g
v_g^2) det(I + diag(a) T^T diag(b) T)^(1/2)`` is tabulated on a box grid over
the active nodes (piecewise constant, so its density is exact to evaluate and
sampling is a box draw plus a uniform offset), mixed per unit with a wide
Gaussian for the tails, and the N-unit proposal is a mixture of products of
such measures at a few scales of ``q`` around the saddle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ...theory.spec import Cell
from ._compiled import CompiledKacRice, compile_kac_rice

__all__ = ["TiltedSites"]

#: Half-width of the box grid in standard deviations of each node: the
#: Gaussian mass beyond 6 is 2e-9, and the defensive component covers it.
HALF_WIDTH = 6.0
#: Boxes per node for 1, 2, 3 or more active nodes (about 400 to 15000 boxes in all).
BOXES = {1: 400, 2: 80, 3: 24}
#: Share of the wide Gaussian in every unit's proposal (defensive mixture),
#: and its standard deviation relative to sqrt(q).
DEFENSIVE, WIDE = 0.05, 1.5
#: Scales of q of the mixture's components and their weights: the saddle
#: itself and one on either side, since at finite N the counted fixed points
#: spread over a range of q around q*; then a geometric ladder down to
#: 1/50 of q*. Near eta = 0 the integrand falls only like |eta| (the density's
#: |v|^-N against the volume and |det| ~ |eta|^2), while a product measure at
#: one scale puts mass |eta|^(KN) there: without the ladder the weights of
#: small configurations have infinite variance (one draw in 4000 carried
#: half the estimate at N = 16).
SCALES = (1.0, 0.8, 1.25) + tuple(np.geomspace(0.02, 0.64, 11))
WEIGHTS = (0.5, 0.15, 0.15) + (0.2 / 11,) * 11


@dataclass(frozen=True, eq=False)
class _Component:
    q: np.ndarray  # (K,)
    edges: tuple  # K arrays of box edges
    cdf: np.ndarray  # cumulative box probabilities (flat, C order)
    log_density: np.ndarray  # log(P(box) / vol(box)), flat

    def log_unit(self, eta: np.ndarray) -> np.ndarray:
        """log of the per-unit proposal density at eta (K, N)."""
        K, N = eta.shape
        inside = np.ones(N, bool)
        flat = np.zeros(N, int)
        for a in range(K):
            e = self.edges[a]
            k = np.searchsorted(e, eta[a]) - 1
            inside &= (k >= 0) & (k < len(e) - 1)
            flat = flat * (len(e) - 1) + np.clip(k, 0, len(e) - 2)
        box = np.where(inside, self.log_density[flat], -np.inf)
        sd = WIDE * np.sqrt(self.q)[:, None]
        gauss = np.sum(-0.5 * (eta / sd) ** 2 - np.log(sd * np.sqrt(2 * np.pi)), axis=0)
        return np.logaddexp(np.log1p(-DEFENSIVE) + box, np.log(DEFENSIVE) + gauss)

    def draw(self, N: int, rng: np.random.Generator) -> np.ndarray:
        K = len(self.q)
        flat = np.searchsorted(self.cdf, rng.uniform(size=N) * self.cdf[-1], side="right")
        flat = np.minimum(flat, len(self.cdf) - 1)
        sizes = [len(e) - 1 for e in self.edges]
        idx = np.unravel_index(flat, sizes)
        eta = np.empty((K, N))
        for a in range(K):
            e = self.edges[a]
            eta[a] = e[idx[a]] + rng.uniform(size=N) * (e[idx[a] + 1] - e[idx[a]])
        wide = rng.uniform(size=N) < DEFENSIVE
        eta[:, wide] = WIDE * np.sqrt(self.q)[:, None] * rng.standard_normal((K, int(wide.sum())))
        return eta


def _component(ck: CompiledKacRice, values: dict, q_groups, qhat, a, b) -> _Component:
    K = ck.K
    q = np.asarray(q_groups, float)[list(ck.group_of)]
    n = BOXES.get(K, 12)
    edges = tuple(np.linspace(-HALF_WIDTH, HALF_WIDTH, n + 1) * np.sqrt(qa) for qa in q)
    centers = np.meshgrid(*[0.5 * (e[1:] + e[:-1]) for e in edges], indexing="ij")
    eta = np.stack([c.ravel() for c in centers])
    V, T = ck.evaluate(eta, values)
    W = np.einsum("kin,k,kjn->nij", T, np.asarray(b, float), T)
    Mm = np.eye(K)[None] + np.asarray(a, float)[None, :, None] * W
    _, logdet = np.linalg.slogdet(Mm)
    log_mu = -0.5 * np.sum(eta**2 / q[:, None], axis=0) - np.asarray(qhat, float) @ V**2 + 0.5 * logdet
    log_vol = float(sum(np.log(e[1] - e[0]) for e in edges))
    log_p = log_mu + log_vol
    log_p -= logsumexp(log_p)
    return _Component(q, edges, np.cumsum(np.exp(log_p)), log_p - log_vol)


@dataclass(frozen=True, eq=False)
class TiltedSites:
    """A mixture of products of tabulated tilted site measures.

    Build with :meth:`from_saddle` (the best Kac-Rice saddle of the cell, or
    the Gaussian of its mean field when there is none) or :meth:`at`.
    """

    cell: Cell
    components: tuple
    weights: np.ndarray

    @classmethod
    def at(cls, cell: Cell, parameters: dict | None, q, qhat, a, b) -> TiltedSites:
        """The mixture around ``(q, qhat, a, b)`` (group order parameters and
        multipliers, node ``a`` and ``b``), scaled by :data:`SCALES`."""
        ck = compile_kac_rice(cell)
        values = cell.resolve(parameters)
        comps = tuple(_component(ck, values, np.asarray(q, float) * s, qhat, a, b) for s in SCALES)
        return cls(cell, comps, np.asarray(WEIGHTS, float))

    @classmethod
    def from_saddle(cls, cell: Cell, parameters: dict | None = None, solution=None) -> TiltedSites:
        """Around the best saddle of ``solution`` (solved here when not given)."""
        from .saddles import solve_complexity

        ck = compile_kac_rice(cell)
        sol = solution if solution is not None else solve_complexity(cell, parameters, throw=False)
        best = sol.best
        if best is not None:
            reps = [ck.couplings[m[0]] for m in ck.groups]
            return cls.at(
                cell,
                parameters,
                [best.order_parameters[c] for c in reps],
                [best.multipliers[c] for c in reps],
                [best.a[c] for c in ck.couplings],
                [best.b[c] for c in ck.couplings],
            )
        q = [t.order_parameters for t in sol.typical]
        reps = [ck.couplings[m[0]] for m in ck.groups]
        q_groups = [q[-1][c] for c in reps] if q else [0.5] * ck.G
        zeros = np.zeros(ck.K)
        return cls.at(cell, parameters, q_groups, np.zeros(ck.G), zeros, zeros)

    def sample(self, N: int, rng: np.random.Generator) -> tuple:
        """One N-unit draw ``eta`` (K, N) and ``log r(eta)``."""
        c = int(rng.choice(len(self.components), p=self.weights))
        eta = self.components[c].draw(N, rng)
        logs = [np.log(w) + float(np.sum(comp.log_unit(eta))) for w, comp in zip(self.weights, self.components)]
        return eta, float(logsumexp(logs))
