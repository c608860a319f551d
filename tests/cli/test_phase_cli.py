"""``gatefield phase``: output contracts and one-line errors."""

from __future__ import annotations

import json

import pytest

from gatefield import cli


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _reject_constant(name):
    raise ValueError(f"invalid JSON constant {name}")


def test_phase_json_is_valid_and_complete(capsys, tmp_path):
    figure = tmp_path / "phase.png"
    code, out, err = _run(
        capsys,
        "phase", "gru", "--vary", "g_h", "1", "3", "4", "--vary", "beta_r", "0", "1", "2",
        "--no-complexity", "--fresh", "1", "--edges", "0", "--json", "--plot", figure,
    )  # fmt: skip
    assert code == 0
    data = json.loads(out, parse_constant=_reject_constant)  # no NaN / Infinity tokens
    assert data["parameters"] == ["g_h", "beta_r"] and data["shape"] == [4, 2]
    assert set(data["maps"]) >= {"region", "best_margin", "zero_margin", "sigma", "nonzero_roots"}
    assert len(data["maps"]["region"]) == 4 and len(data["maps"]["region"][0]) == 2
    assert data["regions"]["3"] == "chaos (no stable FP)"
    assert data["lines"]["zero_stability"]
    assert figure.stat().st_size > 0
    assert "phase" in err  # progress goes to stderr


def test_phase_slow_modes_and_tricritical(capsys):
    code, out, _ = _run(
        capsys,
        "phase", "gru", "--vary", "g_h", "1.8", "2.2", "3", "--vary", "alpha_r", "2", "3.6", "3",
        "--no-complexity", "--fresh", "1", "--edges", "0", "--slow-modes", "0.1", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out, parse_constant=_reject_constant)
    assert set(data["maps"]) >= {"slow_share", "marginal"} and data["settings"]["slow_delta"] == 0.1
    ((g, alpha),) = data["tricritical"]  # the GRU's at 2 sqrt(2) (tests/numerics/test_phase.py)
    assert g == pytest.approx(2.0, abs=1e-4) and alpha == pytest.approx(2.8284, abs=1e-3)
    code, out, _ = _run(
        capsys,
        "phase", "gru", "--vary", "g_h", "1.8", "2.2", "3", "--vary", "alpha_r", "2", "3.6", "3",
        "--no-complexity", "--fresh", "1", "--edges", "0", "--slow-modes", "0.1",
    )  # fmt: skip
    assert code == 0 and "tricritical point" in out and "slow share" in out


def test_phase_text_toml_cell(capsys):
    code, out, _ = _run(
        capsys,
        "phase", "tests/data/gated_rate.toml", "--vary", "g_x", "1.5", "3", "3", "--vary", "alpha_f", "0", "4", "2",
        "--fresh", "1", "--edges", "0", "--no-complexity",
    )  # fmt: skip
    assert code == 0
    assert out.startswith("gated_rate: phase diagram over g_x x alpha_f (3 x 2 points)")
    assert "stable zero FP: 33.3% of the grid" in out  # g_x = 1.5 of 1.5, 2.25, 3 (the zero FP: g_x < 2)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["phase", "gru", "--vary", "g_h", "1", "2", "3"], "exactly twice"),
        (["phase", "gru", "--vary", "g_h", "1", "2", "3", "--vary", "g_h", "0", "1", "3"], "given twice"),
        (["phase", "gru", "--vary", "g_h", "1", "2", "3", "--vary", "nope", "0", "1", "3"], "no parameter 'nope'"),
        (["phase", "gru", "--vary", "g_h", "1", "2", "1", "--vary", "alpha_r", "0", "1", "3"], "NUM >= 2"),
        (["phase", "gru", "--vary", "g_h", "a", "2", "3", "--vary", "alpha_r", "0", "1", "3"], "must be numbers"),
        (["phase", "gru", "--vary", "g_h", "1", "2", "200", "--vary", "alpha_r", "0", "1", "200"], "more than"),
        (["phase", "gru", "--vary", "g_h", "1", "2", "3", "--vary", "alpha_r", "0", "1", "3", "--jobs", "999"], "core"),
        (
            ["phase", "gru", "--vary", "g_h", "1", "2", "3", "--vary", "alpha_r", "0", "1", "3", "--plot", "x.txt"],
            "png",
        ),
        (
            ["phase", "gru", "--vary", "g_h", "1", "2", "3", "--vary", "alpha_r", "0", "1", "3", "--fresh", "0"],
            "positive",
        ),
    ],
)
def test_phase_bad_input_is_one_line_exit_2(capsys, argv, fragment):
    code, out, err = _run(capsys, *argv) if "--fresh" not in argv else (None, "", "")
    if "--fresh" in argv:  # an argparse error exits through SystemExit(2)
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        code, err = info.value.code, capsys.readouterr().err
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err


@pytest.mark.slow
def test_phase_finite_n_points_in_json(capsys):
    code, out, _ = _run(
        capsys,
        "phase", "gru", "--vary", "g_h", "1", "3", "4", "--vary", "beta_r", "0", "0.5", "2", "--no-complexity",
        "--fresh", "1", "--edges", "0", "--finite-N", "5", "--finite-points", "2", "--seeds", "1", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out, parse_constant=_reject_constant)
    rows = [c for c in data["checks"] if c["kind"] == "finite-N"]
    assert len(rows) == 2 and all(r["N"] == 5 and r["mean_count"] >= 1 for r in rows)
    assert {r["label"] for r in rows} == {"stable zero FP", "chaos (no stable FP)"}
