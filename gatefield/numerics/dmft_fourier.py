"""Gaussian-closure DMFT in Fourier space (THEORY.md section 6).

When the single unit of a cell is driven linearly by one Gaussian field and
relaxes linearly, the stationary DMFT closes on *one* correlation function and
needs no sampling. Two forms are recognised from the spec (after the
parameter values are substituted, so a gate with zero gain counts as a
constant):

**Form A** (rate networks), with ``s`` Gaussian::

    ds/dt = -k s + c eta + b        or   s' = a s + c eta + b,
    eta = J @ w(s)

**Form B** (constant update gate, e.g. ``cgru`` with ``alpha_z = alpha_r = 0``,
or the vanilla map), with ``eta`` Gaussian::

    ds/dt = -k s + W(eta)           or   s' = a s + W(eta),
    eta = J @ (sigma s)

In both, a Gaussian variable ``u`` (``s`` in form A, ``eta`` in form B) with
mean ``m`` and stationary covariance ``Delta(tau)`` obeys

    S_Delta(omega) = G^2 K(omega) S_w(omega),
    K(omega) = 1 / (k^2 + omega^2)                  (continuous time)
    K(omega) = 1 / (1 - 2 a cos(omega) + a^2)       (discrete time)

with ``S_w`` the spectrum of the (non-centred) ``C_w(tau) = E[w(u(t))
w(u(t + tau))]``, ``G = c`` (A) or ``sigma`` (B), ``m = b / k`` or
``b / (1 - a)`` (A) or 0 (B). For the rate network ``dx/dt = -x + g J
tanh(x)`` this is the Sompolinsky-Crisanti-Sommers (1988) equation
``(1 - d^2/dtau^2) Delta = g^2 C_phi(Delta(tau), Delta(0))``.

:func:`solve_dmft_fourier` iterates this map on a lag grid by FFT;
:func:`rate_potential_solution` is the classical, independent solution of
the rate network through the particle-in-a-potential picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.linalg
import sympy
from scipy import integrate, optimize

from ..errors import GatefieldError, SolverError
from ..theory.spec import Cell
from .codegen import generate
from .quadrature import STEEP, node_rule, standard_rule

__all__ = [
    "GaussianClosure",
    "FourierDMFTResult",
    "gaussian_closure",
    "solve_dmft_fourier",
    "PotentialSolution",
    "rate_potential_solution",
]

#: Chebyshev-Lobatto points in ``rho = Delta(tau) / Delta(0)`` on which the
#: bivariate expectation ``E[w(u) w(u')]`` is tabulated at each iteration.
#: ``C_w(rho)`` is smooth on [-1, 1] (a power series with non-negative
#: coefficients, Mehler); for tanh the interpolation error against direct
#: quadrature was 1e-13 at Delta(0) = 5.45 and 2.5e-9 at Delta(0) = 20 with 129
#: points (65 points: 8e-9 and 2.4e-6).
CHEBYSHEV_POINTS = 129

#: Defaults for continuous-time cells (cell time units): the lag grid step and
#: length. The step enters only through the spectral second derivative (at
#: g = 2 the change of Delta(0) from dt = 0.05 to 0.1 was below 1e-15); the
#: length must hold the decay of the fluctuating part (a few time units at
#: g = 2, about 15 at g = 1.2), so 200 leaves the tail at round-off.
CONTINUOUS_DEFAULTS = {"dt": 0.1, "tau_max": 200.0}
#: Discrete-time lag window in steps.
DISCRETE_DEFAULTS = {"tau_max": 256}

#: Amplitude of the initial ``Delta`` for start="large" / "small" and the
#: decay time of its initial exponential (time units or steps). Any decay
#: time of a few units converges; the small start (1e-6) reaches the static
#: branch when it is stable and grows into the chaotic branch otherwise.
LARGE_START = 1.0
SMALL_START = 1e-6
INITIAL_DECAY = 3.0

#: A solution is static when its fluctuating part ``Delta(0) - Delta(inf)``
#: is below this fraction of ``Delta(0)``, as in the sampling solver.
STATIC_FRACTION = 0.05

#: Anderson mixing: depth and Tikhonov ridge relative to the largest squared
#: residual difference (deterministic residuals, so a small ridge suffices;
#: it guards against near-collinear differences once converged).
ANDERSON_DEPTH = 10
ANDERSON_RIDGE = 1e-10


# -- the closure --------------------------------------------------------------------


@dataclass(frozen=True)
class GaussianClosure:
    """The reduction of a cell to one Gaussian variable ``u`` (see the module docstring).

    Attributes
    ----------
    form : {"A", "B"}
        "A": the state is Gaussian (rate networks); "B": the field is
        Gaussian (the state is a linear filter of ``W(eta)``).
    time : {"discrete", "continuous"}
    leak : float
        ``k`` of ``ds/dt = -k s + ...`` (continuous) or ``a`` of ``s' = a s + ...``.
    gain : float
        ``G``: ``c`` (form A) or ``sigma`` (form B).
    mean : float
        Mean ``m`` of ``u``.
    coupling : str
        The one coupling that drives the unit.
    w, dw : GeneratedFunction
        ``w(u)`` and ``w'(u)``, functions of the symbol named ``variable``.
    variable : str
        ``u``: the state (A) or the live node (B).
    expression : sympy.Expr
        ``w(u)``.
    switches : tuple of (slope, offset)
        Arguments ``slope * u + offset`` of the saturating functions in
        ``w``, where the quadrature grades its panels.
    """

    form: str
    time: str
    leak: float
    gain: float
    mean: float
    coupling: str
    state: str
    variable: str
    expression: sympy.Expr
    w: object = field(repr=False)
    dw: object = field(repr=False)
    switches: tuple = ()

    def kernel(self, omega: np.ndarray) -> np.ndarray:
        if self.time == "continuous":
            return 1.0 / (self.leak**2 + omega**2)
        return 1.0 / (1.0 - 2.0 * self.leak * np.cos(omega) + self.leak**2)

    def __call__(self, u) -> np.ndarray:
        return self.w({self.variable: u})[0]

    def derivative(self, u) -> np.ndarray:
        return self.dw({self.variable: u})[0]


def _number(expr) -> float | None:
    """The value of a constant expression, or None when it depends on a symbol."""
    if not isinstance(expr, sympy.Basic):  # a plain number (never a string: nothing is parsed here)
        return float(expr)
    if expr.free_symbols:
        return None
    value = complex(expr)
    return value.real if value.imag == 0 else None


def _switches(expr, u) -> tuple:
    """``(slope, offset)`` of every function argument of ``expr`` that is affine in ``u``."""
    found = set()
    for fn in expr.atoms(sympy.Function, sympy.Abs, sympy.Heaviside):
        for arg in fn.args:
            slope = _number(arg.diff(u))
            offset = _number(arg.xreplace({u: 0}))
            if slope and offset is not None:
                found.add((slope, offset))
    return tuple(sorted(found))


def gaussian_closure(cell: Cell, parameters: dict | None = None) -> GaussianClosure:
    """Recognise form A or B (module docstring) in ``cell`` at the given parameters.

    Raises
    ------
    SolverError
        When the cell does not have one of the two forms; the sampling solver
        :func:`gatefield.numerics.dmft.solve_dmft` handles any cell.
    """
    values = cell.resolve(parameters)
    subs = {p: sympy.Float(values[str(p)]) for p in cell.parameter_symbols}
    if len(cell.states) != 1:
        raise SolverError(
            f"cell '{cell.name}' has {len(cell.states)} states; the Fourier DMFT solver "
            "handles one-state cells only, so use solve_dmft (sampling)"
        )
    s = cell.states[0]
    U = sympy.expand(cell.updates[0].xreplace(subs))
    live = [cp for cp in cell.couplings if U.has(cp.node)]
    if len(live) != 1:
        raise SolverError(
            f"the update of cell '{cell.name}' depends on {len(live)} coupled fields at these "
            "parameters; the Fourier DMFT solver needs exactly one, so use solve_dmft"
        )
    cp = live[0]
    eta = cp.node
    A = cp.argument.xreplace(subs)
    if not A.free_symbols <= {s}:
        raise SolverError(
            f"the argument of coupling '{cp.matrix}' in cell '{cell.name}' depends on more "
            "than the state; the Fourier DMFT solver cannot close it, so use solve_dmft"
        )
    leak = _number(U.diff(s))
    continuous = cell.time == "continuous"

    def finish(form, gain, mean, variable, w_expr):
        if continuous and not leak < 0:
            raise SolverError(
                f"cell '{cell.name}' has no leak (ds/dt = {leak} s + ...); the Fourier DMFT "
                "solver needs ds/dt = -k s + ... with k > 0"
            )
        if not continuous and not abs(leak) < 1:
            raise SolverError(
                f"cell '{cell.name}' has s' = {leak} s + ...; the Fourier DMFT solver needs "
                "|a| < 1 for a stationary state"
            )
        k = -leak if continuous else leak
        w_fn = generate(f"w_{cell.name}", [w_expr], [variable])
        dw_fn = generate(f"dw_{cell.name}", [w_expr.diff(variable)], [variable])
        return GaussianClosure(
            form,
            cell.time,
            float(k),
            float(gain),
            float(mean),
            cp.matrix,
            str(s),
            str(variable),
            w_expr,
            w_fn,
            dw_fn,
            _switches(w_expr, variable),
        )

    if leak is not None:
        c = _number(U.diff(eta))
        rest = U - leak * s - (c if c is not None else 0) * eta
        if c is not None and c != 0 and not rest.has(s) and not rest.has(eta):
            b = _number(rest)
            if b is not None:
                mean = b / (-leak) if continuous else b / (1 - leak)
                if A.has(s):
                    return finish("A", c, mean, s, A)
        sigma = _number(A.diff(s))
        W = U - leak * s
        if sigma and _number(A - sigma * s) == 0 and not W.has(s):
            return finish("B", sigma, 0.0, eta, W)
    raise SolverError(
        f"cell '{cell.name}' is neither ds = -k s + c J@w(s) + b nor "
        "ds = -k s + W(J@(sigma s)) at these parameters; use solve_dmft (sampling) for it"
    )


# -- bivariate Gaussian expectations ------------------------------------------------------


def _lobatto(n: int) -> np.ndarray:
    return np.cos(np.pi * np.arange(n) / (n - 1))


def _rule(var: float, mean: float, switches, order: int):
    """Graded Gauss-Legendre rule in standard units (as :func:`node_rule`, shifted by the mean)."""
    sd = math.sqrt(max(var, 0.0))
    centers = []
    for slope, offset in switches:
        steep = abs(slope) * sd
        if steep > STEEP:
            centers.append(((-offset / slope - mean) / sd, 1.0 / steep))
    return standard_rule(tuple(sorted(centers)), order=order)


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


def _filter(c: np.ndarray, closure: GaussianClosure, step: float) -> np.ndarray:
    """``F^-1[K(omega) F[c]]`` for an even ``c`` on lags ``0..L-1``, by FFT of its even extension."""
    L = len(c)
    n = 2 * (L - 1)
    ext = np.concatenate([c, c[-2:0:-1]])
    omega = 2.0 * np.pi * np.fft.rfftfreq(n, step)
    return scipy.fft.irfft(scipy.fft.rfft(ext) * closure.kernel(omega), n=n)[:L]


def _anderson(x, f, history: list, damping: float):
    """Anderson (type II) mixing of iterate ``x`` with residual ``f = T(x) - x``."""
    history.append((x.copy(), f.copy()))
    del history[: -(ANDERSON_DEPTH + 1)]
    damped = x + damping * f
    if len(history) < 2:
        return damped
    dX = np.stack([history[k + 1][0] - history[k][0] for k in range(len(history) - 1)], axis=1)
    dF = np.stack([history[k + 1][1] - history[k][1] for k in range(len(history) - 1)], axis=1)
    gram = dF.T @ dF
    ridge = ANDERSON_RIDGE * max(float(np.max(np.diag(gram))), 1e-300)
    gamma = np.linalg.solve(gram + ridge * np.eye(len(gram)), dF.T @ f)
    mixed = x + damping * f - (dX + damping * dF) @ gamma
    # Keep |Delta(tau)| <= Delta(0): a covariance; otherwise take the damped step.
    if not np.all(np.isfinite(mixed)) or mixed[0] < 0 or np.any(np.abs(mixed) > mixed[0]):
        history.clear()
        return damped
    return mixed


def _decay_time(C: np.ndarray, tau: np.ndarray, floor: float) -> float:
    """First lag where ``C - floor`` falls below ``(C(0) - floor) / e`` (linear interpolation)."""
    amp = C[0] - floor
    if not amp > 0:
        return float("nan")
    x = C - floor
    below = np.nonzero(x < amp / math.e)[0]
    if len(below) == 0:
        return float("nan")
    k = int(below[0])
    frac = (x[k - 1] - amp / math.e) / (x[k - 1] - x[k])
    return float(tau[k - 1] + frac * (tau[k] - tau[k - 1]))


# -- Lyapunov exponent ----------------------------------------------------------------


def _lyapunov(closure: GaussianClosure, q: np.ndarray, step: float, static: bool) -> tuple:
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
                scipy.linalg.eig_banded(
                    bands, lower=True, eigvals_only=True, select="i", select_range=(0, 0)
                )[0]
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
        return float(
            scipy.linalg.eig_banded(bands, lower=True, eigvals_only=True, select="i", select_range=(0, 0))[0]
        )

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


# -- result and solver -------------------------------------------------------------------


@dataclass(frozen=True)
class FourierDMFTResult:
    """A stationary Gaussian-closure DMFT solution, comparable with
    :class:`gatefield.numerics.dmft.DMFTResult` (same names where they exist).

    Attributes
    ----------
    cell, parameters, time, tau
        As in ``DMFTResult``; ``tau`` in time units (continuous) or steps.
    correlations : dict
        Coupling name -> node covariance ``C_a(tau) = E[v_a(t) v_a(t + tau)]``
        (couplings whose argument cannot be closed are left out).
    state_correlations : dict
        State name -> ``E[s(t) s(t + tau)]`` (not centred, as in ``DMFTResult``).
    moments : dict
        ``E[s]``, ``E[s^2]``, ``C_J(0)`` and ``E[d]``, ``E[d^2]`` for the
        definitions that depend on the Gaussian variable only.
    static : bool
    decay_time : dict
        Coupling name -> ``1/e`` time of ``C_a(tau) - C_a(inf)``.
    state_decay_time : dict
        State name -> ``1/e`` time of the state's autocovariance.
    lyapunov : float
        Maximal Lyapunov exponent (per time unit, or per step).
    ground_state_energy : float
        ``E0`` of ``-d^2/dtau^2 + k^2 - G^2 q(tau)`` (continuous time).
    status : {"converged", "max iterations"}
    iterations : int
    residual : float
        Last ``max_tau |Delta_new - Delta| / Delta(0)``.
    quadrature_error : float
        Size of the last Chebyshev coefficients of ``C_w(rho)``.
    closure : GaussianClosure
    start : str
    settings : dict
    """

    cell: str
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
    status: str
    iterations: int
    residual: float
    quadrature_error: float
    closure: GaussianClosure = field(repr=False)
    start: str
    settings: dict

    def to_json(self) -> dict:
        return {
            "route": "dmft-fourier",
            "cell": self.cell,
            "parameters": self.parameters,
            "time": self.time,
            "form": self.closure.form,
            "start": self.start,
            "status": self.status,
            "iterations": self.iterations,
            "residual": self.residual,
            "quadrature_error": self.quadrature_error,
            "static": self.static,
            "moments": self.moments,
            "decay_time": self.decay_time,
            "state_decay_time": self.state_decay_time,
            "lyapunov": self.lyapunov,
            "ground_state_energy": self.ground_state_energy,
            "tau": self.tau.tolist(),
            "correlations": {k: v.tolist() for k, v in self.correlations.items()},
            "settings": self.settings,
        }


def _check_positive(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GatefieldError(f"{what} must be a positive number, got {value!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise GatefieldError(f"{what} must be a positive number, got {value!r}")
    return x


def solve_dmft_fourier(
    cell: Cell,
    parameters: dict | None = None,
    *,
    tau_max=None,
    dt: float | None = None,
    iterations: int = 500,
    damping: float = 1.0,
    tol: float = 1e-12,
    atol: float = 1e-12,
    order: int = 8,
    start: str = "large",
    raise_on_failure: bool = False,
):
    """Solve the stationary Gaussian-closure DMFT by iteration in Fourier space.

    Parameters
    ----------
    cell : Cell
        A cell of form A or B (module docstring; :func:`gaussian_closure`).
    parameters : dict, optional
    tau_max : float or int, optional
        Longest lag (time units, or steps in discrete time); defaults
        :data:`CONTINUOUS_DEFAULTS`, :data:`DISCRETE_DEFAULTS`.
    dt : float, optional
        Continuous time only: the lag grid step.
    iterations : int
        Largest number of iterations.
    damping : float
        In (0, 1]: the step along the residual inside Anderson mixing.
    tol : float
        Converged when ``max_tau |Delta_new - Delta| <= tol * Delta(0)``.
    atol : float
        Converged to the zero solution when ``Delta_new(0) < atol``.
    order : int
        Gauss-Legendre nodes per panel of the quadrature of ``C_w(rho)``.
    start : {"large", "small", "both"}
        Initial ``Delta(tau) = A exp(-tau / INITIAL_DECAY)`` with ``A`` =
        :data:`LARGE_START` or :data:`SMALL_START`; "both" returns ``(large, small)``.
    raise_on_failure : bool
        Raise :class:`SolverError` when the iterations run out.

    Returns
    -------
    FourierDMFTResult, or a tuple (large, small) for start="both".

    Notes
    -----
    Iteration: with ``Delta_n`` on lags ``0..tau_max``, tabulate
    ``C_w(rho) = E[w(u) w(u')]`` (``u``, ``u'`` Gaussian, mean ``m``,
    variance ``Delta_n(0)``, correlation ``rho``) at Chebyshev points by
    tensor Gauss-Legendre quadrature, evaluate it at ``rho =
    Delta_n(tau)/Delta_n(0)``, and set ``T(Delta_n) = G^2 F^-1[K F[C_w]]``
    (FFT of the even extension, i.e. the spectral solution of ``(k^2 -
    d^2/dtau^2) Delta = G^2 C_w`` in continuous time); the next iterate is
    Anderson-mixed from ``Delta_n`` and ``T(Delta_n)`` (Walker and Ni 2011).
    A constant part of ``C_w`` (``C_w(inf) = E[w]^2``) is filtered with
    ``K(0)`` exactly: it is the frozen part of the state.

    Lyapunov exponent (Sompolinsky, Crisanti and Sommers 1988): two replicas
    with the same couplings, linearized in their difference ``delta``. In
    continuous time ``(d/dt + k) delta = G J (w'(u) delta)``, so
    ``D(t, t') = E[delta(t) delta(t')]`` obeys ``(d_t + k)(d_t' + k) D =
    G^2 q(t - t') D`` with ``q(tau) = E[w'(u(t)) w'(u(t + tau))]``. With
    ``D = exp(kappa (t + t')) psi(t - t')``:
    ``[-d^2/dtau^2 + k^2 - G^2 q(tau)] psi = E psi``, ``E = k^2 - (k +
    kappa)^2``; the growth rate is set by the ground state ``E0``:
    ``lambda_max = -k + sqrt(k^2 - E0)``. (``d Delta / d tau`` is a zero mode
    with one node, so ``E0 < 0`` and ``lambda > 0`` on the chaotic branch.)
    For a static state ``q`` is constant and ``lambda = -k + G sqrt(q(0))``,
    the edge of the circular law. In discrete time,
    ``s' = a s + ...`` gives ``(mu^2 + a^2) psi(tau) - a mu (psi(tau + 1) +
    psi(tau - 1)) = G^2 q(tau) psi(tau)`` for ``D = mu^(t + t') psi``, and
    ``lambda = log mu`` for the largest ``mu`` with a zero mode; for ``a = 0``
    (the vanilla map) ``lambda = log(G^2 q(0)) / 2 = log(g^2 E[phi'^2]) / 2``.

    Discrete memoryless maps (``a = 0``, e.g. ``h' = tanh(g J h)``): ``K = 1``,
    so every lag ``tau >= 1`` solves ``Delta(tau) = G^2 C_w(Delta(tau);
    Delta(0))`` separately. On the chaotic branch the fully correlated root
    ``Delta = Delta(0)`` is unstable and the lags fall to the stable root,
    ``Delta = 0`` for an odd ``w`` without bias: the large-N state is white
    in time, ``C(tau >= 1) = 0`` (a finite network keeps O(1/sqrt(N)) correlations).
    """
    if start == "both":
        kw = dict(
            tau_max=tau_max,
            dt=dt,
            iterations=iterations,
            damping=damping,
            tol=tol,
            atol=atol,
            order=order,
            raise_on_failure=raise_on_failure,
        )
        return (
            solve_dmft_fourier(cell, parameters, start="large", **kw),
            solve_dmft_fourier(cell, parameters, start="small", **kw),
        )
    if start not in ("large", "small"):
        raise GatefieldError(f"start must be 'large', 'small' or 'both', got {start!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise GatefieldError(f"iterations must be a positive integer, got {iterations!r}")
    damping = _check_positive(damping, "damping")
    if damping > 1:
        raise GatefieldError(f"damping must be in (0, 1], got {damping}")
    closure = gaussian_closure(cell, parameters)
    values = cell.resolve(parameters)
    continuous = cell.time == "continuous"
    if continuous:
        step = _check_positive(CONTINUOUS_DEFAULTS["dt"] if dt is None else dt, "dt")
        span = _check_positive(CONTINUOUS_DEFAULTS["tau_max"] if tau_max is None else tau_max, "tau_max")
        L = int(round(span / step)) + 1
    else:
        if dt is not None:
            raise GatefieldError(
                f"cell '{cell.name}' is discrete-time; dt applies only to continuous-time "
                "cells, so leave it out"
            )
        step = 1.0
        L = int(_check_positive(DISCRETE_DEFAULTS["tau_max"] if tau_max is None else tau_max, "tau_max")) + 1
    if L < 4:
        raise GatefieldError(f"the lag grid has {L} points; lengthen tau_max or shorten dt")
    tau = step * np.arange(L)
    G2, m = closure.gain**2, closure.mean

    def T(D):
        Cw, err = _correlate(closure, closure, D, m, order, closure.switches)
        return G2 * _filter(Cw, closure, step), Cw, err

    amp = LARGE_START if start == "large" else SMALL_START
    D = amp * np.exp(-tau / INITIAL_DECAY)
    status, residual, history, it = "max iterations", float("nan"), [], 0
    while it < iterations:
        it += 1
        D_new, _, _ = T(D)
        scale = max(float(D_new[0]), float(D[0]), atol)
        residual = float(np.max(np.abs(D_new - D))) / scale
        if residual <= tol or max(float(D_new[0]), float(D[0])) < atol:
            D = D_new
            status = "converged"
            break
        D = _anderson(D, D_new - D, history, damping)
    if status != "converged" and raise_on_failure:
        raise SolverError(
            f"Fourier DMFT for cell '{cell.name}' did not converge in {iterations} iterations "
            f"(residual {residual:.3g}); raise iterations or lower damping"
        )

    D0 = max(float(D[0]), 0.0)
    _, Cw, qerr = T(D)
    floor = float(D[-1])
    static = bool(D0 < atol or D0 - floor <= STATIC_FRACTION * D0)
    q, _ = _correlate(closure.derivative, closure.derivative, D, m, order, closure.switches)
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
    moments[f"E[{s}]"] = float(m) if closure.form == "A" else _mean_B(closure, D0, order)
    moments[f"E[{s}^2]"] = float(s_corr[0])
    u_sym = sympy.Symbol(closure.variable, real=True)
    expanded = {}
    for sym, expr in cell.definitions:
        e = expr.xreplace(expanded)
        expanded[sym] = e
        e = e.xreplace(subs)
        if e.free_symbols <= {u_sym}:
            f = generate(f"def_{sym}", [e], [u_sym])
            rule = node_rule(D0)
            vals = f({closure.variable: m + rule.points})[0]
            moments[f"E[{sym}]"] = float(np.sum(rule.weights * vals))
            moments[f"E[{sym}^2]"] = float(np.sum(rule.weights * vals * vals))
    for name, C in correlations.items():
        moments[f"C_{name}({0})"] = float(C[0])
    decay = {
        name: (float("nan") if static else _decay_time(C, tau, float(C[-1])))
        for name, C in correlations.items()
    }
    state_decay = {s: float("nan") if static else _decay_time(s_corr, tau, float(s_corr[-1]))}
    settings = {
        "tau_max": float(tau[-1]),
        "dt": step if continuous else None,
        "lags": L,
        "damping": damping,
        "tol": tol,
        "atol": atol,
        "order": order,
        "chebyshev_points": CHEBYSHEV_POINTS,
        "anderson_depth": ANDERSON_DEPTH,
        "form": closure.form,
        "leak": closure.leak,
        "gain": closure.gain,
        "mean": closure.mean,
    }
    return FourierDMFTResult(
        cell=cell.name,
        parameters=dict(values),
        time=cell.time,
        tau=tau,
        correlations=correlations,
        state_correlations={s: s_corr},
        moments=moments,
        static=static,
        decay_time=decay,
        state_decay_time=state_decay,
        lyapunov=float(lyap),
        ground_state_energy=E0,
        status=status,
        iterations=it,
        residual=residual,
        quadrature_error=qerr,
        closure=closure,
        start=start,
        settings=settings,
    )


def _mean_B(closure: GaussianClosure, D0: float, order: int) -> float:
    """``E[s] = E[W(eta)] / k`` (continuous) or ``/ (1 - a)`` (discrete), form B."""
    rule = node_rule(D0, order=order)
    mean_w = float(np.sum(rule.weights * closure(rule.points)))
    return mean_w / closure.leak if closure.time == "continuous" else mean_w / (1.0 - closure.leak)


# -- the classical potential solution of the rate network -----------------------------------


@dataclass(frozen=True)
class PotentialSolution:
    """The Sompolinsky-Crisanti-Sommers solution of ``dx/dt = -x + g J tanh(x)``.

    Attributes
    ----------
    g : float
    delta0 : float
        ``Delta(0) = E[x^2]`` (0 for g <= 1).
    curvature : float
        ``-Delta''(0) = g^2 E[tanh(x)^2] - Delta0`` (positive on the chaotic branch).
    residual : float
        ``|Delta0^2 / 2 - g^2 Var[log cosh x]|`` at the root.
    """

    g: float
    delta0: float
    curvature: float
    residual: float
    _coef: np.ndarray = field(repr=False)

    def potential_gap(self, delta) -> np.ndarray:
        """``V(Delta0) - V(Delta) = int_Delta^Delta0 (g^2 C_phi(u) - u) du`` (kinetic energy)."""
        delta = np.asarray(delta, dtype=float)
        D0 = self.delta0
        P = np.polynomial.chebyshev.chebint(self._coef)
        rho = np.clip(delta / D0, -1.0, 1.0)
        integral = D0 * (np.polynomial.chebyshev.chebval(1.0, P) - np.polynomial.chebyshev.chebval(rho, P))
        return self.g**2 * integral - 0.5 * (D0 * D0 - delta * delta)

    def time_to(self, level: float) -> float:
        """The lag ``tau`` at which ``Delta(tau) = level`` (0 < level <= Delta0), by
        ``tau = int_level^Delta0 dD / sqrt(2 (V(Delta0) - V(D)))``."""
        D0 = self.delta0
        if not 0 < level <= D0:
            raise GatefieldError(f"level must be in (0, Delta0 = {D0:.6g}], got {level}")
        # D = Delta0 - y^2 removes the inverse square root at the turning point.
        y_max = math.sqrt(D0 - level)

        def integrand(y):
            if y == 0:
                return 2.0 / math.sqrt(2.0 * self.curvature)
            return 2.0 * y / math.sqrt(2.0 * float(self.potential_gap(D0 - y * y)))

        value, _ = integrate.quad(integrand, 0.0, y_max, epsabs=1e-12, epsrel=1e-11, limit=200)
        return float(value)


def _log_cosh(x):
    return np.logaddexp(x, -x) - math.log(2.0)


def rate_potential_solution(g: float, order: int = 16) -> PotentialSolution:
    """Solve the rate network ``dx/dt = -x + g J tanh(x)`` in the potential picture.

    Notes
    -----
    Sompolinsky, Crisanti and Sommers (1988): ``Delta'' = Delta - g^2
    C_phi(Delta; Delta0) = -dV/dDelta`` with the potential ``V(Delta) =
    -Delta^2/2 + g^2 E[Phi(x) Phi(x')]``, ``Phi(x) = log cosh x`` (the
    antiderivative of tanh; ``dE[Phi Phi']/dDelta = E[phi phi']`` by Price's
    theorem at fixed variance ``Delta0``). The decaying solution is the
    particle that starts at rest at ``Delta0`` and reaches ``Delta = 0`` at
    rest as ``tau -> inf``; energy conservation ``V(Delta0) = V(0)`` is the
    1-D equation

        Delta0^2 / 2 = g^2 ( E[Phi(x)^2] - E[Phi(x)]^2 ),   x ~ N(0, Delta0),

    solved here by Brent's method (it has a positive root iff g > 1; near 0
    the right-hand side is g^2 Delta0^2 / 2 (1 - ...)). ``Delta(tau)`` follows
    from ``tau(Delta) = int_Delta^Delta0 dD / sqrt(2 (V(Delta0) - V(D)))``
    (:meth:`PotentialSolution.time_to`).
    """
    g = _check_positive(g, "g")

    def energy(D0):
        rule = _rule(D0, 0.0, ((1.0, 0.0),), order)
        rule = type(rule)(math.sqrt(D0) * rule.points, rule.weights)
        P = _log_cosh(rule.points)
        var = float(np.sum(rule.weights * P * P) - np.sum(rule.weights * P) ** 2)
        return 0.5 * D0 * D0 - g * g * var

    if g <= 1.0:
        return PotentialSolution(g, 0.0, 0.0, 0.0, np.zeros(1))
    hi = 1.0
    while energy(hi) < 0:
        hi *= 2.0
        if hi > 1e6:
            raise SolverError(f"no root of the energy equation below 1e6 at g = {g}")
    lo = hi / 2.0
    while energy(lo) > 0 and lo > 1e-12:
        lo /= 2.0
    D0 = optimize.brentq(energy, lo, hi, xtol=1e-15, rtol=1e-15)
    rule = _rule(D0, 0.0, ((1.0, 0.0),), order)
    rule = type(rule)(math.sqrt(D0) * rule.points, rule.weights)
    curvature = g * g * float(np.sum(rule.weights * np.tanh(rule.points) ** 2)) - D0
    coef, _ = _tabulate(np.tanh, np.tanh, D0, 0.0, order, ((1.0, 0.0),))
    return PotentialSolution(g, float(D0), float(curvature), abs(energy(D0)), coef)
