"""The Gaussian-closure DMFT in Fourier space.

For a :class:`~gatefield.numerics.problems.GaussianClosureDMFT` the Gaussian
variable ``u`` (the state in form A, the field in form B) with mean ``m`` and
stationary covariance ``Delta(tau)`` obeys

    S_Delta(omega) = G^2 K(omega) S_w(omega),
    K(omega) = 1 / (k^2 + omega^2)                  (continuous time)
    K(omega) = 1 / (1 - 2 a cos(omega) + a^2)       (discrete time)

with ``S_w`` the spectrum of ``C_w(tau) = E[w(u(t)) w(u(t + tau))]``. For the
rate network ``dx/dt = -x + g J tanh(x)`` this is the Sompolinsky-Crisanti-
Sommers (1988) equation ``(1 - d^2/dtau^2) Delta = g^2 C_phi(Delta(tau),
Delta(0))``. :class:`FourierIteration` iterates the map on a lag grid by FFT
(``docs/theory/6-dmft.md#gaussian-closure``) and gives the maximal Lyapunov
exponent in its Schroedinger form (``docs/theory/7-lyapunov.md#schroedinger``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.linalg
import sympy
from scipy import optimize

from ... import _checks
from ...errors import GatefieldError
from ...theory.closure import Closure, _number
from ..codegen import GeneratedFunction, generate
from ..problems import GaussianClosureDMFT
from ..quadrature import DEFAULT, affine_switches, node_rule, standard_rule
from ..solution import Estimate, Solution, Status
from .mixing import Anderson
from .paths import decay_time

__all__ = ["FourierIteration", "FourierDMFTSolution"]

#: Chebyshev-Lobatto points in ``rho = Delta(tau) / Delta(0)`` on which the
#: bivariate expectation ``E[w(u) w(u')]`` is tabulated at each iteration.
#: ``C_w(rho)`` is smooth on [-1, 1] (a power series with non-negative
#: coefficients, Mehler); for tanh the interpolation error against direct
#: quadrature was 1e-13 at Delta(0) = 5.45 and 2.5e-9 at Delta(0) = 20 with 129
#: points (65 points: 8e-9 and 2.4e-6).
CHEBYSHEV_POINTS = 129
#: Defaults for continuous-time cells (cell time units): the lag grid step and
#: length. The step enters only through the spectral second derivative; the
#: length must hold the decay of the fluctuating part (a few time units at
#: g = 2, about 15 at g = 1.2), so 200 leaves the tail at round-off.
CONTINUOUS_DEFAULTS = {"dt": 0.1, "tau_max": 200.0}
#: Discrete-time lag window in steps.
DISCRETE_DEFAULTS = {"tau_max": 256}
#: Amplitude of the initial ``Delta`` for start="large" / "small" and the
#: decay time of its initial exponential (time units or steps). Any decay
#: time of a few units converges; the small start (1e-6) reaches the static
#: branch when it is stable and grows into the chaotic branch otherwise.
STARTS = {"large": 1.0, "small": 1e-6}
INITIAL_DECAY = 3.0
#: A solution is static when its fluctuating part ``Delta(0) - Delta(inf)``
#: is below this fraction of ``Delta(0)``, as in the sampling solver.
STATIC_FRACTION = 0.05
#: Anderson mixing: depth and Tikhonov ridge (deterministic residuals, so a
#: small ridge suffices; it guards against near-collinear differences once
#: converged).
ANDERSON_DEPTH = 10
ANDERSON_RIDGE = 1e-10


@dataclass(frozen=True)
class _Unit:
    """The closure with its generated ``w`` and ``w'``."""

    closure: Closure
    w: GeneratedFunction
    dw: GeneratedFunction

    @classmethod
    def of(cls, closure: Closure, name: str):
        u = closure.variable
        return cls(
            closure,
            generate(f"w_{name}", [closure.expression], [u]),
            generate(f"dw_{name}", [closure.expression.diff(u)], [u]),
        )

    def kernel(self, omega: np.ndarray) -> np.ndarray:
        k = self.closure.leak
        if self.closure.time == "continuous":
            return 1.0 / (k**2 + omega**2)
        return 1.0 / (1.0 - 2.0 * k * np.cos(omega) + k**2)

    def __call__(self, u) -> np.ndarray:
        return self.w({self.closure.variable.name: u})[0]

    def derivative(self, u) -> np.ndarray:
        return self.dw({self.closure.variable.name: u})[0]


def _lobatto(n: int) -> np.ndarray:
    return np.cos(np.pi * np.arange(n) / (n - 1))


def _rule(var: float, mean: float, switches, order: int):
    """Graded Gauss-Legendre rule in standard units, shifted by the mean."""
    sd = math.sqrt(max(var, 0.0))
    quadrature = DEFAULT.with_order(order)
    centers = affine_switches(switches, sd, mean, quadrature.steep) if sd > 0 else []
    return standard_rule(tuple(centers), quadrature)


def _tabulate(f1, f2, var: float, mean: float, order: int, switches=()) -> tuple:
    """Chebyshev coefficients in ``rho`` of ``E[f1(u) f2(u')]``, ``u, u'`` Gaussian
    with mean ``mean``, variance ``var`` and correlation coefficient ``rho``.

    Returns the coefficients and the largest of the last eight (the
    interpolation error estimate).
    """
    rule = _rule(var, mean, switches, order)
    z, wt = rule.points, rule.weights
    sd = math.sqrt(max(var, 0.0))
    rho = _lobatto(CHEBYSHEV_POINTS)
    a = f1(mean + sd * z)  # (n,)
    r = rho[:, None, None]
    u2 = mean + sd * (r * z[None, :, None] + np.sqrt(1.0 - r * r) * z[None, None, :])
    b = f2(u2)  # (P, n, n)
    values = np.einsum("pij,i,j,i->p", b, wt, wt, a)
    # Interpolation at the Lobatto points: a type-I DCT.
    coef = scipy.fft.dct(values, type=1) / (CHEBYSHEV_POINTS - 1)
    coef[[0, -1]] *= 0.5
    return coef, float(np.max(np.abs(coef[-8:])))


def _correlate(closure_f1, closure_f2, Delta: np.ndarray, mean: float, order: int, switches=()) -> tuple:
    """``E[f1(u(t)) f2(u(t + tau))]`` on the lag grid of ``Delta``."""
    D0 = float(Delta[0])
    coef, err = _tabulate(closure_f1, closure_f2, D0, mean, order, switches)
    rho = np.clip(Delta / D0, -1.0, 1.0) if D0 > 0 else np.ones_like(Delta)
    return np.polynomial.chebyshev.chebval(rho, coef), err


def _filter(c: np.ndarray, unit: _Unit, step: float) -> np.ndarray:
    """``F^-1[K(omega) F[c]]`` for an even ``c`` on lags ``0..L-1``, by FFT of its even extension."""
    L = len(c)
    n = 2 * (L - 1)
    ext = np.concatenate([c, c[-2:0:-1]])
    omega = 2.0 * np.pi * np.fft.rfftfreq(n, step)
    return scipy.fft.irfft(scipy.fft.rfft(ext) * unit.kernel(omega), n=n)[:L]


def _lyapunov(closure: Closure, q: np.ndarray, step: float, static: bool) -> tuple:
    """Maximal Lyapunov exponent from the linearized two-replica DMFT.

    Returns ``(lambda, E0)``; ``E0`` is the ground-state energy of the
    Schrodinger operator (continuous time) or nan (discrete time).
    """
    G2, k = closure.gain**2, closure.leak
    if closure.time == "continuous":
        if static:
            E0 = k * k - G2 * float(q[0])
        else:
            # -d^2/dtau^2 + k^2 - G^2 q(|tau|) on [-tau_max, tau_max], Dirichlet
            # ends, fourth-order central differences (banded, lowest eigenvalue).
            V = k * k - G2 * np.concatenate([q[:0:-1], q])
            h2 = step * step
            n = len(V)
            bands = np.zeros((3, n))
            bands[0] = 30.0 / (12 * h2) + V
            bands[1, :-1] = -16.0 / (12 * h2)
            bands[2, :-2] = 1.0 / (12 * h2)
            E0 = float(
                scipy.linalg.eig_banded(bands, lower=True, eigvals_only=True, select="i", select_range=(0, 0))[0]
            )
        return -k + math.sqrt(max(k * k - E0, 0.0)), E0
    a = k
    if a == 0 or static:
        mu = abs(a) + math.sqrt(G2 * float(q[0]))
        return (math.log(mu) if mu > 0 else -math.inf), float("nan")
    qq = np.concatenate([q[:0:-1], q])
    n = len(qq)

    def lowest(mu):
        bands = np.zeros((2, n))
        bands[0] = mu * mu + a * a - G2 * qq
        bands[1, :-1] = -a * mu
        return float(scipy.linalg.eig_banded(bands, lower=True, eigvals_only=True, select="i", select_range=(0, 0))[0])

    # The largest mu at which (mu^2 + a^2) - a mu (S + S^T) - G^2 q has a zero
    # mode; above hi every eigenvalue is positive.
    hi = abs(a) + math.sqrt(G2 * float(np.max(qq))) + 1e-12
    grid = np.linspace(hi, 0.0, 200)[:-1]
    vals = [lowest(mu) for mu in grid]
    for j in range(1, len(grid)):
        if vals[j] <= 0 < vals[j - 1] or vals[j] < 0 <= vals[j - 1]:
            mu = optimize.brentq(lowest, grid[j], grid[j - 1], xtol=1e-14)
            return math.log(mu), float("nan")
    return -math.inf, float("nan")


@dataclass(frozen=True, kw_only=True)
class FourierDMFTSolution(Solution):
    """A stationary Gaussian-closure DMFT solution, with the names of
    :class:`~gatefield.numerics.solvers.sampling.DMFTSolution` where they exist
    (its estimates are deterministic: ``stderr`` 0).

    Attributes
    ----------
    problem : GaussianClosureDMFT
    parameters, time, tau
        As in ``DMFTSolution``; ``tau`` in time units (continuous) or steps.
    correlations : dict
        Coupling name -> ``Estimate`` of the node covariance ``C_a(tau)``
        (couplings whose argument cannot be closed are left out).
    state_correlations : dict
        State name -> ``E[s(t) s(t + tau)]`` (not centred).
    moments : dict
        ``E[s]``, ``E[s^2]``, ``C_J(0)`` and ``E[d]``, ``E[d^2]`` for the
        definitions that depend on the Gaussian variable only, as ``Estimate``.
    static : bool
    decay_time, state_decay_time : dict
        ``1/e`` times of the node and state autocovariances.
    lyapunov : float
        Maximal Lyapunov exponent (per time unit, or per step).
    ground_state_energy : float
        ``E0`` of ``-d^2/dtau^2 + k^2 - G^2 q(tau)`` (continuous time).
    quadrature_error : float
        Size of the last Chebyshev coefficients of ``C_w(rho)``.
    closure : Closure
    start : str

    ``residual`` is the last ``max_tau |Delta_new - Delta| / Delta(0)``.
    """

    problem: GaussianClosureDMFT = field(repr=False, metadata={"json": False})
    parameters: dict
    time: str
    tau: np.ndarray = field(repr=False)
    correlations: dict = field(repr=False)
    state_correlations: dict = field(repr=False)
    moments: dict
    static: bool
    decay_time: dict
    state_decay_time: dict
    lyapunov: float
    ground_state_energy: float
    quadrature_error: float
    closure: Closure = field(repr=False, metadata={"json": False})
    start: str

    def to_json(self) -> dict:
        from ..._json import encode

        return {
            "route": "dmft",
            "method": "fourier",
            "cell": self.problem.cell.name,
            "parameters": self.parameters,
            "time": self.time,
            "form": self.closure.form,
            "start": self.start,
            "status": self.status.value,
            "iterations": self.iterations,
            "residual": self.residual,
            "quadrature_error": self.quadrature_error,
            "static": self.static,
            "moments": encode(self.moments),
            "decay_time": self.decay_time,
            "state_decay_time": self.state_decay_time,
            "lyapunov": self.lyapunov,
            "ground_state_energy": self.ground_state_energy,
            "tau": encode(self.tau),
            "correlations": {k: encode(v.mean) for k, v in self.correlations.items()},
            "settings": self.settings,
        }


@dataclass(frozen=True)
class FourierIteration:
    """Solve a :class:`~gatefield.numerics.problems.GaussianClosureDMFT` by
    iteration in Fourier space.

    Attributes
    ----------
    tau_max : float or int, optional
        Longest lag (time units, or steps in discrete time); defaults
        :data:`CONTINUOUS_DEFAULTS`, :data:`DISCRETE_DEFAULTS`.
    dt : float, optional
        Continuous time only: the lag grid step.
    iterations : int
        Most iterations.
    damping : float
        In (0, 1]: the step along the residual inside Anderson mixing.
    tol : float
        Converged when ``max_tau |Delta_new - Delta| <= tol * Delta(0)``.
    atol : float
        Converged to the zero solution when ``Delta_new(0) < atol``.
    order : int
        Gauss-Legendre points per panel of the quadrature of ``C_w(rho)``.
    start : {"large", "small"}
        Initial ``Delta(tau) = A exp(-tau / INITIAL_DECAY)``.

    Notes
    -----
    One iteration tabulates ``C_w(rho)`` at Chebyshev points by tensor
    Gauss-Legendre quadrature, evaluates it at ``rho = Delta_n(tau) /
    Delta_n(0)`` and sets ``T(Delta_n) = G^2 F^-1[K F[C_w]]`` (FFT of the
    even extension); the next iterate is Anderson-mixed. For a discrete
    memoryless map (``a = 0``) every lag solves its own equation and the
    chaotic branch is white in time.
    """

    tau_max: float | None = None
    dt: float | None = None
    iterations: int = 500
    damping: float = 1.0
    tol: float = 1e-12
    atol: float = 1e-12
    order: int = 8
    start: str = "large"

    problems = (GaussianClosureDMFT,)

    def __post_init__(self):
        _checks.count(self.iterations, "iterations", 1)
        _checks.fraction(self.damping, "damping")
        _checks.positive(self.tol, "tol")
        _checks.positive(self.atol, "atol")
        _checks.count(self.order, "order", 1, 64)
        _checks.choice(self.start, "start", tuple(STARTS))

    def run(self, problem: GaussianClosureDMFT) -> FourierDMFTSolution:
        cell, closure, values = problem.cell, problem.closure, problem.values
        unit = _Unit.of(closure, cell.name)
        order, atol = self.order, self.atol
        continuous = cell.time == "continuous"
        if continuous:
            step = _checks.positive(CONTINUOUS_DEFAULTS["dt"] if self.dt is None else self.dt, "dt")
            span = _checks.positive(CONTINUOUS_DEFAULTS["tau_max"] if self.tau_max is None else self.tau_max, "tau_max")
            L = int(round(span / step)) + 1
        else:
            if self.dt is not None:
                raise GatefieldError(
                    f"cell '{cell.name}' is discrete-time; dt applies only to continuous-time cells, so leave it out"
                )
            step = 1.0
            span = DISCRETE_DEFAULTS["tau_max"] if self.tau_max is None else self.tau_max
            L = int(_checks.positive(span, "tau_max")) + 1
        if L < 4:
            raise GatefieldError(f"the lag grid has {L} points; lengthen tau_max or shorten dt")
        tau = step * np.arange(L)
        G2, m = closure.gain**2, closure.mean

        def T(D):
            Cw, err = _correlate(unit, unit, D, m, order, closure.switches)
            return G2 * _filter(Cw, unit, step), Cw, err

        def valid(x):  # a covariance: |Delta(tau)| <= Delta(0)
            return bool(x[0] >= 0 and np.all(np.abs(x) <= x[0]))

        D = STARTS[self.start] * np.exp(-tau / INITIAL_DECAY)
        status, residual, it = Status.MAX_ITERATIONS, float("nan"), 0
        mixing = Anderson(ANDERSON_DEPTH, ANDERSON_RIDGE)
        while it < self.iterations:
            it += 1
            D_new, _, _ = T(D)
            scale = max(float(D_new[0]), float(D[0]), atol)
            residual = float(np.max(np.abs(D_new - D))) / scale
            if residual <= self.tol or max(float(D_new[0]), float(D[0])) < atol:
                D = D_new
                status = Status.SUCCESS
                break
            D = mixing.step(D, D_new - D, self.damping, valid)

        D0 = max(float(D[0]), 0.0)
        _, Cw, qerr = T(D)
        floor = float(D[-1])
        static = bool(D0 < atol or D0 - floor <= STATIC_FRACTION * D0)
        q, _ = _correlate(unit.derivative, unit.derivative, D, m, order, closure.switches)
        lyap, E0 = _lyapunov(closure, q, step, static)

        s = closure.state
        correlations, moments = {}, {}
        if closure.form == "A":
            s_corr = D + m * m
            node_corr = Cw
        else:
            s_corr = D / G2
            node_corr = D
        correlations[closure.coupling] = node_corr
        # Other couplings (dead at these parameters: their node does not enter
        # the update) with an argument the closure can evaluate.
        subs = {p: sympy.Float(values[str(p)]) for p in cell.parameter_symbols}
        s_sym = cell.states[0]
        for cp in cell.couplings:
            if cp.matrix == closure.coupling:
                continue
            arg = cp.argument.xreplace(subs)
            if closure.form == "A" and arg.free_symbols <= {s_sym}:
                f = generate(f"arg_{cp.matrix}", [arg], [s_sym])
                correlations[cp.matrix] = _correlate(
                    lambda u, f=f: f({s: u})[0], lambda u, f=f: f({s: u})[0], D, m, order
                )[0]
            elif (
                closure.form == "B"
                and _number(arg.diff(s_sym)) is not None
                and _number(arg - arg.diff(s_sym) * s_sym) == 0
            ):
                correlations[cp.matrix] = float(arg.diff(s_sym)) ** 2 * s_corr
        moments[f"E[{s}]"] = float(m) if closure.form == "A" else _mean_B(unit, D0, order)
        moments[f"E[{s}^2]"] = float(s_corr[0])
        u_sym = closure.variable
        expanded = {}
        for sym, expr in cell.definitions:
            e = expr.xreplace(expanded)
            expanded[sym] = e
            e = e.xreplace(subs)
            if e.free_symbols <= {u_sym}:
                f = generate(f"def_{sym}", [e], [u_sym])
                rule = node_rule(D0)
                vals = f({u_sym.name: m + rule.points})[0]
                moments[f"E[{sym}]"] = float(np.sum(rule.weights * vals))
                moments[f"E[{sym}^2]"] = float(np.sum(rule.weights * vals * vals))
        for name, C in correlations.items():
            moments[f"C_{name}(0)"] = float(C[0])
        decay = {
            name: (float("nan") if static else decay_time(C, tau, float(C[-1]))) for name, C in correlations.items()
        }
        state_decay = {s: float("nan") if static else decay_time(s_corr, tau, float(s_corr[-1]))}
        settings = {
            "tau_max": float(tau[-1]),
            "dt": step if continuous else None,
            "lags": L,
            "damping": self.damping,
            "tol": self.tol,
            "atol": atol,
            "order": order,
            "chebyshev_points": CHEBYSHEV_POINTS,
            "anderson_depth": ANDERSON_DEPTH,
            "form": closure.form,
            "leak": closure.leak,
            "gain": closure.gain,
            "mean": closure.mean,
        }
        return FourierDMFTSolution(
            problem=problem,
            parameters=dict(values),
            time=cell.time,
            tau=tau,
            correlations={k: Estimate(v, np.zeros_like(v)) for k, v in correlations.items()},
            state_correlations={s: s_corr},
            moments={k: Estimate(v, 0.0) for k, v in moments.items()},
            static=static,
            decay_time=decay,
            state_decay_time=state_decay,
            lyapunov=float(lyap),
            ground_state_energy=E0,
            quadrature_error=qerr,
            closure=closure,
            start=self.start,
            status=status,
            iterations=it,
            residual=residual,
            settings=settings,
            message=(
                ""
                if status.ok
                else f"Fourier DMFT for cell '{cell.name}' did not converge in {self.iterations} iterations "
                f"(residual {residual:.3g}); raise iterations or lower damping"
            ),
        )


def _mean_B(unit: _Unit, D0: float, order: int) -> float:
    """``E[s] = E[W(eta)] / k`` (continuous) or ``/ (1 - a)`` (discrete), form B."""
    rule = node_rule(D0, quadrature=DEFAULT.with_order(order))
    mean_w = float(np.sum(rule.weights * unit(rule.points)))
    closure = unit.closure
    return mean_w / closure.leak if closure.time == "continuous" else mean_w / (1.0 - closure.leak)
