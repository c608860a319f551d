"""A population of units driven by fresh node fields every step.

With weights redrawn at every step (the untied network), a unit's node inputs
at step ``t`` are independent of its past; given the node arguments ``v_a`` of
the population (and of a second replica driven by the same weights), fresh
Gaussian rows make the nodes ``(J_a v^1, J_a v^2)_i`` iid over units with
covariance ``[[v1.v1, v1.v2], [v1.v2, v2.v2]] / P``. The annealed mean-field
theory (:class:`gatefield.numerics.solvers.PopulationDynamics`) and the
untied simulation (:func:`gatefield.simulate.untied`) both advance such a
population; they differ only in how the nodes are drawn (from that law, or
through literal fresh matrices). :func:`advance` is that one loop and
:func:`window_moments` the statistics of its measuring window.
"""

from __future__ import annotations

import math

import numpy as np

from ._sampling import batch_means
from .errors import SolverError
from .numerics.solution import Estimate

__all__ = ["advance", "window_moments", "STATIONARY_SIGMAS"]

#: Stationarity check: the first and second halves of the measuring window
#: must agree within this many combined standard errors for every moment
#: (a 4-sigma window fails by chance with probability 6e-5 per moment).
STATIONARY_SIGMAS = 4.0


def advance(compiled, values: dict, s: np.ndarray, steps: int, draw) -> dict:
    """Advance ``R`` replicas ``s`` (R, m, P) for ``steps`` steps.

    ``draw(v)`` returns the node values ``(R, P)`` of one coupling for its
    arguments ``v`` ``(R, P)``. Returns per-step population means of replica
    1: ``state_mean``, ``state_sq`` (m, steps + 1), ``definition_mean``,
    ``definition_sq`` (D, steps + 1; slot t holds the gates acting on s_t),
    ``argument_sq`` (K, steps; the node variance used from t to t + 1) and,
    for two replicas, ``overlap`` (m, steps + 1): ``c_t = mean(s1 s2) /
    sqrt(mean(s1^2) mean(s2^2))``.
    """
    R, m, P = s.shape
    K, D = len(compiled.nodes), len(compiled.definition_names)
    out = {
        "state_mean": np.empty((m, steps + 1)),
        "state_sq": np.empty((m, steps + 1)),
        "definition_mean": np.full((D, steps + 1), np.nan),
        "definition_sq": np.full((D, steps + 1), np.nan),
        "argument_sq": np.empty((K, steps)),
        "overlap": np.full((m, steps + 1), np.nan),
    }

    def record(t, s):
        out["state_mean"][:, t] = s[0].mean(axis=1)
        sq = np.mean(s * s, axis=2)
        out["state_sq"][:, t] = sq[0]
        if R == 2:
            with np.errstate(invalid="ignore", divide="ignore"):
                out["overlap"][:, t] = np.mean(s[0] * s[1], axis=1) / np.sqrt(sq[0] * sq[1])

    record(0, s)
    envs = [dict(values) for _ in range(R)]
    eta = np.zeros((R, K, P))
    for t in range(steps):
        for r in range(R):
            envs[r].update(zip(compiled.states, s[r]))
            envs[r].update(zip(compiled.nodes, eta[r]))
        for a in range(K):
            # v_a reads only nodes before a, already drawn for this step.
            v = np.stack([np.broadcast_to(compiled.arguments(envs[r])[a], (P,)) for r in range(R)])
            out["argument_sq"][a, t] = np.mean(v[0] ** 2)
            eta[:, a] = draw(v)
            for r in range(R):
                envs[r][compiled.nodes[a]] = eta[r, a]
        if compiled.definitions is not None:
            d = np.array(compiled.definitions(envs[0]))
            out["definition_mean"][:, t] = d.mean(axis=1)
            out["definition_sq"][:, t] = np.mean(d * d, axis=1)
        s = np.stack([np.asarray(compiled.update(envs[r]), dtype=float).reshape(m, P) for r in range(R)])
        if not np.all(np.isfinite(s)):
            raise SolverError(
                f"the population of cell '{compiled.cell.name}' diverged at step {t}; try milder parameters"
            )
        record(t + 1, s)
    return out


def window_moments(compiled, series: dict, burn_in: int, blocks: int) -> tuple:
    """Time averages over the measuring window, with batch-means errors.

    Returns ``(moments, overlap, worst)``: ``moments`` by name (``E[s]``,
    ``E[s^2]`` per state and definition, ``C_J(0)`` per coupling) and
    ``overlap`` by state (two replicas) as ``Estimate``, and the largest
    disagreement between the window's halves in combined standard errors.
    """
    steps = series["argument_sq"].shape[1]
    state_window = slice(burn_in + 1, steps + 1)
    step_window = slice(burn_in, steps)
    moments, worst = {}, 0.0

    def put(key, rows, window):
        nonlocal worst
        x = rows[window]
        mu, se = batch_means(x, blocks)
        moments[key] = Estimate(mu, se)
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

    for k, name in enumerate(compiled.states):
        put(f"E[{name}]", series["state_mean"][k], state_window)
        put(f"E[{name}^2]", series["state_sq"][k], state_window)
    for j, name in enumerate(compiled.definition_names):
        put(f"E[{name}]", series["definition_mean"][j], step_window)
        put(f"E[{name}^2]", series["definition_sq"][j], step_window)
    for a, name in enumerate(compiled.couplings):
        put(f"C_{name}(0)", series["argument_sq"][a], step_window)
    overlap = {}
    if np.all(np.isfinite(series["overlap"][:, state_window])):
        for k, name in enumerate(compiled.states):
            overlap[name] = Estimate(*batch_means(series["overlap"][k, state_window], blocks))
    return moments, overlap, float(worst)
