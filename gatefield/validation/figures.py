"""The founding papers' spectral claims as figures: theory curves over
finite-N points (mean and standard error over seeds).

Each figure is a list of panels; a panel varies one parameter of a built-in
cell and plots one spectral quantity on one route:

- **fixed-point** route: the theory curve comes from the mean-field fixed
  point alone; the finite-N points from networks relaxed to a fixed point.
- **plug-in** route (chaotic states): the prediction needs one simulated
  snapshot per network, so theory and simulation are both drawn at the
  simulated parameter values (theory: mean over the seeds' snapshots).

Quantities: ``slow_fraction`` (share of eigenvalues within ``delta`` of the
slow point; theory by the contour integral of ``g``) and ``spectral_radius``
(theory: the support's radius; finite N: the largest ``|lambda|``, which
sits ``O(sqrt(log N / N))`` off the edge). Agreement is judged per point:
within 3 standard errors for shares (the largest of the seed scatter, the
binomial error and one eigenvalue's share), and within the edge-fluctuation scale ``2 r sqrt(log N
/ N)`` (the tolerance of :func:`~gatefield.validation.compare.validate`)
for radii.

Run ``gatefield figure NAME``; ``gatefield figure --list`` names them.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cells import load_cell
from ..errors import GatefieldError
from ..numerics.codegen import compile_cell
from ..numerics.meanfield import solve_mean_field
from ..numerics.resolvent import count_inside
from ..numerics.spectral import marginal_window, slow_mode_sites, slow_point, step_gate_atoms
from ..numerics.support import trace_support
from . import simulate
from .spectra import binomial_error, finite_n_spectrum, fraction_in_disc

__all__ = ["Panel", "Figure", "FIGURES", "make_figure", "figure_table", "example_arguments"]

#: Radius about the slow point within which a mode counts as slow.
DELTA = 0.1
#: Fixed points of a GRU do not depend on its update gate (``h* =
#: h_tilde``); with the gate at a constant 0.12 the map is a damped
#: iteration that also reaches fixed points that are unstable at the target
#: gate setting (as long as the continuous-time flow is stable there).
GRU_RELAX = {"alpha_z": 0.0, "beta_z": -2.0}
#: Largest parameter step of the Newton continuation of a fixed-point branch.
CONTINUATION_STEP = 0.05
#: A fixed point with a mean squared state below this is the zero one.
ZERO_STATE = 1e-10


@dataclass(frozen=True)
class Panel:
    """One panel: ``quantity`` of ``cell`` against parameter ``vary``.

    Attributes
    ----------
    series : tuple of (label, overrides)
        Each series is a theory curve (and its points), the overrides added
        to ``base``.
    theory_values, sim_values : tuples
        Where the theory curve is evaluated (fixed-point route) and where
        networks are simulated.
    relax : dict
        Fixed-point route: overrides used only to *find* fixed points (see
        :data:`GRU_RELAX`).
    continuation : float or None
        Fixed-point route: find the fixed point at this value by relaxation,
        then follow that branch to the simulated values on either side by
        Newton's method in steps of ``CONTINUATION_STEP`` (for fixed points
        that no relaxation reaches; start where relaxation finds the branch
        the mean field describes, not the zero fixed point). Where a finite-N
        branch folds, relaxation from the last state finds a neighbouring
        non-zero fixed point; reaching the zero one ends the branch, and
        values beyond get the fixed point plain relaxation finds there.
    limit : bool
        Also draw the step-gate (large-gain) atom weight at the slow point.
    """

    title: str
    cell: str
    base: dict
    vary: str
    quantity: str
    route: str
    theory_values: tuple
    sim_values: tuple
    series: tuple = (("", {}),)
    relax: dict = field(default_factory=dict)
    limit: bool = False
    continuation: float | None = None


@dataclass(frozen=True)
class Figure:
    name: str
    claim: str
    panels: tuple


def _geom(a, b, n):
    return tuple(float(v) for v in np.geomspace(a, b, n))


def _lin(a, b, n):
    return tuple(float(v) for v in np.linspace(a, b, n))


GRU_FP = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
LSTM_FP = {"g_g": 1.0, "beta_g": 1.0}

FIGURES = {
    f.name: f
    for f in (
        Figure(
            "gru-update-slow-modes",
            "the GRU update gate piles up slow modes (eigenvalues near 1) as its gain grows; in the "
            "large-gain limit the closed units form an atom at 1",
            (
                Panel(
                    "fixed point (g_h=1.6, alpha_r=2, beta_h=0.4)",
                    "gru",
                    GRU_FP,
                    "alpha_z",
                    "slow_fraction",
                    "fixed-point",
                    _geom(0.5, 24, 14),
                    (1.0, 2.0, 4.0, 8.0, 16.0),
                    relax=GRU_RELAX,
                    limit=True,
                ),
                Panel(
                    "chaotic state (g_h=3), plug-in",
                    "gru",
                    {"g_h": 3.0},
                    "alpha_z",
                    "slow_fraction",
                    "plug-in",
                    (),
                    (1.0, 2.0, 4.0, 8.0, 16.0),
                ),
            ),
        ),
        Figure(
            "gru-marginal-stability",
            "a large update-gate gain pins the edge of the spectrum at the slow point 1 (marginal "
            "stability) for candidate gains in a window, and not outside it",
            (
                Panel(
                    "fixed point of largest q",
                    "gru",
                    {},
                    "g_h",
                    "spectral_radius",
                    "fixed-point",
                    _lin(1.0, 4.0, 25),
                    (1.5, 3.0, 3.25, 3.5),
                    series=(("alpha_z = 1", {"alpha_z": 1.0}), ("alpha_z = 16", {"alpha_z": 16.0})),
                    relax=GRU_RELAX,
                    continuation=3.0,
                ),
            ),
        ),
        Figure(
            "gru-reset-radius",
            "the GRU reset gate sets the spectral radius",
            (
                Panel(
                    "fixed point of largest q (g_h=2.5)",
                    "gru",
                    {"g_h": 2.5},
                    "beta_r",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 17),
                    (-2.0, -1.5, -1.0, -0.75),
                    relax=GRU_RELAX,
                ),
                Panel(
                    "chaotic state (g_h=3), plug-in",
                    "gru",
                    {"g_h": 3.0},
                    "beta_r",
                    "spectral_radius",
                    "plug-in",
                    (),
                    (-1.0, 0.0, 1.0, 2.0, 3.0),
                ),
            ),
        ),
        Figure(
            "lstm-forget-slow-modes",
            "the LSTM forget gate piles up slow modes (eigenvalues near 1) as its bias grows",
            (
                Panel(
                    "fixed point (g_g=1, beta_g=1)",
                    "lstm",
                    LSTM_FP,
                    "beta_f",
                    "slow_fraction",
                    "fixed-point",
                    _lin(0.0, 5.0, 11),
                    (0.0, 1.0, 2.0, 3.0, 4.0),
                    limit=True,
                ),
                Panel(
                    "chaotic state (g_g=3), plug-in",
                    "lstm",
                    {"g_g": 3.0},
                    "beta_f",
                    "slow_fraction",
                    "plug-in",
                    (),
                    (0.0, 1.0, 2.0, 3.0, 4.0),
                ),
            ),
        ),
        Figure(
            "lstm-io-radius",
            "the LSTM input and output gates set the spectral radius",
            (
                Panel(
                    "fixed point (g_g=1, beta_g=1): input gate",
                    "lstm",
                    LSTM_FP,
                    "beta_i",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 9),
                    (-2.0, 0.0, 2.0),
                ),
                Panel(
                    "fixed point (g_g=1, beta_g=1): output gate",
                    "lstm",
                    LSTM_FP,
                    "beta_o",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 9),
                    (-2.0, 0.0, 2.0),
                ),
                Panel(
                    "chaotic state (g_g=3), plug-in: input and output gates",
                    "lstm",
                    {"g_g": 3.0},
                    "bias",
                    "spectral_radius",
                    "plug-in",
                    (),
                    (-2.0, 0.0, 2.0),
                    series=(("beta_i", {"vary": "beta_i"}), ("beta_o", {"vary": "beta_o"})),
                ),
            ),
        ),
    )
}


def _vary_name(panel: Panel, overrides: dict) -> str:
    return overrides.get("vary", panel.vary)


def _params(panel: Panel, overrides: dict, value: float) -> dict:
    extra = {k: v for k, v in overrides.items() if k != "vary"}
    return {**panel.base, **extra, _vary_name(panel, overrides): value}


def _fixed_point_theory(panel: Panel, overrides: dict, value: float) -> dict:
    """Theory at one parameter value on the fixed-point route (largest-q solution)."""
    cell = load_cell(panel.cell)
    result = solve_mean_field(cell, _params(panel, overrides, value))
    if not result.solutions:
        return {"value": value, "theory": float("nan")}
    chosen = result.solutions[-1]
    out = {"value": value, "stable": bool(chosen.stable)}
    if panel.quantity == "spectral_radius":
        out["theory"] = chosen.support.spectral_radius
    else:
        sites = slow_mode_sites(cell, compile_cell(cell), result.parameters, chosen.node_variances)
        out["theory"] = count_inside(sites, slow_point(cell.time), DELTA)
    if panel.limit:
        atoms = step_gate_atoms(cell, result.parameters, chosen.node_variances)
        out["limit"] = sum(a.weight for a in atoms if abs(a.location - slow_point(cell.time)) < 1e-9)
    return out


def _theory_job(job) -> dict:
    return _fixed_point_theory(*job)


def _branch(job) -> list:
    """One network followed along the simulated values by Newton continuation
    of its fixed point (``Panel.continuation``)."""
    panel, overrides, values, N, seed = job
    cell = load_cell(panel.cell)
    start = float(panel.continuation)

    def network(x, relax=True):
        params = cell.resolve(_params(panel, overrides, float(x)))
        return simulate.make_network(cell, N, seed, {**params, **panel.relax} if relax else params)

    search = network(start)
    origin = simulate.find_fixed_point(search, simulate.initial_state(search, seed))
    out = []
    for side in ([v for v in values if v >= start], [v for v in values if v < start][::-1]):
        state, previous = (origin.state if origin.converged else None), start
        for value in side:
            if state is not None:
                steps = max(1, int(math.ceil(abs(value - previous) / CONTINUATION_STEP)))
                for x in np.linspace(previous, value, steps + 1)[1:]:
                    fp = simulate.find_fixed_point(network(x), state, relax_steps=0)
                    if not fp.converged:
                        # A fold of this finite-N branch: relax from here to a
                        # neighbouring non-zero fixed point instead.
                        fp = simulate.find_fixed_point(network(x), state)
                    if not fp.converged or float(np.mean(fp.state**2)) < ZERO_STATE:
                        state = None
                        break
                    state, previous = fp.state, float(x)
            found = state
            if found is None:  # off the branch: the fixed point relaxation finds here
                search = network(value)
                fp = simulate.find_fixed_point(search, simulate.initial_state(search, seed))
                found = fp.state if fp.converged else None
            row = {"value": value, "seed": seed, "converged": found is not None}
            if found is not None:
                eig = np.linalg.eigvals(simulate.jacobian(network(value, relax=False), found))
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
            out["theory"] = trace_support(spec.table, cell.time).spectral_radius
        else:
            out["theory"] = count_inside(spec.sites, slow_point(cell.time), DELTA)
    return out


def _simulate(job) -> dict:
    """One network: its finite-N quantity (and the plug-in prediction)."""
    panel, overrides, value, N, seed = job
    cell = load_cell(panel.cell)
    params = _params(panel, overrides, value)
    spec = finite_n_spectrum(cell, params, N, seed, panel.route, relax=panel.relax or None)
    out = {"value": value, "seed": seed, "converged": spec.converged}
    if spec.converged:
        out.update(_quantity(panel, cell, spec.eigenvalues, spec))
    return out


def _summary(panel: Panel, points: list, N: int, m: int) -> dict:
    """Mean and standard error over seeds at each simulated value."""
    out = []
    for value in sorted({p["value"] for p in points}):
        here = [p for p in points if p["value"] == value and p["converged"]]
        failed = sum(1 for p in points if p["value"] == value and not p["converged"])
        row = {"value": value, "seeds": len(here), "failed": failed}
        if here:
            sim = np.array([p["simulation"] for p in here])
            row["simulation"] = float(sim.mean())
            scatter = float(sim.std(ddof=1) / math.sqrt(len(sim))) if len(sim) > 1 else 0.0
            if panel.quantity == "slow_fraction":
                # A share of n eigenvalues resolves 1/n: the error is never
                # taken below one eigenvalue (the binomial error of 0 is 0).
                n = N * m * len(sim)
                row["error"] = max(scatter, binomial_error(row["simulation"], n), 1.0 / n)
            else:
                row["error"] = scatter
            if "theory" in here[0]:
                row["theory"] = float(np.mean([p["theory"] for p in here]))
        out.append(row)
    return out


def _agreement(panel: Panel, row: dict, N: int) -> tuple:
    """(tolerance, agrees) for one point against its theory value."""
    if "simulation" not in row or not np.isfinite(row.get("theory", np.nan)):
        return float("nan"), None
    if panel.quantity == "slow_fraction":
        tol = 3 * row["error"]
    else:
        tol = max(2 * row["theory"] * math.sqrt(math.log(N) / N), 3 * row["error"])
    return tol, bool(abs(row["simulation"] - row["theory"]) <= tol)


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
    if N < 2 or seeds < 1 or jobs < 1:
        raise GatefieldError("N must be at least 2, and seeds and jobs at least 1")
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
            theory_jobs += [(k, s, v) for v in theory_values]
            if panel.continuation is not None:
                jobs_list += [
                    (k, s, (panel, overrides, tuple(sorted(sim_values)), N, seed)) for seed in range(seeds)
                ]
            else:
                jobs_list += [
                    (k, s, (panel, overrides, v, N, seed)) for v in sim_values for seed in range(seeds)
                ]
    total = len(theory_jobs) + len(jobs_list)
    done = 0
    tick = progress or (lambda *a: None)
    tasks = [
        (k, s, _theory_job, (figure.panels[k], figure.panels[k].series[s][1], v)) for k, s, v in theory_jobs
    ]
    tasks += [
        (k, s, _simulate if figure.panels[k].continuation is None else _branch, job)
        for k, s, job in jobs_list
    ]
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
    data = {"figure": name, "claim": figure.claim, "N": N, "seeds": seeds, "delta": DELTA, "panels": []}
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
                    row["theory"] = (
                        match[0]["theory"]
                        if match
                        else _fixed_point_theory(panel, overrides, row["value"])["theory"]
                    )
                row["tolerance"], row["agrees"] = _agreement(panel, row, N)
            series = {"label": label, "overrides": overrides, "theory": curve, "points": points}
            if panel.quantity == "spectral_radius" and curve and load_cell(panel.cell).time == "discrete":
                # Where the edge sits on the slow point 1 (marginal stability).
                series["marginal_window"] = marginal_window(
                    [c["value"] for c in curve], [1.0 - c["theory"] for c in curve]
                )
            entry["series"].append(series)
        data["panels"].append(entry)
    if out is not None:
        _plot(figure, data, Path(out))
        Path(out).with_suffix(".json").write_text(json.dumps(_json_safe(data), indent=2) + "\n")
    return data


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


LABELS = {
    "slow_fraction": f"share of eigenvalues within {DELTA} of the slow point",
    "spectral_radius": "spectral radius",
}


def _plot(figure: Figure, data: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(data["panels"])
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.9), squeeze=False)
    for ax, entry in zip(axes[0], data["panels"]):
        for s, series in enumerate(entry["series"]):
            color = f"C{s}"
            label = series["label"]
            curve = series["theory"]
            if curve:
                x = [c["value"] for c in curve]
                ax.plot(x, [c["theory"] for c in curve], "-", color=color, label=f"theory {label}".strip())
                for k, (lo, hi) in enumerate(series.get("marginal_window", [])):
                    ax.axvspan(
                        lo,
                        hi,
                        color=color,
                        alpha=0.12,
                        lw=0,
                        label=None if k else f"marginal: radius within 1e-3 of 1 {label}".strip(),
                    )
                if any("limit" in c for c in curve):
                    ax.plot(
                        x,
                        [c.get("limit", np.nan) for c in curve],
                        ":",
                        color=color,
                        label="step-gate limit (atom at the slow point)",
                    )
            pts = [p for p in series["points"] if "simulation" in p]
            if pts:
                xs = [p["value"] for p in pts]
                if not curve:  # plug-in: theory from each snapshot, at the simulated values
                    ax.plot(
                        xs,
                        [p["theory"] for p in pts],
                        "s-",
                        color=color,
                        mfc="none",
                        label=f"theory {label} (plug-in)".strip(),
                    )
                ax.errorbar(
                    xs,
                    [p["simulation"] for p in pts],
                    yerr=[p["error"] for p in pts],
                    fmt="o",
                    color=color,
                    ms=4,
                    capsize=3,
                    label=f"N = {data['N']} {label}".strip(),
                )
        if entry["quantity"] == "spectral_radius":
            ax.axhline(1.0, ls="--", color="0.5", lw=0.8)
        if entry["vary"] == "alpha_z":
            ax.set_xscale("log")
        ax.set_xlabel(entry["vary"])
        ax.set_ylabel(LABELS[entry["quantity"]], fontsize=8)
        ax.set_title(f"{entry['cell']}: {entry['title']}", fontsize=8)
        ax.legend(fontsize=6.5, loc="best")
    import textwrap

    fig.suptitle("\n".join(textwrap.wrap(f"{figure.name}: {figure.claim}", 60 * n)), fontsize=8.5)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def figure_table(data: dict) -> str:
    """The finite-N points of :func:`make_figure`'s result against theory, as text."""
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


def example_arguments(doc: str, out: str, argv=None) -> dict:
    """The command-line arguments of a figure's example script, as ``main``'s keywords."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--N", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=out)
    return vars(parser.parse_args(argv))
