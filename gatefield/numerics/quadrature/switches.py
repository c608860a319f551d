"""Where an integrand switches: the one detector every rule uses.

A *feature* of a node is a generated function giving ``(slope, offset)`` of a
function argument ``slope * eta + offset`` of the integrand (a gate's or a
``tanh``'s argument; :attr:`gatefield.numerics.codegen.CompiledCell.features`
finds them from the cell). The argument crosses zero at
``eta = -offset / slope``: in standard units ``x = eta / sd`` that is the
switch point ``-offset / (slope sd)``, over a length ``1 / (|slope| sd)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["switch_points", "affine_switches"]


def affine_switches(pairs, sd: float, mean: float, steep: float) -> list:
    """``(center, width)`` in standard units of each steep ``(slope, offset)``
    pair, for a variable of mean ``mean`` and standard deviation ``sd``."""
    out = []
    for slope, offset in pairs:
        slope, offset = float(slope), float(offset)
        rate = abs(slope) * sd
        if rate > steep:
            out.append(((-offset / slope - mean) / sd, 1.0 / rate))
    return sorted(out)


def switch_points(features, values, sd: float, steep: float) -> list:
    """``(center, width)`` of every steep feature of one node (zero mean)."""
    pairs = [tuple(float(v) for v in feature(values)) for feature in features]
    return affine_switches(pairs, sd, 0.0, steep) if sd > 0 else []


def merged_centers(switches, reach: float, gap: float) -> np.ndarray:
    """The switch centers within ``reach`` of 0, rounded, sorted and merged
    when closer than ``gap`` (the cut points of a split rule)."""
    centers = [c for c, _ in switches if abs(c) < reach]
    out = np.unique(np.round(np.sort(centers), 6))
    return out[np.concatenate([[True], np.diff(out) > gap])] if len(out) else out
