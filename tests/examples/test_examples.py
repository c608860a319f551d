"""Each recipe in ``examples/`` runs at a small size and gives sensible numbers.

The examples are scripts, not a package, so they are imported by path. N = 200
keeps each run to a few seconds; the tolerances below are the ones the
recipes themselves state, widened for that N where the comment says so.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
N = 200
PNG = b"\x89PNG\r\n\x1a\n"
#: Fraction of finite-N eigenvalues outside the limiting support: edge
#: eigenvalues spill over by O(N^-1/2), about 1/sqrt(2 pi N) = 2.8% of a
#: Ginibre spectrum at N = 200 (validate()'s outside_tolerance asks for 1.5
#: times that spill, at least 1%: 4.2% at N = 200).
OUTSIDE_MAX = 0.05


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["gru_chaos", "lstm_slow_modes", "custom_cell"])
def test_example_is_a_recipe(name):
    # STYLE.md example 12: docstring with the command, the section comments
    # in order, and a main() with a size argument.
    source = (EXAMPLES / f"{name}.py").read_text()
    module = load(name)
    assert f"python examples/{name}.py" in module.__doc__
    assert "Runtime" in module.__doc__
    sections = ["# Parameters", "# Theory", "# Numerics", "# Simulation", "# Compare", "# Plot"]
    positions = [source.index(s) for s in sections]
    assert positions == sorted(positions)
    assert 'if __name__ == "__main__":' in source


@pytest.mark.slow
def test_gru_chaos(tmp_path):
    r = load("gru_chaos").main(N=N, out=tmp_path)
    assert r["figure"].read_bytes()[:8] == PNG
    # q = 0 and one q > 0, neither stable: the network is chaotic.
    assert len(r["solutions"]) == 2
    assert r["solutions"][0] == 0.0 and r["solutions"][1] > 0.05
    assert r["stable"] == [False, False]
    assert r["fixed_point_radius"] > 1.0
    # The snapshot's largest eigenvalue inside its predicted 99% band.
    low, high = r["edge_band"]
    assert low <= r["max_abs_eigenvalue"] <= high
    assert r["outside_fraction"] < OUTSIDE_MAX


@pytest.mark.slow
def test_lstm_slow_modes(tmp_path):
    r = load("lstm_slow_modes").main(N=N, out=tmp_path)
    assert r["figure"].read_bytes()[:8] == PNG
    assert r["stable"] is True
    # The bulk (disc and lens) stays inside the unit disc; the forget gate's
    # whisker reaches 1 only in the limit of a shut gate.
    assert 0.9 < r["bulk_radius"] < 1.0
    assert r["spectral_radius"] == pytest.approx(1.0, abs=1e-9)
    # The lens of slow modes sits just below 1 (f = sigmoid(3 + eta_f) ~ 0.95).
    low, high = r["lens"]
    assert 0.8 < low < high < 1.0
    assert high > 0.95
    assert r["converged"] is True
    assert r["max_abs_eigenvalue"] < 1.0
    # Each unit's own 2 x 2 block has eigenvalues f and 0: half of the 2N
    # eigenvalues are slow modes. 2% allows a few that stray into the bulk.
    assert r["slow_fraction"] == pytest.approx(0.5, abs=0.02)
    assert r["outside_fraction"] < OUTSIDE_MAX
    # <h^2> at one fixed point: sampling error of a mean of N squares,
    # 3 q sqrt(2/N), validate()'s rule for fewer than 3 seeds (q_tolerance).
    assert abs(r["simulated_q"] - r["q"]) <= 3 * r["q"] * math.sqrt(2.0 / N)


def test_custom_cell(tmp_path):
    r = load("custom_cell").main(N=N, out=tmp_path)
    assert r["figure"].read_bytes()[:8] == PNG
    assert (tmp_path / "mgu.toml").is_file()
    assert "\\begin{document}" in r["tex"].read_text()
    # The derived fixed point, read off h* = h_tilde.
    assert r["fixed_point"] == {"h": "tanh(beta_h + eta_h*g_h)"}
    assert len(r["solutions"]) == 1 and r["stable"] == [True]
    q = r["solutions"][0]
    # q_h = E[f^2 h*^2] < E[h*^2] = q_f since 0 < f < 1.
    assert 0 < q["J_h"] < q["J_f"] < 1
    # The bulk inside the unit disc; the whisker of units whose gate f shuts
    # (own eigenvalue 1 - f) reaches 1 in the limit, which no unit attains.
    assert 0 < r["bulk_radius"] < 1
    assert r["spectral_radius"] == pytest.approx(1.0, abs=1e-9)
    checks = r["checks"]
    assert checks["stable: each seed's fixed point is stable"]
    assert checks["q[J_f]"] and checks["q[J_h]"]
    assert checks["largest |eigenvalue| (fixed-point)"]
    assert r["outside_fraction"] < OUTSIDE_MAX


@pytest.mark.slow
def test_lyapunov_rate(tmp_path):
    # Small sizes: the theory at two gains, QR at g = 0.5 only. Below g = 1
    # the state is x = 0 and the exponent is g - 1 exactly in theory; the
    # finite-N one is max Re eig(-1 + g J), whose edge sits O(N^-1/2) off
    # -1 + g (0.1 covers N = 100 with margin).
    r = load("lyapunov_rate").main(N=100, seeds=2, out=tmp_path / "l.png", steps=400, gains=(0.5,), curve=(0.5, 2.0))
    assert (tmp_path / "l.png").read_bytes()[:8] == PNG
    assert r["theory"][0] == pytest.approx(-0.5, abs=1e-9)
    assert r["theory"][1] > 0.05  # chaotic at g = 2
    ((g, mean, _),) = r["points"]
    assert abs(mean - (g - 1)) < 0.1


@pytest.mark.slow
def test_lyapunov_finite_size(tmp_path):
    # Small sizes and short runs: the figure is drawn and the numbers are the
    # scan's. The DMFT exponent at g = 2 is 0.1125 (test_dmft_fourier). Small
    # networks sit well under it (N = 250: 0.056 measured over 300 time
    # units), and some N = 100-200 networks fall onto limit cycles (exponent
    # 0), so only the larger size is asked to be chaotic.
    r = load("lyapunov_finite_size").main(sizes=(200, 400), seeds=3, out=tmp_path / "s.png", steps=2000)
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG
    assert r["theory"] == pytest.approx(0.1125, abs=1e-3)
    assert r["scan"]["sizes"] == [200, 400]
    assert all(lam < r["theory"] for lam in r["scan"]["exponents"])
    assert r["scan"]["exponents"][1] > 3 * r["scan"]["errors"][1]
