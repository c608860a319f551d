"""The maps of a phase diagram: per-point quantities on the grid (:data:`MAPS`)
and, on request, the slow-mode share and marginal stability (:data:`SLOW_MAPS`)."""

from __future__ import annotations

import numpy as np

from ...errors import GatefieldError
from ._points import Engine, Point

#: The per-point maps of a diagram, with what each means.
MAPS = {
    "sigma": "annealed complexity (at least 0 where eta = 0 is a fixed point of every network)",
    "sigma_saddle": "best Kac-Rice saddle's value (nan: no saddle); its sign change is the onset",
    "zero_fixed_point": "1 where q = 0 solves the mean-field equations",
    "zero_margin": "stability margin of the zero fixed point (positive: stable; nan: none)",
    "nonzero_roots": "number of non-zero mean-field roots",
    "stable_nonzero_roots": "number of those with a positive margin",
    "best_margin": "largest margin of any fixed point (negative or nan: none stable)",
    "region": "region code (REGIONS)",
}
#: Maps added on request (``phase_diagram(..., slow_delta=...)``).
SLOW_MAPS = {
    "slow_share": "share of the units' own eigenvalues within slow_delta of the slow point, at the fixed point "
    "with the best margin (nan: no fixed point)",
    "marginal": "1 where the best fixed point's margin is within MARGINAL_TOL of 0 (edge on the slow point)",
}


def _maps(pts: dict, n1: int, n2: int) -> dict:
    shape = (n1, n2)
    out = {k: np.full(shape, np.nan) for k in MAPS}
    for (i, j), p in pts.items():
        margins = np.array(p.margins, float)
        stable_nonzero = int(np.sum(margins > 0))
        best = max([m for m in list(p.margins) + [p.zero_margin] if np.isfinite(m)], default=np.nan)
        zero_stable = bool(p.zero and p.zero_margin > 0)
        positive = bool(np.isfinite(p.sigma_saddle) and p.sigma_saddle > 0)
        if not (best > 0):
            region = 3
        elif positive:
            region = 2
        elif zero_stable:
            region = 0
        else:
            region = 1
        out["sigma"][i, j] = p.sigma
        out["sigma_saddle"][i, j] = p.sigma_saddle
        out["zero_fixed_point"][i, j] = float(p.zero)
        out["zero_margin"][i, j] = p.zero_margin
        out["nonzero_roots"][i, j] = len(p.roots)
        out["stable_nonzero_roots"][i, j] = stable_nonzero
        out["best_margin"][i, j] = best
        out["region"][i, j] = region
    return out


def _best_fixed_point(engine: Engine, p: Point):
    """``(margin, x)`` of the fixed point with the largest margin (None: none)."""
    candidates = [(m, x) for m, x in zip(p.margins, p.roots) if np.isfinite(m)]
    if p.zero and np.isfinite(p.zero_margin):
        candidates.append((p.zero_margin, np.zeros(len(engine.compiled.integrals))))
    return max(candidates, key=lambda c: c[0]) if candidates else None


def _slow_maps(engine: Engine, pts: dict, maps: dict, delta: float) -> dict:
    """The units' slow share and the marginal-stability map (:data:`SLOW_MAPS`)."""
    from ..spectrum.slow_modes import MARGINAL_TOL

    if not delta > 0:
        raise GatefieldError(f"slow_delta must be positive, got {delta}")
    share = np.full(maps["region"].shape, np.nan)
    for (i, j), p in pts.items():
        best = _best_fixed_point(engine, p)
        if best is not None:
            share[i, j] = engine.unit_slow_share(p.params, best[1], delta)
    best_margin = maps["best_margin"]
    marginal = np.where(np.isfinite(best_margin), (np.abs(best_margin) <= MARGINAL_TOL).astype(float), np.nan)
    return {"slow_share": share, "marginal": marginal}
