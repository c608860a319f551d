"""The maximal Lyapunov exponent of the DMFT: the linearized two-replica process.

Two copies ("replicas") of a network with the same couplings, started a
small distance apart, separate at the rate of the maximal Lyapunov exponent.
At N -> infinity each replica pair is one unit driven by jointly Gaussian
node fields (THEORY.md section 6 applied to the doubled cell), and linearized
about the diagonal it becomes the single-unit process of :mod:`.dmft` with a
tangent perturbation riding on it::

    ds/dt (or s_{t+1}) = F(s, eta)                               (the DMFT unit)
    d ds/dt (or ds_{t+1}) = A ds + B d_eta,   dv = C ds + E d_eta    (its tangent)

with the per-unit pencil ``A = dF/ds``, ``B = dF/deta``, ``C = dv/ds``,
``E = dv/deta`` (THEORY.md section 3) evaluated along the sample path, and
``d_eta_a`` a zero-mean Gaussian process, independent across ``a`` and of
``eta``, whose covariance is fixed self-consistently by the tangent itself,
``K_a(t, t') = E[dv_a(t) dv_a(t')]``. :func:`dmft_lyapunov` solves it; the
derivation and the reductions it is checked against are in its Notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GatefieldError, SolverError, check_count
from ..theory.spec import Cell
from .codegen import compile_cell
from .dmft import (
    DMFTResult,
    _draw,
    _positive,
    _prepare,
    autocorrelation,
    solve_dmft,
)

__all__ = ["DMFTLyapunovResult", "dmft_lyapunov"]

#: Initial tangent covariance ``k_a(tau) = exp(-tau / INITIAL_CORRELATION)``,
#: in steps (discrete time) or time units (continuous time): short-correlated,
#: since the tangent field of a chaotic state is nearly white (exactly white
#: for the vanilla map); the iteration reshapes it.
INITIAL_CORRELATION = 1.0

#: Largest ``|log rho|`` one Newton step of the shift may use (a trust
#: region): the step is ``log rho / (2 M)`` and ``M`` itself changes with
#: ``mu`` on the scale ``1 / M`` (for a flow relaxing at rate ``1 + mu``,
#: ``M = 1 / (1 + mu)`` and ``d M / d mu = -M^2``), so over a step bounded by
#: ``1 / (2 M)`` the slope of ``log rho`` changes by at most half: the tilt
#: cannot overshoot past the unit's own relaxation rate, where the tilted
#: tangent would grow inside the window. The exact step for the vanilla map
#: at g = 0.5 from a zero shift (log 0.25 / 2) takes two bounded steps.
LOG_RHO_MAX = 1.0

#: Floor of the memory ``M`` (``-d log rho / d mu / 2``) in grid steps: a
#: noisy or vanishing estimate (a node argument that depends on the tangent
#: field directly, through ``E``, has no memory) must not make the Newton step
#: blow up. A floor above the true ``M`` only shortens the step (the
#: iteration still converges, geometrically with factor ``1 - M / floor``).
MEMORY_FLOOR_STEPS = 1.0

#: The averaging window is "converged" when the means of its two halves
#: differ by less than this many standard errors of their difference.
DRIFT_SIGMAS = 3.0


@dataclass(frozen=True)
class DMFTLyapunovResult:
    """The maximal Lyapunov exponent of a DMFT state.

    Attributes
    ----------
    cell : str
    parameters : dict
    time : {"discrete", "continuous"}
    exponent : float
        ``lambda``: per step (discrete) or per unit time (continuous): the
        mean of the per-iteration estimates over the averaging window.
    stderr : float
        Standard error of ``exponent``: the larger of the scatter of the
        per-iteration estimates over the square root of their number and the
        path-sampling error (``noise``).
    noise : float
        The error expected from the scatter of the sample paths alone:
        per-iteration standard error of ``log rho / (2 M)``, root mean square
        over the window, over the square root of the window's length.
    status : str
        "converged" (the two halves of the averaging window agree within
        ``DRIFT_SIGMAS``) or "drifting".
    iterations : int
    history : dict of arrays
        Per iteration: ``"shift"`` (``mu``, the tilt the iteration ran at),
        ``"rho"`` (growth factor of the tangent covariance), ``"memory"``
        (``M``) and ``"estimate"`` (``mu + log rho / (2 M)``). The growth
        curve of the method: ``log rho`` against ``mu`` crosses zero at
        ``lambda``.
    tau : (L,) array
        Lags of ``tangent_correlations`` (steps, or multiples of ``dt``).
    tangent_correlations : dict
        Coupling name -> the self-consistent ``k_a(tau)`` of the tilted
        tangent field (normalized: ``sum_a k_a(0) = 1``).
    dmft : DMFTResult
        The state linearized about.
    settings : dict
    """

    cell: str
    parameters: dict
    time: str
    exponent: float
    stderr: float
    noise: float
    status: str
    iterations: int
    history: dict = field(repr=False)
    tau: np.ndarray = field(repr=False)
    tangent_correlations: dict = field(repr=False)
    dmft: DMFTResult = field(repr=False)
    settings: dict

    def to_json(self) -> dict:
        return {
            "route": "dmft",
            "cell": self.cell,
            "parameters": self.parameters,
            "time": self.time,
            "exponent": self.exponent,
            "stderr": self.stderr,
            "noise": self.noise,
            "status": self.status,
            "iterations": self.iterations,
            "history": {k: v.tolist() for k, v in self.history.items()},
            "tau": self.tau.tolist(),
            "tangent_correlations": {k: v.tolist() for k, v in self.tangent_correlations.items()},
            "dmft_status": self.dmft.status,
            "static": self.dmft.static,
            "settings": self.settings,
        }


class _Tangent:
    """Integrates the DMFT unit and its tilted tangent (and the tangent's
    derivative in the tilt) along given node and tangent-field paths."""

    def __init__(self, compiled, values: dict, continuous: bool, dt: float, n_burn: int, n_T: int, L: int):
        self.c = compiled
        self.values = values
        self.continuous = continuous
        self.dt = dt
        self.n_burn, self.n_T, self.L = n_burn, n_T, L
        m, K = len(compiled.states), len(compiled.nodes)
        self.m, self.K = m, K
        exprs = compiled.pencil.expressions

        # Structural zeros of the pencil are skipped: entry lists (i, j, index).
        def entries(offset, rows, cols):
            return [
                (i, j, offset + i * cols + j)
                for i in range(rows)
                for j in range(cols)
                if exprs[offset + i * cols + j] != 0
            ]

        self.A = entries(0, m, m)
        self.B = entries(m * m, m, K)
        self.C = entries(m * m + m * K, K, m)
        self.E = entries(m * m + 2 * m * K, K, K)

    def _fields(self, P, ds, xi_t=None):
        """``C ds + E xi`` (K, S) from the pencil values ``P`` at one time."""
        dv = np.zeros((self.K, ds.shape[1]))
        for a, k, i in self.C:
            dv[a] += P[i] * ds[k]
        if xi_t is not None:
            for a, b, i in self.E:
                dv[a] += P[i] * xi_t[b]
        return dv

    def _apply(self, P, x, mu, xi_t=None, source=None):
        """``(A - mu) x + B xi`` (or with ``source`` subtracted instead of the
        ``B`` term), the tilted tangent flow; ``mu`` is 0 for the map."""
        out = -mu * x if mu else np.zeros_like(x)
        for k, j, i in self.A:
            out[k] += P[i] * x[j]
        if xi_t is not None:
            for k, a, i in self.B:
                out[k] += P[i] * xi_t[a]
        if source is not None:
            out -= source
        return out

    def run(self, eta: np.ndarray, xi: np.ndarray, s0: np.ndarray, mu: float) -> dict:
        """``eta``, ``xi``: (K, n, S) node and tilted tangent-field paths."""
        c, m, K = self.c, self.m, self.K
        S = s0.shape[1]
        env = dict(self.values)
        s = s0.copy()
        ds = np.zeros((m, S))  # tilted tangent
        w = np.zeros((m, S))  # its derivative in the tilt mu
        dv_rec = np.empty((K, S, self.n_T))
        cross = np.zeros(S)  # per path: sum_t sum_a dv_a (C w)_a

        def pencil(state, t):
            env.update(zip(c.states, state))
            env.update(zip(c.nodes, eta[:, t]))
            return c.pencil(env)

        decay = math.exp(-mu) if not self.continuous else 1.0
        n = self.n_burn + self.n_T
        for t in range(n):
            P0 = pencil(s, t)
            if t >= self.n_burn:
                r = t - self.n_burn
                dv = self._fields(P0, ds, xi[:, t])
                dv_rec[:, :, r] = dv
                cw = self._fields(P0, w)
                cross += np.sum(dv * cw, axis=0)
            f0 = np.array(c.update(env))
            if not self.continuous:
                ds_next = decay * self._apply(P0, ds, 0.0, xi[:, t])
                w = decay * self._apply(P0, w, 0.0) - ds_next
                ds, s = ds_next, f0
            else:
                # Heun for (s, ds, w) together, as solve_dmft integrates s:
                # the exact tangent of the scheme the DMFT paths follow.
                g0 = self._apply(P0, ds, mu, xi[:, t])
                h0 = self._apply(P0, w, mu, source=ds)
                s1, ds1, w1 = s + self.dt * f0, ds + self.dt * g0, w + self.dt * h0
                P1 = pencil(s1, t + 1)
                f1 = np.array(c.update(env))
                g1 = self._apply(P1, ds1, mu, xi[:, t + 1])
                h1 = self._apply(P1, w1, mu, source=ds1)
                s = s + 0.5 * self.dt * (f0 + f1)
                ds = ds + 0.5 * self.dt * (g0 + g1)
                w = w + 0.5 * self.dt * (h0 + h1)
            if not (np.all(np.isfinite(s)) and np.all(np.isfinite(ds)) and np.all(np.isfinite(w))):
                raise SolverError(
                    f"the tangent process of cell '{c.cell.name}' diverged at step {t}; "
                    "try a smaller dt or more iterations"
                )
        return {
            "acf": autocorrelation(dv_rec, self.L),  # (K, S, L)
            "power": np.sum(dv_rec**2, axis=0).mean(axis=1),  # (S,)
            "cross": cross / self.n_T,  # (S,)
        }


def dmft_lyapunov(
    cell: Cell,
    parameters: dict | None = None,
    *,
    dmft: DMFTResult | None = None,
    samples: int = 1000,
    T=None,
    burn_in=None,
    dt: float | None = None,
    iterations: int = 30,
    average: int = 15,
    damping: float = 1.0,
    seed: int = 0,
    dmft_options: dict | None = None,
    raise_on_failure: bool = False,
) -> DMFTLyapunovResult:
    """The maximal Lyapunov exponent predicted by the DMFT (two-replica, linearized).

    Parameters
    ----------
    cell : Cell
    parameters : dict, optional
        Overrides of the cell's defaults (must match ``dmft`` when both are given).
    dmft : DMFTResult, optional
        A solved DMFT state of ``cell`` to linearize about; default: solve one
        with :func:`~gatefield.numerics.dmft.solve_dmft` (``samples``, ``T``,
        ``burn_in``, ``dt``, ``seed`` and ``dmft_options`` passed on).
    samples : int
        Sample paths per iteration.
    T, burn_in : int or float, optional
        The recorded window and the burn-in before it (steps, or time in
        continuous time); default: those of the DMFT solution. The burn-in
        lets the tangent forget its zero start.
    dt : float, optional
        Continuous time: the grid, which must be the DMFT solution's (default).
    iterations : int
        Total iterations of the tangent self-consistency.
    average : int
        The last ``average`` iterations are averaged for the exponent (at
        least 2, fewer than ``iterations``).
    damping : float
        In (0, 1]: ``k <- (1 - damping) k + damping k_new`` and the Newton step
        of the shift is scaled by it.
    seed : int
        Seed of the tangent iteration's sampling (and of the DMFT solve when
        ``dmft`` is not given).
    dmft_options : dict, optional
        Further keyword arguments of ``solve_dmft``.
    raise_on_failure : bool
        Raise :class:`SolverError` when the estimates still drift.

    Returns
    -------
    DMFTLyapunovResult

    Notes
    -----
    *Two replicas.* Replicas 1, 2 of the network share the couplings. At
    N -> infinity each unit pair is driven by node fields ``(eta^1_a, eta^2_a)``,
    jointly Gaussian, independent across ``a``, with covariances
    ``C^{rr'}_a(t, t') = E[v^r_a(t) v^{r'}_a(t')]`` (THEORY.md section 6 for the
    doubled unit). Write the replicas about their midpoint,
    ``s^{1,2} = s_bar -/+ ds/2``, ``eta^{1,2} = eta_bar -/+ d_eta/2``. Then
    ``Cov(d_eta(t), eta_bar(t')) = (C^{22} - C^{11} + C^{21} - C^{12})(t, t') / 2 = 0``
    by the exchange symmetry of the pair (``C^{11} = C^{22}``,
    ``C^{12}(t, t') = C^{21}(t, t')``), so ``d_eta`` is independent of
    ``eta_bar`` (both Gaussian); its covariance is
    ``K_a(t, t') = E[dv_a(t) dv_a(t')]`` with ``dv = v^2 - v^1``; and
    ``eta_bar`` has covariance ``C_a - K_a / 4 = C_a + O(d^2)``. Central
    differences are linear in ``(ds, d_eta)`` up to ``O(d^3)`` and
    ``s_bar`` follows the DMFT unit up to ``O(d^2)``, so to leading order
    the pair is the DMFT unit plus its tangent (module docstring) with
    ``d_eta`` drawn independently from ``K``: a *linear* self-consistency
    ``K = L[K] + (initial perturbation)``, causal in time.

    *Growth rate.* Its solutions grow as ``K(t, t') ~ exp(lambda (t + t'))
    k(t - t')``. Tilting, ``ds~ = exp(-mu t) ds``, ``d_eta~ = exp(-mu t)
    d_eta``, turns the causal problem into a stationary eigenproblem::

        ds~_{t+1} = exp(-mu) (A ds~_t + B d_eta~_t)        (map)
        d ds~/dt  = (A - mu) ds~ + B d_eta~                 (flow)
        dv~ = C ds~ + E d_eta~,    k_new_a(tau) = E[dv~_a(t) dv~_a(t + tau)]

    with ``d_eta~_a`` stationary with covariance ``k_a``. The map
    ``k -> k_new = L_mu[k]`` is linear, maps covariances to covariances and
    discounts a contribution fed back after a delay ``d`` by ``exp(-2 mu d)``;
    ``lambda`` is the ``mu`` at which its leading eigenvalue
    ``rho(mu)`` is 1 (the Euler-Lotka condition of renewal theory), and the
    eigenvector is the stationary shape ``k(tau)``.

    *Iteration.* Draw ``eta`` from the DMFT's ``C_a`` and ``d_eta~`` from
    ``k`` (circulant embedding, as :func:`~.dmft.solve_dmft`: static part
    ``k(inf)`` as a per-path offset, tapered window), integrate unit and
    tangent from ``ds~ = 0`` through ``burn_in``, and estimate
    ``k_new`` over the window ``T`` (all time origins). With ``k``
    normalized to ``sum_a k_a(0) = 1``, ``rho = sum_a k_new_a(0)``. Along
    the same paths the derivative ``w = d ds~ / d mu`` (``w_{t+1} =
    exp(-mu) A w_t - ds~_{t+1}``; flow: ``dw/dt = (A - mu) w - ds~``) gives
    the memory ``M = -E[dv~ . C w] / E[|dv~|^2]`` (the mean delay, in steps or
    time, through which the tangent feeds back), ``d log rho / d mu = -2 M``
    at fixed ``k``, and the Newton step ``mu <- mu + log rho / (2 M)``
    (bounded by :data:`LOG_RHO_MAX` and :data:`MEMORY_FLOOR_STEPS`); then
    ``k <- k_new / rho``. Each iteration's estimate is
    ``mu + log rho / (2 M)``; the exponent is their mean over the last
    ``average`` iterations. Continuous time integrates the unit, the tangent
    and ``w`` together with Heun's method on the DMFT grid (the tangent of the
    scheme the DMFT paths follow; error O(dt^2)).

    *Checks* (tests/test_dmft_lyapunov.py). Vanilla map ``h' = tanh(g eta)``:
    ``A = 0``, ``ds_{t+1} = g tanh'(g eta_t) d_eta_t``, so
    ``K(t+1, t+1) = g^2 E[tanh'(g eta)^2] K(t, t)``,
    ``lambda = log(g^2 E[tanh'(g eta)^2]) / 2`` with ``eta ~ N(0, q)``,
    ``q = E[tanh(g eta)^2]``, and ``k(tau) = 0`` for ``tau != 0`` (white,
    as ``E[tanh' tanh']`` at a lag is below its value at zero); at ``g < 1``
    (zero state) ``lambda = log g``. Rate network at its zero fixed point,
    ``g < 1``: ``ds~`` is ``g d_eta~`` low-passed at rate ``1 + mu``, so
    ``rho(mu) = g^2 / (1 + mu)^2`` on a constant ``k`` and
    ``lambda = -1 + g``, the largest real part of ``-1 + g J``.
    Chaotic rate network (Sompolinsky, Crisanti and Sommers 1988): this is
    the linearized two-replica theory of Schuecker, Goedeke and Helias
    (2018, Phys. Rev. X 8, 041029), with
    ``E[phi'(x(t)) phi'(x(t'))]`` entering through the sampled paths.

    Errors: the sampling error of each estimate is the path scatter of
    ``sum_a`` per-path mean ``dv~^2`` (``noise``); consecutive estimates
    share only the noise of ``k``. Systematic errors: the DMFT state's own
    (sampling, lag window, ``dt``), the finite burn-in (check that the
    exponent does not move when it is lengthened), and slow convergence of
    ``k`` when the tangent field is long-correlated (the zero fixed point of a
    flow, where ``k`` tends to a constant; watch ``status``).
    """
    compiled = compile_cell(cell)
    continuous = cell.time == "continuous"
    samples = check_count(samples, "the number of samples", 2)
    iterations = check_count(iterations, "the number of iterations", 3)
    average = check_count(average, "the averaging window", 2)
    if average >= iterations:
        raise GatefieldError(f"average must be below iterations (got {average} and {iterations})")
    seed = check_count(seed, "the seed", 0)
    damping = _positive(damping, "damping")
    if damping > 1:
        raise GatefieldError(f"damping must be in (0, 1], got {damping}")
    if dmft is None:
        dmft = solve_dmft(
            cell, parameters, samples=samples, T=T, burn_in=burn_in, dt=dt, seed=seed, **(dmft_options or {})
        )
    else:
        if not isinstance(dmft, DMFTResult):
            raise GatefieldError(f"dmft must be a DMFTResult, got {type(dmft).__name__}")
        if dmft.cell != cell.name:
            raise GatefieldError(f"the DMFT result is for cell '{dmft.cell}', not '{cell.name}'")
        if parameters and cell.resolve(parameters) != dmft.parameters:
            raise GatefieldError(
                "parameters differ from those of the given DMFT result; "
                "leave them out or solve the DMFT again"
            )
        if dmft_options:
            raise GatefieldError("dmft_options apply only when the DMFT is solved here")
    values = dict(dmft.parameters)
    grid = dmft.settings["grid"]
    L = grid["lags"]
    if continuous:
        if dt is not None and not math.isclose(float(dt), dmft.settings["dt"], rel_tol=1e-12):
            raise GatefieldError(f"dt must be the DMFT grid's ({dmft.settings['dt']}), got {dt}")
        dt = dmft.settings["dt"]
        n_T = grid["T"] if T is None else int(round(_positive(T, "T") / dt))
        n_burn = (
            grid["burn_in"]
            if burn_in is None
            else int(round(_positive(burn_in, "burn_in", allow_zero=True) / dt))
        )
        step = dt
    else:
        if dt is not None:
            raise GatefieldError(
                f"cell '{cell.name}' is discrete-time; dt applies only to "
                "continuous-time cells, so leave it out"
            )
        n_T = grid["T"] if T is None else check_count(T, "T (steps)", 2)
        n_burn = grid["burn_in"] if burn_in is None else check_count(burn_in, "burn_in (steps)", 0)
        step = 1.0
    if L >= n_T:
        raise GatefieldError(f"the lag window ({L} grid steps) must be shorter than T ({n_T})")
    names = [cp.matrix for cp in cell.couplings]
    K, m = len(names), len(compiled.states)
    tau = step * np.arange(L)
    C = np.stack([dmft.correlations[n] for n in names])
    c_floor, c_sampled = _prepare(C)
    tangent = _Tangent(compiled, values, continuous, step, n_burn, n_T, L)
    length = n_burn + n_T + (1 if continuous else 0)
    rng = np.random.default_rng([seed, 0x1A9D])
    memory_floor = MEMORY_FLOOR_STEPS * step

    k = np.tile(np.exp(-tau / INITIAL_CORRELATION), (K, 1)) / K
    mu = 0.0
    hist = {key: np.empty(iterations) for key in ("shift", "rho", "memory", "estimate", "error")}
    for it in range(iterations):
        eta, _ = _draw(c_sampled, c_floor, length, samples, rng)
        k_floor, k_sampled = _prepare(k)
        xi, _ = _draw(k_sampled, k_floor, length, samples, rng)
        s0 = math.sqrt(max(float(np.max(C[:, 0])), 0.0)) * rng.standard_normal((m, samples))
        out = tangent.run(eta, xi, s0, mu)
        k_new = out["acf"].mean(axis=1)
        power = out["power"]
        rho = float(np.sum(k_new[:, 0]) / np.sum(k[:, 0]))
        if not (math.isfinite(rho) and rho > 0):
            raise SolverError(
                f"the tangent field of cell '{cell.name}' vanished or overflowed "
                f"(growth factor {rho}); the state may be degenerate"
            )
        memory = max(-float(np.mean(out["cross"])) / float(np.mean(power)), memory_floor)
        log_rho = math.log(rho)
        estimate = mu + log_rho / (2 * memory)
        error = float(np.std(power, ddof=1) / math.sqrt(samples) / np.mean(power)) / (2 * memory)
        hist["shift"][it], hist["rho"][it], hist["memory"][it] = mu, rho, memory
        hist["estimate"][it], hist["error"][it] = estimate, error
        mu = mu + damping * max(-LOG_RHO_MAX, min(LOG_RHO_MAX, log_rho)) / (2 * memory)
        k = (1 - damping) * k + damping * k_new / float(np.sum(k_new[:, 0]))

    window = hist["estimate"][-average:]
    exponent = float(np.mean(window))
    scatter = float(np.std(window, ddof=1) / math.sqrt(average))
    noise = float(np.sqrt(np.mean(hist["error"][-average:] ** 2)) / math.sqrt(average))
    stderr = max(scatter, noise)
    half = average // 2
    first, second = window[:half], window[-half:]
    drift_se = float(np.std(window, ddof=1)) * math.sqrt(2.0 / half)
    drift_se = max(drift_se, noise * math.sqrt(2.0 * average / half))
    drifting = abs(float(np.mean(first) - np.mean(second))) > DRIFT_SIGMAS * drift_se
    status = "drifting" if drifting else "converged"
    if drifting and raise_on_failure:
        raise SolverError(
            f"the DMFT Lyapunov iteration of cell '{cell.name}' still drifts over its "
            f"last {average} iterations; raise iterations"
        )
    settings = {
        "samples": samples,
        "T": n_T * step,
        "burn_in": n_burn * step,
        "dt": dt if continuous else None,
        "iterations": iterations,
        "average": average,
        "damping": damping,
        "seed": seed,
        "lags": L,
        "integrator": "heun" if continuous else "map",
    }
    return DMFTLyapunovResult(
        cell=cell.name,
        parameters=values,
        time=cell.time,
        exponent=exponent,
        stderr=stderr,
        noise=noise,
        status=status,
        iterations=iterations,
        history={key: hist[key] for key in ("shift", "rho", "memory", "estimate")},
        tau=tau,
        tangent_correlations={n: k[a].copy() for a, n in enumerate(names)},
        dmft=dmft,
        settings=settings,
    )
