"""Computing a claim's figure: theory curves and finite-N points, compared point by point.

:func:`make_figure` evaluates the theory curves of a :mod:`~.claims` figure
and simulates its finite-N points (mean and standard error over seeds); the
``.json`` beside the figure says point by point whether they agree (shares
within 3 standard errors, the largest of the seed scatter, the binomial error
and one eigenvalue's share; the largest ``|eigenvalue|`` within the 90% band
of its finite-N prediction, :func:`~gatefield.numerics.spectrum.edge_prediction`).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .. import _checks
from .._json import dumps
from ..cells import load_cell
from ..errors import GatefieldError
from ..numerics.spectrum import (
    edge_prediction,
    from_fixed_point,
    marginal_window,
    slow_mode_fraction,
    slow_point,
    step_gate_atoms,
)
from ..plot._common import check_path
from ..simulate import find_fixed_point, initial_state, make_network
from .claims import DELTA, FIGURES, Panel
from .landscape import LANDSCAPE, landscape_table, make_landscape
from .spectra import eigenvalues, finite_n_spectrum, fraction_in_disc
from .tolerances import SIGMAS, share_error

__all__ = ["make_figure", "figure_table"]

#: Largest parameter step of the Newton continuation of a fixed-point branch.
CONTINUATION_STEP = 0.05
#: A fixed point with a mean squared state below this is the zero one.
ZERO_STATE = 1e-10


def _vary_name(panel: Panel, overrides: dict) -> str:
    return overrides.get("vary", panel.vary)


def _params(panel: Panel, overrides: dict, value: float) -> dict:
    extra = {k: v for k, v in overrides.items() if k != "vary"}
    return {**panel.base, **extra, _vary_name(panel, overrides): value}


def _edge(sites, N: int) -> dict:
    """The predicted largest ``|eigenvalue|`` at size N (median, band), with
    the bulk's radius and the N = infinity one (bulk and whiskers)."""
    edge = edge_prediction(sites, N, EDGE_BAND)
    return {
        "theory": edge.median,
        "low": edge.low,
        "high": edge.high,
        "bulk_radius": sites.support.bulk_radius,
        "radius_n_infinity": sites.support.spectral_radius,
    }


def _fixed_point_theory(panel: Panel, overrides: dict, value: float, N: int) -> dict:
    """Theory at one parameter value on the fixed-point route (largest-q solution)."""
    cell = load_cell(panel.cell)
    try:
        sites = from_fixed_point(cell, _params(panel, overrides, value))
    except GatefieldError:  # no mean-field solution here
        return {"value": value, "theory": float("nan")}
    slow = slow_point(cell.time)
    out = {"value": value, "stable": bool(sites.support.stable)}
    if panel.quantity == "spectral_radius":
        out.update(_edge(sites, N))
    else:
        out["theory"] = float(slow_mode_fraction(sites, [DELTA])[0])
    if panel.limit:
        out["limit"] = sum(a.weight for a in step_gate_atoms(sites) if abs(a.location - slow) < 1e-9)
    return out


#: The band of the predicted largest eigenvalue a figure's points are held to.
EDGE_BAND = 0.9


def _theory_job(job) -> dict:
    return _fixed_point_theory(*job)


def _branch(job) -> list:
    """One network followed along the simulated values by Newton continuation
    of its fixed point (``Panel.continuation``)."""
    panel, overrides, values, N, seed = job
    cell = load_cell(panel.cell)
    start = float(panel.continuation)

    def network(x):
        return make_network(cell, N, seed, cell.resolve(_params(panel, overrides, float(x))))

    def fixed_point(net, state, **options):
        return find_fixed_point(net, state, equations=panel.equations, **options)

    search = network(start)
    origin = fixed_point(search, initial_state(search, seed))
    out = []
    for side in ([v for v in values if v >= start], [v for v in values if v < start][::-1]):
        state, previous = (origin.state if origin.converged else None), start
        for value in side:
            if state is not None:
                steps = max(1, int(math.ceil(abs(value - previous) / CONTINUATION_STEP)))
                for x in np.linspace(previous, value, steps + 1)[1:]:
                    fp = fixed_point(network(x), state, relax_steps=0)
                    if not fp.converged:
                        # A fold of this finite-N branch: relax from here to a
                        # neighbouring non-zero fixed point instead.
                        fp = fixed_point(network(x), state)
                    if not fp.converged or float(np.mean(fp.state**2)) < ZERO_STATE:
                        state = None
                        break
                    state, previous = fp.state, float(x)
            found = state
            if found is None:  # off the branch: the fixed point relaxation finds here
                search = network(value)
                fp = fixed_point(search, initial_state(search, seed))
                found = fp.state if fp.converged else None
            row = {"value": value, "seed": seed, "converged": found is not None}
            if found is not None:
                eig = eigenvalues(network(value), found)
                row.update(_quantity(panel, cell, eig, None))
            out.append(row)
    return out


def _quantity(panel, cell, eig, spec) -> dict:
    out = {}
    if panel.quantity == "spectral_radius":
        out["simulation"] = float(np.max(np.abs(eig)))
    else:
        out["simulation"] = fraction_in_disc(eig, slow_point(cell.time), DELTA)
    if spec is not None and spec.sites is not None:  # plug-in: the prediction from this snapshot
        if panel.quantity == "spectral_radius":
            out.update(_edge(spec.sites, len(eig) // cell.m))
        else:
            out["theory"] = float(slow_mode_fraction(spec.sites, [DELTA])[0])
    return out


def _simulate(job) -> dict:
    """One network: its finite-N quantity (and the plug-in prediction)."""
    panel, overrides, value, N, seed = job
    cell = load_cell(panel.cell)
    params = _params(panel, overrides, value)
    spec = finite_n_spectrum(cell, params, N, seed, panel.route, equations=panel.equations)
    out = {"value": value, "seed": seed, "converged": spec.converged}
    if spec.converged:
        out.update(_quantity(panel, cell, spec.eigenvalues, spec))
    return out


def _summary(panel: Panel, points: list, N: int, m: int) -> list:
    """Mean and standard error over seeds at each simulated value."""
    out = []
    for value in sorted({p["value"] for p in points}):
        here = [p for p in points if p["value"] == value and p["converged"]]
        failed = sum(1 for p in points if p["value"] == value and not p["converged"])
        row = {"value": value, "seeds": len(here), "failed": failed}
        if here:
            sim = np.array([p["simulation"] for p in here])
            row["simulation"] = float(sim.mean())
            if panel.quantity == "slow_fraction":
                row["error"] = share_error(sim, N * m * len(sim))
            else:
                row["error"] = float(sim.std(ddof=1) / math.sqrt(len(sim))) if len(sim) > 1 else 0.0
            for key in ("theory", "low", "high"):
                if key in here[0]:
                    row[key] = float(np.mean([p[key] for p in here]))
        out.append(row)
    return out


def _agreement(panel: Panel, row: dict, N: int) -> tuple:
    """(tolerance, agrees) for one point against its theory value: shares
    within 3 standard errors; the largest ``|eigenvalue|`` (a mean over
    seeds) within its predicted band about the median, or 3 standard errors
    if larger."""
    if "simulation" not in row or not np.isfinite(row.get("theory", np.nan)):
        return float("nan"), None
    if panel.quantity == "slow_fraction":
        tol = SIGMAS * row["error"]
        return tol, bool(abs(row["simulation"] - row["theory"]) <= tol)
    below, above = row["theory"] - row["low"], row["high"] - row["theory"]
    spread = SIGMAS * row["error"]
    tol = max(below, above, spread)
    agrees = row["theory"] - max(below, spread) <= row["simulation"] <= row["theory"] + max(above, spread)
    return tol, bool(agrees)


def make_figure(
    name: str, N: int = 1000, seeds: int = 3, out=None, jobs: int = 1, quick: bool = False, progress=None
) -> dict:
    """Compute one figure's theory curves and finite-N points, plot them.

    Parameters
    ----------
    name : str
        A key of :data:`FIGURES`.
    N, seeds : int
        Network size and number of coupling draws per simulated value.
    out : path, optional
        Write ``out`` (PNG/PDF/SVG) and ``out`` with suffix ``.json``.
    jobs : int
        Processes for the simulations.
    quick : bool
        Theory at the first, middle and last values only, simulations at
        the first and last (a smoke run).
    progress : callable(done, total), optional

    Returns
    -------
    dict
        Everything plotted, with per-point agreement.
    """
    if name not in FIGURES:
        raise GatefieldError(f"unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    if name in LANDSCAPE:  # the fixed-point landscape: its own sizes, no N or seeds
        return make_landscape(name, out=out, jobs=jobs, quick=quick, progress=progress)
    N = _checks.count(N, "N", 2)
    seeds = _checks.count(seeds, "the number of seeds", 1)
    jobs = min(_checks.count(jobs, "jobs", 1), os.cpu_count() or 1)
    if out is not None:
        check_path(out)
    figure = FIGURES[name]
    jobs_list, theory_jobs = [], []
    for k, panel in enumerate(figure.panels):
        sim_values = panel.sim_values if not quick else (panel.sim_values[0], panel.sim_values[-1])
        theory_values = panel.theory_values
        if quick and theory_values:
            theory_values = tuple(
                theory_values[i] for i in sorted({0, len(theory_values) // 2, len(theory_values) - 1})
            )
        for s, (_, overrides) in enumerate(panel.series):
            theory_jobs += [(k, s, v) for v in theory_values]  # at the figure's N
            if panel.continuation is not None:
                jobs_list += [(k, s, (panel, overrides, tuple(sorted(sim_values)), N, seed)) for seed in range(seeds)]
            else:
                jobs_list += [(k, s, (panel, overrides, v, N, seed)) for v in sim_values for seed in range(seeds)]
    total = len(theory_jobs) + len(jobs_list)
    done = 0
    tick = progress or (lambda *a: None)
    tasks: list = [
        (k, s, _theory_job, (figure.panels[k], figure.panels[k].series[s][1], v, N)) for k, s, v in theory_jobs
    ]
    tasks += [(k, s, _simulate if figure.panels[k].continuation is None else _branch, job) for k, s, job in jobs_list]
    theory: dict = {}
    results: dict = {}

    def collect(task, value):
        nonlocal done
        k, s, func, _ = task
        target = (theory if func is _theory_job else results).setdefault((k, s), [])
        target.extend(value) if func is _branch else target.append(value)
        done += 1
        tick(done, total)

    if jobs == 1:
        for task in tasks:
            collect(task, task[2](task[3]))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(task[2], task[3]) for task in tasks]
            for task, future in zip(tasks, futures):
                collect(task, future.result())
    data: dict = {"figure": name, "claim": figure.claim, "N": N, "seeds": seeds, "delta": DELTA, "panels": []}
    for k, panel in enumerate(figure.panels):
        m = load_cell(panel.cell).m
        entry = {
            "title": panel.title,
            "cell": panel.cell,
            "route": panel.route,
            "vary": panel.vary,
            "quantity": panel.quantity,
            "base": panel.base,
            "series": [],
        }
        for s, (label, overrides) in enumerate(panel.series):
            curve = theory.get((k, s), [])
            points = _summary(panel, results.get((k, s), []), N, m)
            for row in points:
                if "theory" not in row and curve:
                    # Fixed-point route: the curve at the simulated value.
                    match = [c for c in curve if abs(c["value"] - row["value"]) < 1e-12]
                    at = match[0] if match else _fixed_point_theory(panel, overrides, row["value"], N)
                    row.update({key: at[key] for key in ("theory", "low", "high") if key in at})
                row["tolerance"], row["agrees"] = _agreement(panel, row, N)
            series: dict = {"label": label, "overrides": overrides, "theory": curve, "points": points}
            if panel.quantity == "spectral_radius" and curve and load_cell(panel.cell).time == "discrete":
                # Where the edge at size N sits on the slow point 1 (marginal stability).
                series["marginal_window"] = marginal_window(
                    [c["value"] for c in curve], [1.0 - c["theory"] for c in curve]
                )
            entry["series"].append(series)
        data["panels"].append(entry)
    if out is not None:
        from ..plot.claims import plot_claim

        plot_claim(figure, data, out)
        Path(out).with_suffix(".json").write_text(dumps(data) + "\n")
    return data


def figure_table(data: dict) -> str:
    """The finite-N points of :func:`make_figure`'s result against theory, as text."""
    if "landscape" in data:
        return landscape_table(data)
    lines = [f"{data['figure']}: {data['claim']}"]
    for panel in data["panels"]:
        lines.append(f"  {panel['cell']}: {panel['title']} ({panel['route']} route, {panel['quantity']})")
        for series in panel["series"]:
            for lo, hi in series.get("marginal_window", []):
                lines.append(
                    f"    {series['label']}: edge on the slow point for {panel['vary']} in "
                    f"[{lo:g}, {hi:g}] (theory grid)".replace("    : ", "    ")
                )
            for row in series["points"]:
                where = f"{series['label']} {panel['vary']} = {row['value']:g}".strip()
                if "simulation" not in row:
                    lines.append(f"    {where}: no fixed point found in {row['failed']} network(s)")
                    continue
                verdict = {True: "agrees", False: "DISAGREES", None: "no theory"}[row["agrees"]]
                lines.append(
                    f"    {where}: theory {row['theory']:.4f}, N = {data['N']}: "
                    f"{row['simulation']:.4f} +- {row['error']:.4f} over {row['seeds']} "
                    f"network(s) ({verdict}, tolerance {row['tolerance']:.4f})"
                )
    return "\n".join(lines)
