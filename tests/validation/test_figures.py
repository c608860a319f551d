"""The paper-claim figures (gatefield.validation.claims and .runner).

The default tests run the figure machinery on a cheap panel with a closed
form (the vanilla map's zero fixed point: a disc of radius g, so the radius
is g and no eigenvalue is near the slow point); the five real figures run at
N = 400 under ``--run-long`` (minutes each) and must agree point by point.
"""

from __future__ import annotations

import json

import pytest

from gatefield.errors import GatefieldError
from gatefield.numerics.spectrum.whiskers import bulk_edge
from gatefield.validation import claims
from gatefield.validation.claims import FIGURES, Figure, Panel
from gatefield.validation.runner import figure_table, make_figure
from gatefield.validation.tolerances import edge_tolerance

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def toy(monkeypatch):
    toy = Figure(
        "toy",
        "the vanilla map's radius is g below g = 1",
        (
            Panel(
                "zero fixed point",
                "vanilla",
                {},
                "g",
                "spectral_radius",
                "fixed-point",
                (0.3, 0.6, 0.9),
                (0.3, 0.9),
            ),
            Panel(
                "zero fixed point",
                "vanilla",
                {},
                "g",
                "slow_fraction",
                "fixed-point",
                (0.3, 0.6),
                (0.6,),
                limit=True,
            ),
        ),
    )
    monkeypatch.setitem(FIGURES, "toy", toy)
    return toy


def test_make_figure_writes_curves_points_and_agreement(toy, tmp_path):
    N = 300
    data = make_figure("toy", N=N, seeds=2, out=tmp_path / "toy.png")
    assert (tmp_path / "toy.png").read_bytes()[:8] == PNG
    assert json.loads((tmp_path / "toy.json").read_text())["figure"] == "toy"
    radius, slow = data["panels"]
    curve = radius["series"][0]["theory"]
    # The support of g * Ginibre is |lam| <= g (trace_support: 1e-8); the
    # curve is the largest |eigenvalue| at N = 300, Rider's median for a disc
    # of radius g, inside its band.
    assert [c["bulk_radius"] for c in curve] == pytest.approx([0.3, 0.6, 0.9], rel=1e-8)
    assert [c["theory"] for c in curve] == pytest.approx([bulk_edge(g, N, 0.5) for g in (0.3, 0.6, 0.9)], rel=1e-8)
    assert all(c["low"] < c["bulk_radius"] < c["theory"] < c["high"] for c in curve)
    for row in radius["series"][0]["points"]:
        assert row["seeds"] == 2 and row["failed"] == 0
        # The mean largest |eigenvalue| of N = 300 lies in the 90% band.
        band = max(row["theory"] - row["low"], row["high"] - row["theory"])
        assert row["tolerance"] == pytest.approx(max(band, 3 * row["error"]))
        assert row["agrees"] is True
    # No eigenvalue within 0.1 of 1 (the disc ends at 0.6), no gates.
    (row,) = slow["series"][0]["points"]
    assert row["theory"] == pytest.approx(0.0, abs=1e-12) and row["simulation"] == 0.0
    assert [c["limit"] for c in slow["series"][0]["theory"]] == [0.0, 0.0]
    text = figure_table(data)
    assert f"g = 0.9: theory {bulk_edge(0.9, N, 0.5):.4f}" in text and "DISAGREES" not in text


def test_make_figure_quick_and_errors(toy):
    data = make_figure("toy", N=50, seeds=1, quick=True)
    assert [c["value"] for c in data["panels"][0]["series"][0]["theory"]] == [0.3, 0.6, 0.9]
    with pytest.raises(GatefieldError, match="unknown figure"):
        make_figure("nope")
    with pytest.raises(GatefieldError, match="seeds must be a positive integer"):
        make_figure("toy", seeds=0)


def test_edge_tolerance_is_the_closed_form():
    # 2 r sqrt(log N / N) (Rider 2003's edge scale, twice): r = 0.9, N = 300
    # gives 1.8 * sqrt(5.703782 / 300) = 1.8 * 0.1378862 = 0.2481952; r = 0.5,
    # N = 100 gives sqrt(4.605170 / 100) = 0.2145966.
    assert edge_tolerance(0.9, 300) == pytest.approx(0.24819519, rel=1e-7)
    assert edge_tolerance(0.5, 100) == pytest.approx(0.21459660, rel=1e-7)
    assert edge_tolerance(0.0, 1000) == 0.0


def test_every_figure_names_real_parameters():
    from gatefield.cells import load_cell

    for figure in FIGURES.values():
        for panel in figure.panels:
            cell = load_cell(panel.cell)
            for _, overrides in panel.series:
                name = overrides.get("vary", panel.vary)
                extra = {k: v for k, v in overrides.items() if k != "vary"}
                cell.resolve({**panel.base, **extra, name: 1.0})  # raises on an unknown name
            assert panel.quantity in claims.LABELS
            assert panel.route in ("fixed-point", "plug-in")


@pytest.mark.long
@pytest.mark.parametrize("name", [n for n, f in FIGURES.items() if f.panels])  # the landscape's: test_landscape.py
def test_figure_points_agree_with_theory(name, tmp_path):
    data = make_figure(name, N=400, seeds=3, out=tmp_path / f"{name}.png", jobs=2)
    rows = [r for p in data["panels"] for s in p["series"] for r in s["points"] if r["agrees"] is not None]
    assert rows
    assert all(r["agrees"] for r in rows), figure_table(data)


def test_each_figure_has_an_example_script(monkeypatch):
    # Each example is the figure's recipe: its docstring gives the command and
    # runtime, main() passes its arguments to make_figure (the real runs are
    # the long tests above), and run as a script it is `gatefield figure NAME`
    # with the script's own options.
    import importlib.util
    import runpy
    import sys
    from pathlib import Path

    import gatefield.cli

    examples = Path(__file__).resolve().parents[2] / "examples"
    for name in FIGURES:
        if name == "toy":
            continue
        path = examples / f"figure_{name.replace('-', '_')}.py"
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert f"gatefield figure {name}" in module.__doc__ and "Runtime" in module.__doc__
        calls = []

        def fake(*args, calls=calls, name=name, **kwargs):
            calls.append((args, kwargs))
            return {"figure": name, "claim": "", "N": 7, "panels": []}

        monkeypatch.setattr(module, "make_figure", fake)
        module.main(N=7, seeds=2, out="x.png", quick=True, jobs=3)
        assert calls == [((name,), {"N": 7, "seeds": 2, "out": "x.png", "quick": True, "jobs": 3})]
        argv = []
        monkeypatch.setattr(gatefield.cli, "main", lambda args, argv=argv: argv.append(args) or 0)
        monkeypatch.setattr(sys, "argv", [str(path), "--N", "7", "--quick"])
        with pytest.raises(SystemExit) as exit_:
            runpy.run_path(str(path), run_name="__main__")
        assert exit_.value.code == 0
        assert argv == [["figure", name, "--N", "7", "--quick"]]
