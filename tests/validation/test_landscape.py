"""The fixed-point landscape's figures are listed with the others, and
finite-N points over a phase diagram say whether they agree with it."""

from __future__ import annotations

import math

import numpy as np

from gatefield.cells import load_cell
from gatefield.numerics.phase import phase_diagram
from gatefield.validation import FIGURES
from gatefield.validation.landscape import LANDSCAPE, _onset_of, finite_n_points, landscape_table


def test_landscape_figures_are_listed_with_the_spectral_ones():
    for name in ("reset-gate-complexity", "gru-phase-diagram", "complexity-without-chaos", "finite-n-counts"):
        assert FIGURES[name] is LANDSCAPE[name]
        assert len(FIGURES[name].claim) > 40


def test_onset_of_a_curve_is_the_start_of_its_positive_tail():
    curve = {"g_h": [3.0, 2.5, 2.0, 1.5], "sigma_saddle": [0.2, 0.1, -0.01, None]}
    curve["sigma_saddle"][3] = float("nan")
    assert _onset_of(curve) == 2.5


def test_finite_n_points_over_a_diagram():
    cell = load_cell("gru")
    d = phase_diagram(
        cell, {"g_h": np.linspace(1.0, 3.0, 5), "beta_r": np.array([0.0, 0.5])}, fresh=1, complexity=False, edges=0
    )
    rows = finite_n_points(cell, d, N=6, points=2, seeds=1)
    assert len(rows) == 2
    labels = {r["label"] for r in rows}
    assert labels == {"stable zero FP", "chaos (no stable FP)"}  # one each side of the chaos line
    for r in rows:
        assert r["mean_count"] >= 1 and math.isfinite(r["lyapunov"])
        assert math.isnan(r["theory_count"])  # complexity left out: no theory count
    stable = next(r for r in rows if r["label"] == "stable zero FP")
    assert stable["stable_share"] == 1.0 and stable["lyapunov"] < 0 and stable["agrees"]
    text = landscape_table({"figure": "x", "claim": "y", "counts": {"points": []}})
    assert text.startswith("x: y")
