"""``gatefield complexity`` and ``gatefield fixed-points``: output contracts and errors."""

from __future__ import annotations

import json

import pytest

from gatefield import cli


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_complexity_json_contract(capsys):
    code, out, _ = _run(capsys, "complexity", "rate", "--set", "g=2", "--json")
    assert code == 0
    data = json.loads(out)
    # KAC-RICE.md table, g = 2: Sigma = 0.0248251 (1e-6, the tolerance).
    assert data["sigma"] == pytest.approx(0.0248251, abs=1e-6)
    assert data["zero_fixed_point"] is True
    (saddle,) = data["saddles"]
    assert set(saddle) >= {"sigma", "order_parameters", "multipliers", "a", "b", "residual", "quadrature_error"}
    assert data["typical_lower_bound"][0]["sigma"] < data["sigma"]


def test_complexity_text(capsys):
    code, out, _ = _run(capsys, "complexity", "rate", "--set", "g=0.8")
    assert code == 0
    assert out.startswith("rate: Sigma = 0 (at least 1: eta = 0 is a fixed point); 0 saddle(s)")


def test_fixed_points_json(capsys):
    code, out, _ = _run(
        capsys, "fixed-points", "rate", "--set", "g=3", "--N", "6", "--seeds", "2", "--starts", "200", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["N"] == 6 and len(data["networks"]) == 2
    for row in data["networks"]:
        assert row["count"] == len(row["index"]) == len(row["stable"]) >= 1
        assert row["state_residual"] < 1e-8


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["complexity", "rate", "--onset", "gain", "0", "2"], "no parameter 'gain'"),
        (["complexity", "rate", "--onset", "g", "x", "2"], "--onset expects"),
        (["complexity", "rate", "--onset", "g", "2", "1"], "lo < hi"),
    ],
)
def test_user_errors_are_one_line_exit_2(capsys, argv, fragment):
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gatefield: error:") and fragment in err
