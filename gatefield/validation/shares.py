"""Shares of eigenvalues in discs and annuli: theory against finite N.

A region is a disc ``|lam - c| < r`` or an annulus ``r_in < |lam - c| <
r_out``. The theory's share is the contour integral of the resolvent
(:func:`gatefield.share_inside`); the finite-N share is the fraction of a
simulated Jacobian's eigenvalues inside, averaged over networks, with its
binomial error and (with several networks) the seed scatter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GatefieldError
from ..numerics.spectrum import share_in_annulus, share_inside
from .spectra import finite_n_spectrum, fraction_in_disc, sites_for_route
from .tolerances import binomial_error

__all__ = ["Region", "compare_shares"]


@dataclass(frozen=True)
class Region:
    """``kind`` "disc" with ``numbers = (x, y, r)`` or "annulus" with ``(x, y, r_in, r_out)``."""

    kind: str
    numbers: tuple

    def __post_init__(self):
        v = self.numbers
        if self.kind not in ("disc", "annulus") or len(v) != (3 if self.kind == "disc" else 4):
            raise GatefieldError("a region is a disc (x, y, r) or an annulus (x, y, r_in, r_out)")
        if not all(math.isfinite(x) for x in v) or v[2] <= 0 or (self.kind == "annulus" and v[3] <= v[2]):
            raise GatefieldError(
                f"--{self.kind} {' '.join(f'{x:g}' for x in v)}: radii must be positive (and "
                "R_IN < R_OUT) and every number finite"
            )

    @property
    def center(self) -> complex:
        return complex(self.numbers[0], self.numbers[1])

    def theory(self, sites) -> float:
        v = self.numbers
        if self.kind == "disc":
            return share_inside(sites, self.center, v[2])
        return share_in_annulus(sites, self.center, v[2], v[3])

    def empirical(self, eigenvalues) -> float:
        v = self.numbers
        inner = fraction_in_disc(eigenvalues, self.center, v[2])
        return inner if self.kind == "disc" else fraction_in_disc(eigenvalues, self.center, v[3]) - inner


def compare_shares(
    cell,
    parameters,
    regions,
    route="fixed-point",
    *,
    N=None,
    seeds=1,
    seed=0,
    solution=-1,
    progress=None,
    dmft_progress=None,
) -> tuple:
    """The theory's share of each region, and with ``N`` the simulated one.

    Returns ``(rows, label)``: a dict per region (``region``, ``numbers``,
    ``theory`` and with ``N``: ``simulation``, ``binomial_error``,
    ``seed_error``) and the prediction's label. On the plug-in route each
    network is compared with the prediction from its own snapshot (the theory
    is their mean).
    """
    tick = progress or (lambda *a: None)
    sims = []
    if N is not None and route == "plug-in":
        predictions = []
        for k, s in enumerate(range(seed, seed + seeds)):
            spec = finite_n_spectrum(cell, parameters, N, s, route="plug-in")
            predictions.append([r.theory(spec.sites) for r in regions])
            sims.append([r.empirical(spec.eigenvalues) for r in regions])
            tick(k + 1, seeds)
        predicted = np.mean(predictions, axis=0)
        label = f"plug-in, N = {N}, {seeds} seed(s)"
    else:
        sites = sites_for_route(
            cell, parameters, route, solution=solution, N=N or 1000, seed=seed, dmft_progress=dmft_progress
        )
        predicted, label = [r.theory(sites) for r in regions], sites.label
        if N is not None:
            for k, s in enumerate(range(seed, seed + seeds)):
                spec = finite_n_spectrum(cell, sites.values, N, s, route=route, equations="reduced")
                if not spec.converged:
                    raise GatefieldError(
                        f"the N = {N} network (seed {s}) has no fixed point "
                        "that relaxation or Newton on its fixed-point map finds; use "
                        "--route plug-in for time-dependent states"
                    )
                sims.append([r.empirical(spec.eigenvalues) for r in regions])
                tick(k + 1, seeds)
    m = cell.m
    rows = []
    for k, region in enumerate(regions):
        row = {"region": region.kind, "numbers": list(region.numbers), "theory": float(predicted[k])}
        if sims:
            values = np.array([s[k] for s in sims])
            n = len(values)
            row["simulation"] = float(values.mean())
            row["binomial_error"] = binomial_error(row["simulation"], N * m * n)
            row["seed_error"] = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None
        rows.append(row)
    return rows, label
