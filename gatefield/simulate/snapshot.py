"""A steady-state snapshot of a simulated network: the plug-in route's input."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import Network, initial_state, make_network, nodes, run_to_steady_state

__all__ = ["Snapshot", "snapshot", "BURN_IN"]

#: Burn-in before a snapshot: steps (discrete) or time (continuous).
BURN_IN = {"discrete": 500, "continuous": 200.0}


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A network and its state and node values at one time after a burn-in.

    Attributes
    ----------
    network : Network
    state : (m, N) array
    nodes : (K, N) array
    """

    network: Network = field(repr=False)
    state: np.ndarray = field(repr=False)
    nodes: np.ndarray = field(repr=False)


def snapshot(cell, parameters: dict | None, N: int, seed: int, burn_in=None) -> Snapshot:
    """Simulate ``N`` units (couplings and initial state from ``seed``) for a
    burn-in (default :data:`BURN_IN`) and take the state and node values."""
    net = make_network(cell, N, seed, parameters)
    if burn_in is None:
        burn_in = BURN_IN[cell.time]
    elif cell.time == "discrete":
        burn_in = int(burn_in)
    state = run_to_steady_state(net, initial_state(net, seed), burn_in)
    return Snapshot(net, state, nodes(net, state))
