"""Finite-N simulation with untied weights: couplings redrawn at every step.

This is the "annealed" network of the signal-propagation literature (Poole et
al. 2016; Schoenholz et al. 2017; Chen, Pennington and Schoenholz 2018 for
gated cells): a discrete-time cell whose matrices ``J_a`` (entries iid
N(0, 1/N)) are fresh at every step, independent of everything before. Its
N -> infinity limit is the annealed mean field
(:class:`gatefield.numerics.solvers.PopulationDynamics`); with the usual fixed
("tied") weights the exact theory is the DMFT instead, and the two differ
wherever a state integrates its past (``docs/theory/6-dmft.md#annealed``).

Two replicas driven by the same fresh weights from different initial states
measure the two-input correlation ``c_t = mean(s1 s2) / sqrt(q1 q2)`` per state
component.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import _checks, _population, _sampling
from ..errors import GatefieldError
from ..numerics.codegen import compile_cell
from ..numerics.problems import Annealed
from ..theory.spec import Cell

__all__ = ["UntiedResult", "untied", "DRAWS"]

#: Default number of blocks of the measuring window for the standard errors.
DEFAULT_BLOCKS = 20
#: Ways to produce the node values each step; see :func:`untied`.
DRAWS = ("matrices", "nodes")


@dataclass(frozen=True)
class UntiedResult:
    """Population moments of an untied-weights simulation.

    Attributes
    ----------
    cell : str
    parameters : dict
    N : int
    moments : dict
        Averages over the measuring window of the population means of
        replica 1, as ``Estimate`` (batch-means errors): ``"E[s]"`` and
        ``"E[s^2]"`` for every state and definition, and ``"C_J(0)"`` = mean of
        ``v_J^2`` (the variance of the node drawn that step) per coupling; the
        keys of the DMFT and the annealed theory.
    series : dict
        Per-step population moments over the whole run.
    overlap : dict
        Two replicas only: state name -> the stationary ``c`` (window average
        of ``c_t``) as ``Estimate``; empty for one replica.
    stationarity : float
        The largest disagreement between the halves of the window, in
        combined standard errors.
    steps, burn_in, blocks : int
    draw : str
    settings : dict
        Seeds, scale, replicas, initial correlation.
    """

    cell: str
    parameters: dict
    N: int
    moments: dict
    series: dict = field(repr=False, metadata={"json": False})
    overlap: dict
    stationarity: float
    steps: int
    burn_in: int
    blocks: int
    draw: str
    settings: dict


def untied(
    cell: Cell,
    N: int,
    steps: int,
    *,
    parameters: dict | None = None,
    burn_in: int = 0,
    weight_seed: int = 0,
    state_seed: int = 0,
    scale: float = 1.0,
    replicas: int = 1,
    initial_correlation: float = 0.0,
    draw: str = "matrices",
    blocks: int = DEFAULT_BLOCKS,
) -> UntiedResult:
    """Simulate N units of a discrete-time cell with couplings redrawn every step.

    Parameters
    ----------
    cell : Cell
        A discrete-time cell.
    N : int
        Number of units (at least 2).
    steps : int
        Measured steps after the burn-in.
    parameters : dict, optional
        Overrides of the cell's defaults.
    burn_in : int
        Steps before the measuring window.
    weight_seed, state_seed : int
        Seeds of the fresh couplings and of the initial states (separate
        streams).
    scale : float
        Standard deviation of the iid Gaussian initial state entries.
    replicas : {1, 2}
        With 2, a second copy of the network runs from a second initial
        state, driven by the same fresh couplings at every step.
    initial_correlation : float
        Two replicas: replica 2 starts at ``c0 s1 + sqrt(1 - c0^2) s'``.
    draw : {"matrices", "nodes"}
        ``"matrices"`` draws every ``J_a`` (N x N) each step and multiplies,
        the literal network. ``"nodes"`` draws the node values directly from
        their exact conditional law (given the arguments of both replicas,
        the rows of a fresh Gaussian ``J_a`` make the node pairs iid over
        units with covariance ``v^r . v^r' / N``): the same distribution, O(N)
        instead of O(N^2) per step.
    blocks : int
        Blocks of the measuring window for the batch-means errors (they need
        blocks longer than the relaxation time of the population moments).
    """
    N = _checks.count(N, "the number of units N", 2)
    problem = Annealed(cell, parameters, replicas=replicas, initial_correlation=initial_correlation, scale=scale)
    steps = _checks.count(steps, "the number of steps", 1)
    burn_in = _checks.count(burn_in, "the number of burn-in steps", 0)
    blocks = _checks.count(blocks, "the number of blocks", 2)
    if steps < blocks:
        raise GatefieldError(
            f"{steps} measured steps cannot be cut into {blocks} blocks; measure longer or use fewer blocks"
        )
    _checks.choice(draw, "draw", DRAWS)
    weight_seed = _checks.count(weight_seed, "the weight seed", 0)
    state_seed = _checks.count(state_seed, "the initial-state seed", 0)
    compiled = compile_cell(cell)
    w_rng = _sampling.rng(weight_seed, "weights")
    s = _sampling.initial_states(
        _sampling.rng(state_seed, "state"), (cell.m, N), float(scale), replicas, float(initial_correlation)
    )
    root_N = math.sqrt(N)

    def fresh(v):
        if draw == "nodes":
            return _sampling.correlated_nodes(v, w_rng, N)
        J = w_rng.standard_normal((N, N)) / root_N
        return (J @ v.T).T

    series = _population.advance(compiled, problem.values, s, burn_in + steps, fresh)
    moments, overlap, worst = _population.window_moments(compiled, series, burn_in, blocks)
    return UntiedResult(
        cell=cell.name,
        parameters=dict(problem.values),
        N=N,
        moments=moments,
        series=series,
        overlap=overlap,
        stationarity=worst,
        steps=steps,
        burn_in=burn_in,
        blocks=blocks,
        draw=draw,
        settings={
            "weight_seed": weight_seed,
            "state_seed": state_seed,
            "scale": float(scale),
            "replicas": replicas,
            "initial_correlation": float(initial_correlation),
        },
    )
