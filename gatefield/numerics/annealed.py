"""Annealed mean-field theory: weights redrawn at every step (discrete time).

With couplings ``J_a`` drawn afresh at every step (the "untied" network of
the signal-propagation literature: Poole et al. 2016, Schoenholz et al. 2017,
Chen, Pennington and Schoenholz 2018 for gated cells), a unit's node inputs
at step t are, for N -> infinity, zero-mean Gaussians independent of the
unit's own past, independent across couplings and across steps, with the
variances of the current population,

    eta_a(t) ~ N(0, q_a(t)),   q_a(t) = E[ v_a(s_t, eta_1(t), ..., eta_{a-1}(t))^2 ]

(THEORY.md section 2 read at one time; ``v_a`` may depend on the same
step's earlier nodes, which enter ``q_a`` through the average). Each unit is
then a Markov chain ``s_{t+1} = F(s_t, eta(t))`` whose only coupling to the
population is through ``q(t)``. These are the equal-time recursions of the
signal-propagation literature; they are exact for untied weights only. With
the usual fixed ("tied") weights the node inputs are correlated in time and
the exact theory is the DMFT (:mod:`gatefield.numerics.dmft`): where a state
integrates its past (an LSTM cell with a large forget bias) the two differ
(:func:`solve_annealed` against :func:`gatefield.numerics.dmft.solve_dmft`).

Two replicas driven by the same weights from different initial states have,
per unit, jointly Gaussian node inputs with covariance
``[[q_a^11, q_a^12], [q_a^12, q_a^22]]``, ``q_a^12 = E[v_a^(1) v_a^(2)]``:
the two-input correlation map ``c_t = E[s1 s2] / sqrt(E[s1^2] E[s2^2])``.

Solver: population dynamics. A population of P samples of the unit (or of
replica pairs) is advanced step by step, ``q`` re-estimated from the
population at every step; this is the theory's Monte Carlo solution, whose
finite-P error is O(1/sqrt(P)) in every moment. (In distribution it is the
untied network at N = P with its node values drawn directly, which is why
:func:`gatefield.validation.untied.simulate_untied` with ``draw="matrices"``,
literal fresh matrices, is the independent check.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GatefieldError, SolverError, check_count
from ..theory.spec import Cell
from .codegen import compile_cell
from .dmft import _definitions

__all__ = ["AnnealedResult", "solve_annealed", "batch_means", "initial_states", "check_settings"]

#: Default number of blocks of the measuring window for the standard errors.
DEFAULT_BLOCKS = 20

#: Stationarity check: the first and second halves of the measuring window
#: must agree within this many combined standard errors for every moment
#: (a 4-sigma window fails by chance with probability 6e-5 per moment).
STATIONARY_SIGMAS = 4.0

#: Entropy tags of the node and initial-state streams.
_NODE_STREAM = 0xA77E
_STATE_STREAM = 0x5EED


def batch_means(series, blocks: int) -> tuple:
    """Mean and batch-means standard error of a time series along its last axis.

    The series is cut into ``blocks`` equal contiguous blocks (a remainder at
    the start is dropped); the error is ``std(block means) / sqrt(blocks)``.
    Honest when a block is much longer than the correlation time of the
    series; it underestimates the error otherwise.
    """
    x = np.asarray(series, dtype=float)
    T = x.shape[-1]
    per = T // blocks
    if per < 1:
        raise GatefieldError(
            f"a window of {T} steps cannot be cut into {blocks} blocks; measure longer or use fewer blocks"
        )
    x = x[..., T - per * blocks :]
    b = x.reshape(*x.shape[:-1], blocks, per).mean(axis=-1)
    return x.mean(axis=-1), b.std(axis=-1, ddof=1) / math.sqrt(blocks)


def initial_states(
    rng: np.random.Generator, shape: tuple, scale: float, replicas: int, correlation: float
) -> np.ndarray:
    """Initial states, shape ``(replicas, *shape)``, iid N(0, scale^2) entries.

    The second replica is ``c0 s1 + sqrt(1 - c0^2) s'`` with ``s'``
    independent, so the two start with correlation ``c0`` per component.
    """
    s1 = scale * rng.standard_normal(shape)
    if replicas == 1:
        return s1[None]
    other = scale * rng.standard_normal(shape)
    return np.stack([s1, correlation * s1 + math.sqrt(1.0 - correlation**2) * other])


def check_settings(cell: Cell, steps, burn_in, blocks, scale, replicas, initial_correlation) -> tuple:
    """Validate the settings shared by the annealed theory and the untied simulation.

    Returns ``(steps, burn_in, blocks, scale, c0)``.
    """
    if cell.time != "discrete":
        raise GatefieldError(
            f"cell '{cell.name}' is continuous-time; weights redrawn at every step need a discrete-time cell"
        )
    steps = check_count(steps, "the number of steps", 1)
    burn_in = check_count(burn_in, "the number of burn-in steps", 0)
    blocks = check_count(blocks, "the number of blocks", 2)
    if steps < blocks:
        raise GatefieldError(
            f"{steps} measured steps cannot be cut into {blocks} blocks; measure longer or use fewer blocks"
        )
    scale = float(scale)
    if not math.isfinite(scale) or scale < 0:
        raise GatefieldError(f"the initial-state scale must be finite and non-negative, got {scale}")
    if replicas not in (1, 2) or isinstance(replicas, bool):
        raise GatefieldError(f"replicas must be 1 or 2, got {replicas!r}")
    c0 = float(initial_correlation)
    if not -1.0 <= c0 <= 1.0:
        raise GatefieldError(f"the initial correlation must lie in [-1, 1], got {c0}")
    return steps, burn_in, blocks, scale, c0


def correlated_nodes(v: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Node values of ``replicas`` copies, ``(R, size)``, for arguments ``v`` ``(R, P)``.

    Jointly Gaussian per unit, iid over units, with covariance
    ``G = v v^T / P`` (the population second moments of the arguments), by
    the symmetric square root of ``G`` (valid also when the replicas
    coincide and ``G`` is singular).
    """
    R, P = v.shape
    # einsum rather than matmul: these products are tiny in R, and a
    # multithreaded BLAS call on a busy machine costs more than the work.
    G = np.einsum("rp,sp->rs", v, v) / P
    w, U = np.linalg.eigh(G)
    root = U * np.sqrt(np.maximum(w, 0.0))
    return np.einsum("rs,sp->rp", root, rng.standard_normal((R, size)))


@dataclass(frozen=True)
class AnnealedResult:
    """The annealed (untied-weights) mean-field state of a discrete-time cell.

    Attributes
    ----------
    cell : str
    parameters : dict
    moments : dict
        Time averages over the measuring window of population moments of
        replica 1: ``"E[s]"``, ``"E[s^2]"`` for every state and intermediate
        definition (gates, candidates), and ``"C_J(0)"`` = ``q_J`` = ``E[v_J^2]``
        for every coupling ``J`` (keys as in
        :class:`gatefield.numerics.dmft.DMFTResult`).
    moment_errors : dict
        Batch-means standard errors of ``moments``.
    series : dict
        Name -> per-step population moment over the whole run (states and
        definitions at t = 0 .. burn_in + steps, couplings from step 0).
    correlation : dict
        Two replicas: state name -> stationary ``c*`` (window average of
        ``c_t``); empty for one replica.
    correlation_errors : dict
    correlation_series : dict
        State name -> ``c_t`` for t = 0 .. burn_in + steps.
    status : str
        "stationary" when the halves of the measuring window agree within
        :data:`STATIONARY_SIGMAS` combined errors for every moment, else
        "drifting".
    residual : float
        The largest half-window disagreement, in combined standard errors.
    samples, steps, burn_in, blocks : int
    settings : dict
    """

    cell: str
    parameters: dict
    moments: dict
    moment_errors: dict
    series: dict = field(repr=False)
    correlation: dict
    correlation_errors: dict
    correlation_series: dict = field(repr=False)
    status: str
    residual: float
    samples: int
    steps: int
    burn_in: int
    blocks: int
    settings: dict

    def to_json(self) -> dict:
        return {
            "route": "annealed",
            "cell": self.cell,
            "parameters": self.parameters,
            "status": self.status,
            "residual": self.residual,
            "moments": self.moments,
            "moment_errors": self.moment_errors,
            "correlation": self.correlation,
            "correlation_errors": self.correlation_errors,
            "correlation_series": {k: v.tolist() for k, v in self.correlation_series.items()},
            "samples": self.samples,
            "steps": self.steps,
            "burn_in": self.burn_in,
            "blocks": self.blocks,
            "settings": self.settings,
        }


def solve_annealed(
    cell: Cell,
    parameters: dict | None = None,
    *,
    samples: int = 20000,
    steps: int = 400,
    burn_in: int = 200,
    seed: int = 0,
    scale: float = 1.0,
    replicas: int = 1,
    initial_correlation: float = 0.0,
    blocks: int = DEFAULT_BLOCKS,
    raise_on_failure: bool = False,
) -> AnnealedResult:
    """The annealed mean-field state of a discrete-time cell, by population dynamics.

    Parameters
    ----------
    cell : Cell
        A discrete-time cell.
    parameters : dict, optional
        Overrides of the cell's defaults.
    samples : int
        Population size P (units, or replica pairs).
    steps, burn_in : int
        Measured steps and the steps before them.
    seed : int
        Seed of the node draws and the initial states.
    scale : float
        Initial states iid N(0, scale^2) per component (as the untied
        simulation starts, so transients can be compared too).
    replicas : {1, 2}
        With 2, pairs of units driven by correlated node inputs (the
        two-input correlation map).
    initial_correlation : float
        Two replicas: their initial correlation ``c0``.
    blocks : int
        Blocks of the measuring window for the batch-means errors.
    raise_on_failure : bool
        Raise :class:`SolverError` when the window is not stationary.

    Returns
    -------
    AnnealedResult

    Notes
    -----
    The equal-time (annealed) recursion, per step and nodes in order::

        q_a(t)    = E[ v_a(s_t, eta_<a(t))^2 ]           (population average)
        eta_a(t)  ~ N(0, q_a(t)),  fresh, independent of s_t and of eta_b, b != a
        s_{t+1}   = F(s_t, eta(t))

    and for two replicas ``(eta_a^1, eta_a^2)`` jointly Gaussian with
    covariance ``E[v_a^r v_a^r']``. The population moments converge to the
    stationary law of the self-consistent Markov chain; time averages over
    the window estimate it. Errors are batch means over the window; the
    finite-population bias is O(1/P).
    """
    steps, burn_in, blocks, scale, c0 = check_settings(
        cell, steps, burn_in, blocks, scale, replicas, initial_correlation
    )
    P = check_count(samples, "the number of samples", 2)
    seed = check_count(seed, "the seed", 0)
    compiled = compile_cell(cell)
    values = cell.resolve(parameters)
    definitions, definition_names = _definitions(cell)
    m, K, R = cell.m, cell.K, replicas
    node_rng = np.random.default_rng([seed, _NODE_STREAM])
    s = initial_states(np.random.default_rng([seed, _STATE_STREAM]), (m, P), scale, R, c0)
    n = burn_in + steps
    D = len(definition_names)
    first = np.full((m + D, n + 1), np.nan)
    second = np.full((m + D, n + 1), np.nan)
    q = np.empty((K, n))
    corr = np.empty((m, n + 1))
    envs = [dict(values) for _ in range(R)]
    eta = np.zeros((R, K, P))

    def record_states(t, s):
        first[:m, t] = s[0].mean(axis=1)
        sq = np.mean(s * s, axis=2)
        second[:m, t] = sq[0]
        if R == 2:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr[:, t] = np.mean(s[0] * s[1], axis=1) / np.sqrt(sq[0] * sq[1])

    record_states(0, s)
    for t in range(n):
        for r in range(R):
            envs[r].update(zip(compiled.states, s[r]))
            envs[r].update(zip(compiled.nodes, eta[r]))
        for a in range(K):
            # v_a reads only nodes before a, already drawn for this step.
            v = np.stack([np.broadcast_to(compiled.arguments(envs[r])[a], (P,)) for r in range(R)])
            q[a, t] = np.mean(v[0] ** 2)
            eta[:, a] = correlated_nodes(v, node_rng, P)
            for r in range(R):
                envs[r][compiled.nodes[a]] = eta[r, a]
        if definitions is not None:
            d = np.array(definitions(envs[0]))
            # Gates and candidates of step t (acting on s_t), at slot t.
            first[m:, t] = d.mean(axis=1)
            second[m:, t] = np.mean(d * d, axis=1)
        s = np.stack([np.asarray(compiled.update(envs[r]), dtype=float).reshape(m, P) for r in range(R)])
        if not np.all(np.isfinite(s)):
            raise SolverError(
                f"the annealed recursion of cell '{cell.name}' diverged at step {t}; try milder parameters"
            )
        record_states(t + 1, s)

    moments, errors, series = {}, {}, {}
    worst = 0.0

    def put(key, rows, window):
        nonlocal worst
        x = rows[window]
        mu, se = batch_means(x, blocks)
        moments[key], errors[key], series[key] = float(mu), float(se), rows
        half = len(x) // 2
        half_blocks = max(2, blocks // 2)
        if half >= half_blocks:
            m1, e1 = batch_means(x[:half], half_blocks)
            m2, e2 = batch_means(x[half:], half_blocks)
            spread = math.hypot(float(e1), float(e2))
            if spread > 0:
                worst = max(worst, abs(float(m1) - float(m2)) / spread)
            elif m1 != m2:
                worst = math.inf

    state_window = slice(burn_in + 1, n + 1)
    step_window = slice(burn_in, n)
    for k, name in enumerate(compiled.states):
        put(f"E[{name}]", first[k], state_window)
        put(f"E[{name}^2]", second[k], state_window)
    for j, name in enumerate(definition_names):
        put(f"E[{name}]", first[m + j], step_window)
        put(f"E[{name}^2]", second[m + j], step_window)
    for a, cp in enumerate(cell.couplings):
        put(f"C_{cp.matrix}(0)", q[a], step_window)
    correlation, correlation_errors, correlation_series = {}, {}, {}
    if R == 2:
        for k, name in enumerate(compiled.states):
            mu, se = batch_means(corr[k, state_window], blocks)
            correlation[name], correlation_errors[name] = float(mu), float(se)
            correlation_series[name] = corr[k]
    status = "stationary" if worst <= STATIONARY_SIGMAS else "drifting"
    if status != "stationary" and raise_on_failure:
        raise SolverError(
            f"the annealed state of cell '{cell.name}' is still drifting after "
            f"{burn_in} burn-in steps ({worst:.3g} standard errors between the halves "
            "of the window); raise burn_in or steps"
        )
    settings = {"seed": seed, "scale": scale, "replicas": R, "initial_correlation": c0}
    return AnnealedResult(
        cell=cell.name,
        parameters=dict(values),
        moments=moments,
        moment_errors=errors,
        series=series,
        correlation=correlation,
        correlation_errors=correlation_errors,
        correlation_series=correlation_series,
        status=status,
        residual=float(worst),
        samples=P,
        steps=steps,
        burn_in=burn_in,
        blocks=blocks,
        settings=settings,
    )
