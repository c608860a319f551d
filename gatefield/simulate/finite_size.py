"""Finite-size scans, extrapolated in 1/N: the QR Lyapunov exponent and the
order parameters of fixed points.

A finite network's exponent sits under the large-N one and approaches it
slowly, so one size cannot be compared with the theory. :func:`lyapunov_scan`
runs QR on several networks per size (their scatter is the error of a size:
it is larger than one run's own time error) and :func:`finite_size_fit` fits
``lambda(N) = lambda_inf + a / N`` by weighted least squares, widened by the
Birge ratio when the fit is poor (``docs/theory/7-lyapunov.md#finite-size``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import count as check_count
from ..errors import GatefieldError
from .lyapunov import DEFAULT_DT, lyapunov

__all__ = [
    "FiniteSizeScan",
    "OrderParameterScan",
    "finite_size_fit",
    "lyapunov_scan",
    "order_parameter_scan",
    "SCAN_MIN_SEEDS",
]

#: Fewest networks per size in :func:`lyapunov_scan`: their scatter is the
#: error of each size, and two give a scatter with one degree of freedom.
SCAN_MIN_SEEDS = 3


@dataclass(frozen=True)
class FiniteSizeScan:
    """QR exponents of networks of several sizes, extrapolated to N = infinity.

    The maximal exponent of a finite network is biased: at N = 1000 the rate
    network at g = 2 sits about 8% under its large-N value (0.104 over 12
    networks against 0.1125), at N = 4000 about 4%. The leading
    correction is taken as ``1/N``,

        lambda(N) = limit + slope / N,

    fitted by weighted least squares (``numpy.polyfit`` with weights
    ``1/error``). ``limit_error`` is the error propagated from the per-size
    errors, scaled up by ``sqrt(chi2 / dof)`` when that exceeds 1 (the
    Birge ratio: points that scatter more than their errors say widen the
    limit's error instead of being ignored). ``chi2`` over ``dof`` says
    whether the ``1/N`` law describes the points; with two sizes it cannot
    be tested (``dof = 0``).

    Attributes
    ----------
    sizes : tuple of int
    exponents, errors : numpy.ndarray
        Per size: the mean over seeds and its standard error, the seed
        scatter ``std / sqrt(seeds)``. That scatter holds both errors of a
        run: its finite duration and the network it drew. The second
        dominates (rate network, g = 2, N = 500, 500 time units: 0.012
        between networks, 0.003 between trajectories of one network), and no
        single run can see it, so a scan asks for at least
        :data:`SCAN_MIN_SEEDS` seeds.
    runs : dict
        Size -> list of ``(exponent, stderr)`` per seed.
    limit, limit_error, slope, slope_error, chi2 : float
    dof : int
        Sizes minus 2.
    steps, dt :
        QR settings of every run (``dt`` None for a map).
    """

    cell: str
    parameters: dict
    sizes: tuple
    exponents: np.ndarray
    errors: np.ndarray
    runs: dict
    limit: float
    limit_error: float
    slope: float
    slope_error: float
    chi2: float
    dof: int
    steps: int
    dt: float | None

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "sizes": list(self.sizes),
            "exponents": self.exponents.tolist(),
            "errors": self.errors.tolist(),
            "runs": {str(n): [list(r) for r in rs] for n, rs in self.runs.items()},
            "limit": self.limit,
            "limit_error": self.limit_error,
            "slope": self.slope,
            "slope_error": self.slope_error,
            "chi2": self.chi2,
            "dof": self.dof,
            "steps": self.steps,
            "dt": self.dt,
            "law": "lambda(N) = limit + slope / N",
        }


def finite_size_fit(sizes, values, errors, *, birge: bool = True, power: float = 1.0) -> tuple:
    """Weighted least-squares fit of ``values = limit + slope / sizes**power``.

    Returns ``(limit, limit_error, slope, slope_error, chi2, dof)``. The
    errors are propagated from ``errors`` (unscaled covariance) and, with
    ``birge``, multiplied by ``sqrt(chi2 / dof)`` where that exceeds 1.
    """
    x = 1.0 / np.asarray(sizes, dtype=float) ** power
    y = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    if len(x) < 2 or len(np.unique(x)) < 2:
        raise GatefieldError("a finite-size fit needs at least two different network sizes")
    if np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise GatefieldError(
            "a finite-size fit needs a positive, finite error for every size; "
            "give each size networks whose exponents scatter (more seeds)"
        )
    (slope, limit), cov = np.polyfit(x, y, 1, w=1.0 / e, cov="unscaled")
    chi2 = float(np.sum(((y - (limit + slope * x)) / e) ** 2))
    dof = len(x) - 2
    scale = math.sqrt(max(1.0, chi2 / dof)) if birge and dof > 0 else 1.0
    return (
        float(limit),
        scale * float(math.sqrt(cov[1, 1])),
        float(slope),
        scale * float(math.sqrt(cov[0, 0])),
        chi2,
        dof,
    )


def lyapunov_scan(
    cell,
    parameters: dict | None,
    sizes,
    seeds: int,
    steps: int,
    *,
    dt: float | None = None,
    burn_in: int | None = None,
    relax_time=None,
    progress=None,
) -> FiniteSizeScan:
    """QR exponents at every size in ``sizes`` over ``seeds`` networks each, and their 1/N fit.

    Parameters
    ----------
    cell : Cell
    parameters : dict, optional
    sizes : sequence of int
        At least two different sizes; three or more test the ``1/N`` law.
    seeds : int
        Networks per size (coupling seeds 0 .. seeds - 1), at least
        :data:`SCAN_MIN_SEEDS`: the error of each size is their scatter.
    steps : int
        Measured QR steps per network (RK4 steps of ``dt`` in continuous time).
    dt : float, optional
        Continuous time: the RK4 step (default :data:`DEFAULT_DT`).
    burn_in : int, optional
        QR burn-in steps (default a tenth of ``steps``).
    relax_time : int or float, optional
        Relaxation before the QR run (default 200 steps, or 50 time units).
    progress : callable, optional
        Called as ``progress(done, total)`` after each network.
    """
    from .network import initial_state, make_network, run_to_steady_state

    sizes = tuple(sorted({check_count(n, "a network size", 2) for n in sizes}))
    if len(sizes) < 2:
        raise GatefieldError(f"a finite-size scan needs at least two different network sizes, got {list(sizes)}")
    seeds = check_count(seeds, "the number of seeds", 1)
    if seeds < SCAN_MIN_SEEDS:
        raise GatefieldError(
            f"a finite-size scan needs at least {SCAN_MIN_SEEDS} seeds per size, got "
            f"{seeds}: the exponent's error is mostly its scatter between networks"
        )
    steps = check_count(steps, "the number of steps", 1)
    burn_in = steps // 10 if burn_in is None else burn_in
    continuous = cell.time == "continuous"
    if relax_time is None:
        relax_time = 50.0 if continuous else 200
    values = cell.resolve(parameters)
    runs, means, errors = {}, [], []
    done, total = 0, len(sizes) * seeds
    for N in sizes:
        runs[N] = []
        for seed in range(seeds):
            net = make_network(cell, N, seed, values)
            s = run_to_steady_state(net, initial_state(net, seed), relax_time)
            r = lyapunov(net, s, steps, burn_in=burn_in, dt=dt)
            runs[N].append((r.exponent, r.stderr))
            done += 1
            if progress is not None:
                progress(done, total)
        lam = np.array([r[0] for r in runs[N]])
        means.append(float(lam.mean()))
        errors.append(float(lam.std(ddof=1) / math.sqrt(seeds)))
    limit, limit_error, slope, slope_error, chi2, dof = finite_size_fit(sizes, means, errors)
    return FiniteSizeScan(
        cell.name,
        values,
        sizes,
        np.array(means),
        np.array(errors),
        runs,
        limit,
        limit_error,
        slope,
        slope_error,
        chi2,
        dof,
        steps,
        (DEFAULT_DT if dt is None else float(dt)) if continuous else None,
    )


@dataclass(frozen=True)
class OrderParameterScan:
    """Order parameters ``q_a = <v_a^2>`` of finite networks' fixed points at
    several sizes, with their fits ``q_a(N) = limit + slope / N**power`` for
    ``power`` 1 and 1/2 (:func:`finite_size_fit`; the ``chi2`` of each says
    which law the points follow).

    Attributes
    ----------
    sizes : tuple of int
    means, errors : dict
        Coupling -> per-size mean over seeds and its standard error.
    found : dict
        Size -> the number of seeds whose fixed point was found.
    fits : dict
        ``(coupling, power)`` -> ``(limit, limit_error, slope, slope_error,
        chi2, dof)``.
    equations : str
        The fixed-point equations solved (:func:`~.fixed_point.find_fixed_point`).
    """

    cell: str
    parameters: dict
    sizes: tuple
    means: dict
    errors: dict
    found: dict
    fits: dict
    equations: str

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": self.parameters,
            "sizes": list(self.sizes),
            "means": {k: v.tolist() for k, v in self.means.items()},
            "errors": {k: v.tolist() for k, v in self.errors.items()},
            "found": {str(n): c for n, c in self.found.items()},
            "fits": {
                f"{a} 1/N^{power:g}": dict(zip(("limit", "limit_error", "slope", "slope_error", "chi2", "dof"), f))
                for (a, power), f in self.fits.items()
            },
            "equations": self.equations,
        }


def order_parameter_scan(
    cell, parameters: dict | None, sizes, seeds: int, *, equations: str = "reduced", progress=None
) -> OrderParameterScan:
    """Fixed points of ``seeds`` networks at every size in ``sizes``, their
    order parameters, and the fits in ``1/N`` and ``1/sqrt(N)``.

    Each network is relaxed from a random state (seed-separated from its
    couplings) and solved by :func:`~.fixed_point.find_fixed_point` with
    ``equations``; a network without a fixed point found is left out of its
    size's mean (and counted in ``found``).
    """
    from .fixed_point import find_fixed_point
    from .network import initial_state, make_network, population_q

    sizes = tuple(sorted({check_count(n, "a network size", 2) for n in sizes}))
    if len(sizes) < 2:
        raise GatefieldError(f"a finite-size scan needs at least two different network sizes, got {list(sizes)}")
    seeds = check_count(seeds, "the number of seeds", 1)
    if seeds < SCAN_MIN_SEEDS:
        raise GatefieldError(
            f"a finite-size scan needs at least {SCAN_MIN_SEEDS} seeds per size, got {seeds}: "
            "the error of each size is the scatter between networks"
        )
    values = cell.resolve(parameters)
    per_size: dict = {}
    found: dict = {}
    done, total = 0, len(sizes) * seeds
    for N in sizes:
        rows = []
        for seed in range(seeds):
            net = make_network(cell, N, seed, values)
            fp = find_fixed_point(net, initial_state(net, seed), equations=equations)
            if fp.converged:
                rows.append(population_q(net, fp.state))
            done += 1
            if progress is not None:
                progress(done, total)
        if len(rows) < 2:
            raise GatefieldError(
                f"only {len(rows)} of {seeds} networks of N = {N} reached a fixed point; "
                "the scan needs a stable fixed point at every size"
            )
        per_size[N], found[N] = rows, len(rows)
    couplings = list(per_size[sizes[0]][0])
    means = {a: np.array([np.mean([r[a] for r in per_size[N]]) for N in sizes]) for a in couplings}
    errors = {
        a: np.array([np.std([r[a] for r in per_size[N]], ddof=1) / math.sqrt(len(per_size[N])) for N in sizes])
        for a in couplings
    }
    fits = {(a, p): finite_size_fit(sizes, means[a], errors[a], power=p) for a in couplings for p in (1.0, 0.5)}
    return OrderParameterScan(cell.name, values, sizes, means, errors, found, fits, equations)
