"""Finite-N simulation with untied weights: couplings redrawn at every step.

This is the "annealed" network of the signal-propagation literature (Poole et
al. 2016; Schoenholz et al. 2017; Chen, Pennington and Schoenholz 2018 for
gated cells): a discrete-time cell whose matrices ``J_a`` (entries iid
N(0, 1/N)) are fresh at every step, independent of everything before. Its
N -> infinity limit is the annealed mean-field theory of
:mod:`gatefield.numerics.annealed`; with the usual fixed ("tied") weights of
:mod:`gatefield.validation.simulate` the exact theory is the DMFT instead
(THEORY.md section 6), and the two differ wherever a state integrates its
past.

Two replicas driven by the same fresh weights from different initial states
measure the two-input correlation ``c_t = mean(s1 s2) / sqrt(q1 q2)`` per
state component.

This module never imports SymPy: it evaluates the numpy functions that
:func:`gatefield.numerics.codegen.compile_cell` generates.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import GatefieldError, check_count
from ..numerics.annealed import batch_means, check_settings, correlated_nodes, initial_states
from ..numerics.codegen import compile_cell
from ..theory.spec import Cell

__all__ = ["UntiedResult", "simulate_untied"]

#: Default number of blocks of the measuring window for the standard errors
#: (batch means); see :func:`gatefield.numerics.annealed.batch_means`.
DEFAULT_BLOCKS = 20

#: Ways to produce the node values each step; see :func:`simulate_untied`.
DRAWS = ("matrices", "nodes")

#: Entropy tags keeping the weight and initial-state streams apart even when
#: given the same integer seed.
_WEIGHT_STREAM = 0x0A7E
_STATE_STREAM = 0x5EED


@dataclass(frozen=True)
class UntiedResult:
    """Population moments of an untied-weights simulation.

    Attributes
    ----------
    cell : str
    parameters : dict
    N : int
    moments : dict
        Averages over the measuring window (after the burn-in) of the
        population means of replica 1: ``"E[s]"`` and ``"E[s^2]"`` for every
        state ``s``, and ``"C_J(0)"`` = mean of ``v_J^2`` (the variance of the
        node ``J @ v_J`` drawn that step) for every coupling ``J``. Same keys
        as :class:`gatefield.numerics.dmft.DMFTResult` and
        :class:`gatefield.numerics.annealed.AnnealedResult`.
    moment_errors : dict
        Batch-means standard errors of ``moments``.
    series : dict
        The same names -> per-step population means, shape ``(burn_in + steps + 1,)``
        for states (step 0 is the initial state) and ``(burn_in + steps,)``
        for couplings (the variance used to go from step t to t + 1).
    correlation : dict
        Two replicas only: state name -> stationary ``c`` (mean of ``c_t``
        over the measuring window); empty for one replica.
    correlation_errors : dict
        Batch-means standard errors of ``correlation``.
    correlation_series : dict
        State name -> ``c_t`` for t = 0 .. burn_in + steps (two replicas).
    steps, burn_in, blocks : int
    draw : str
    settings : dict
        Seeds, scale, replicas, initial correlation.
    """

    cell: str
    parameters: dict
    N: int
    moments: dict
    moment_errors: dict
    series: dict = field(repr=False)
    correlation: dict
    correlation_errors: dict
    correlation_series: dict = field(repr=False)
    steps: int
    burn_in: int
    blocks: int
    draw: str
    settings: dict

    def to_json(self) -> dict:
        return {
            "route": "untied",
            "cell": self.cell,
            "parameters": self.parameters,
            "N": self.N,
            "moments": self.moments,
            "moment_errors": self.moment_errors,
            "correlation": self.correlation,
            "correlation_errors": self.correlation_errors,
            "correlation_series": {k: v.tolist() for k, v in self.correlation_series.items()},
            "steps": self.steps,
            "burn_in": self.burn_in,
            "blocks": self.blocks,
            "draw": self.draw,
            "settings": self.settings,
        }


def simulate_untied(
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
        their exact conditional law: given the arguments ``v_a`` (both
        replicas), the rows of a fresh Gaussian ``J_a`` make
        ``(J_a v1, J_a v2)_i`` iid over units ``i`` with covariance
        ``[[v1.v1, v1.v2], [v1.v2, v2.v2]] / N``; same distribution, O(N)
        instead of O(N^2) per step.
    blocks : int
        Blocks of the measuring window for the batch-means errors.

    Returns
    -------
    UntiedResult

    Notes
    -----
    One step, nodes in order (``v_a`` may use the step's earlier nodes)::

        eta_a = J_a(t) v_a(s_t, eta_1, ..., eta_{a-1}),   J_a(t) fresh
        s_{t+1} = F(s_t, eta)

    Recorded each step: the population means of ``s``, ``s^2`` and ``v_a^2``
    and, for two replicas, ``c_t = mean(s1 s2) / sqrt(mean(s1^2) mean(s2^2))``
    per state component. Moments are time averages over the measuring window;
    their errors are batch means (:func:`gatefield.numerics.annealed.batch_means`), which need blocks
    longer than the relaxation time of the population moments.
    """
    if isinstance(N, bool) or not isinstance(N, numbers.Integral) or N < 2:
        raise GatefieldError(f"the number of units N must be an integer of at least 2, got {N!r}")
    N = int(N)
    steps, burn_in, blocks, scale, c0 = check_settings(
        cell, steps, burn_in, blocks, scale, replicas, initial_correlation
    )
    if draw not in DRAWS:
        raise GatefieldError(f"draw must be one of {', '.join(DRAWS)}, got {draw!r}")
    weight_seed = check_count(weight_seed, "the weight seed", 0)
    state_seed = check_count(state_seed, "the initial-state seed", 0)
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    m, K = cell.m, cell.K
    w_rng = np.random.default_rng([weight_seed, _WEIGHT_STREAM])
    s_rng = np.random.default_rng([state_seed, _STATE_STREAM])
    s = initial_states(s_rng, (m, N), scale, replicas, c0)  # (R, m, N)
    R = replicas
    n = burn_in + steps
    state_mean = np.empty((m, n + 1))
    state_sq = np.empty((m, n + 1))
    arg_sq = np.empty((K, n))
    corr = np.empty((m, n + 1))
    root_N = math.sqrt(N)

    def record(t, s):
        state_mean[:, t] = s[0].mean(axis=1)
        sq = np.mean(s * s, axis=2)  # (R, m)
        state_sq[:, t] = sq[0]
        if R == 2:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr[:, t] = np.mean(s[0] * s[1], axis=1) / np.sqrt(sq[0] * sq[1])

    record(0, s)
    envs = [dict(values) for _ in range(R)]
    eta = np.zeros((R, K, N))
    for t in range(n):
        for r in range(R):
            envs[r].update(zip(compiled.states, s[r]))
            envs[r].update(zip(compiled.nodes, eta[r]))
        for a in range(K):
            # v_a depends only on nodes before a, which are already this step's.
            v = np.stack([np.asarray(compiled.arguments(envs[r])[a], dtype=float) for r in range(R)])
            v = np.broadcast_to(v, (R, N))
            arg_sq[a, t] = np.mean(v[0] ** 2)
            if draw == "matrices":
                J = w_rng.standard_normal((N, N)) / root_N
                new = (J @ v.T).T
            else:
                new = correlated_nodes(v, w_rng, N)
            eta[:, a] = new
            for r in range(R):
                envs[r][compiled.nodes[a]] = eta[r, a]
        s = np.stack([np.asarray(compiled.update(envs[r]), dtype=float).reshape(m, N) for r in range(R)])
        if not np.all(np.isfinite(s)):
            raise GatefieldError(
                f"the untied simulation of cell '{cell.name}' diverged at step {t}; try milder parameters"
            )
        record(t + 1, s)

    moments, errors, series = {}, {}, {}
    window = slice(burn_in + 1, n + 1)
    for k, name in enumerate(compiled.states):
        for key, rows in ((f"E[{name}]", state_mean[k]), (f"E[{name}^2]", state_sq[k])):
            mu, se = batch_means(rows[window], blocks)
            moments[key], errors[key], series[key] = float(mu), float(se), rows
    for a, cp in enumerate(cell.couplings):
        key = f"C_{cp.matrix}(0)"
        mu, se = batch_means(arg_sq[a, burn_in:], blocks)
        moments[key], errors[key], series[key] = float(mu), float(se), arg_sq[a]
    correlation, correlation_errors, correlation_series = {}, {}, {}
    if R == 2:
        for k, name in enumerate(compiled.states):
            mu, se = batch_means(corr[k, window], blocks)
            correlation[name], correlation_errors[name] = float(mu), float(se)
            correlation_series[name] = corr[k]
    settings = {
        "weight_seed": weight_seed,
        "state_seed": state_seed,
        "scale": scale,
        "replicas": R,
        "initial_correlation": c0,
    }
    return UntiedResult(
        cell=cell.name,
        parameters=dict(values),
        N=N,
        moments=moments,
        moment_errors=errors,
        series=series,
        correlation=correlation,
        correlation_errors=correlation_errors,
        correlation_series=correlation_series,
        steps=steps,
        burn_in=burn_in,
        blocks=blocks,
        draw=draw,
        settings=settings,
    )
