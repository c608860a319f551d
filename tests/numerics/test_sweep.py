"""Sweeps of spectral quantities over one and two parameters."""

import json

import numpy as np
import pytest
from helpers import RADIUS_RTOL

from gatefield.cells import gru, vanilla
from gatefield.cli import main
from gatefield.errors import GatefieldError
from gatefield.numerics.sweep import sweep


def test_vanilla_zero_solution_radius_is_the_gain():
    # beta = 0, g < 1: the only solution is q = 0, whose support is the disc |lam| <= g
    # (closed form, THEORY section 8); bisection makes the radius exact to RADIUS_RTOL.
    g = np.array([0.3, 0.6, 0.9])
    result = sweep(vanilla(), {"g": g}, ["spectral_radius", "stable", "solutions"], choice="last")
    np.testing.assert_allclose(result.values["spectral_radius"], g, rtol=RADIUS_RTOL, atol=0)
    np.testing.assert_array_equal(result.values["stable"], [1, 1, 1])
    np.testing.assert_array_equal(result.values["solutions"], [1, 1, 1])


@pytest.mark.slow
def test_continuation_keeps_the_branch():
    # Regression: a continuation start reached the root with the cheap rule, the
    # accurate polish reported "no progress" and the root was dropped (nan at
    # alpha_r = 2). Every point of this stable branch must have a solution.
    result = sweep(
        gru(),
        {"alpha_r": np.linspace(0.5, 3.0, 6)},
        ["q_total", "stable"],
        parameters={"g_h": 1.6, "beta_h": 0.4},
    )
    assert np.all(np.isfinite(result.values["q_total"]))
    np.testing.assert_array_equal(result.values["stable"], np.ones(6))
    # The reset gate's gain raises q: r^2 h^2 grows with alpha_r at this bias.
    assert np.all(np.diff(result.values["q_total"]) > 0)


def test_two_parameter_grid_shape_and_progress():
    ticks = []
    result = sweep(
        vanilla(),
        {"g": [0.5, 1.5], "beta": [0.0, 0.2, 0.4]},
        ["q_total"],
        progress=lambda done, total: ticks.append((done, total)),
    )
    assert result.values["q_total"].shape == (2, 3)
    assert ticks[-1] == (6, 6)
    # g = 0.5, beta = 0: only q = 0; any bias makes q > 0.
    assert result.values["q_total"][0, 0] == 0.0
    assert np.all(result.values["q_total"][:, 1:] > 0)


@pytest.mark.parametrize(
    "vary, quantities",
    [
        ({"g": [1.0]}, ["bogus"]),
        ({}, ["spectral_radius"]),
        ({"nope": [1.0]}, ["spectral_radius"]),
    ],
)
def test_bad_sweeps_are_refused(vary, quantities):
    with pytest.raises(GatefieldError):
        sweep(vanilla(), vary, quantities)


def test_cli_sweep_json_and_plot(tmp_path, capsys):
    figure = tmp_path / "sweep.png"
    code = main(
        [
            "sweep",
            "vanilla",
            "--vary",
            "g",
            "0.5",
            "0.9",
            "3",
            "--quantity",
            "spectral_radius",
            "--json",
            "--plot",
            str(figure),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"] == ["g"] and data["shape"] == [3]
    np.testing.assert_allclose(data["values"]["spectral_radius"], [0.5, 0.7, 0.9], rtol=RADIUS_RTOL)
    assert figure.stat().st_size > 0


def test_cli_sweep_errors_are_one_line(capsys):
    assert main(["sweep", "vanilla", "--vary", "g", "0", "1", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatefield: error:") and err.count("\n") == 1
