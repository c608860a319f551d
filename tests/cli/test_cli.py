"""Tests of the command line (``gatefield.cli``).

Most tests call :func:`gatefield.cli.main` in-process and read what it
printed with ``capsys``; one runs ``python -m gatefield`` in a subprocess to
prove the module entry point. The command line's contract:

- results go to stdout (``--json``: one JSON document), progress to stderr;
- a user error (bad cell, bad option, unwritable output) exits with status 2
  and prints exactly one line, ``gatefield: error: ...``, with no traceback.
  argparse's usage errors leave through ``SystemExit(2)``; errors raised by
  the package (:class:`~gatefield.GatefieldError`) make ``main`` return 2.

``tests/data/mgu.toml`` is a cell that is not built in (the minimal gated
unit); it goes through every command to show that a file cell needs no code.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gatefield import cli
from gatefield.cells import BUILTINS
from gatefield.io.latex import compile_latex
from gatefield.io.reports import MANIFEST, verify

REPO = Path(__file__).resolve().parents[2]
MGU = REPO / "tests" / "data" / "mgu.toml"

#: Closed forms below (zero fixed points) are computed by ``trace_support``,
#: which bisects each ray to 1e-10 relative; see helpers.RADIUS_RTOL.
RADIUS_RTOL = 1e-8
#: Two routes through the same quadrature and root finder to one number
#: (a file cell against the built-in with the same mean-field equations):
#: Brent's method stops at 1e-13, so 1e-9 is the mean-field accuracy
#: (helpers.ROOT_RTOL).
SAME_ROOT_RTOL = 1e-9
#: The traced boundary is a level curve on a 201 x 201 grid of half-width
#: 1.03 r, so its outermost point misses the bisected radius r by at most
#: about one grid spacing, 2 * 1.03 r / 200 = 0.0103 r.
BOUNDARY_RTOL = 0.02
#: Parameters with a stable GRU fixed point (as in tests/validation/test_acceptance.py).
GRU_STABLE = ["--set", "g_h=1.6", "--set", "alpha_r=2", "--set", "beta_h=0.4"]
#: MGU parameters with a stable non-zero fixed point (q_f = 0.573).
MGU_STABLE = ["--set", "g_h=3", "--set", "beta_h=1"]
#: |h| <= 1 for every gated cell here (h is a convex mix of tanh values), so
#: every order parameter lies in [0, 1]: searching beyond is wasted time.
Q_MAX = ["--q-max", "1"]


def run(capsys, *argv):
    """``main(argv)`` in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def assert_one_line_error(err: str):
    assert "Traceback" not in err
    assert err.startswith("gatefield: error: "), err
    assert err.strip().count("\n") == 0, err


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


# -- the module entry point -------------------------------------------------------------


def test_python_dash_m_lists_cells():
    done = subprocess.run(
        [sys.executable, "-m", "gatefield", "cells"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == list(BUILTINS)


# -- cells and show ---------------------------------------------------------------------


def test_cells_lists_every_builtin_with_its_time(capsys):
    code, out, err = run(capsys, "cells")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert [r[0] for r in rows] == list(BUILTINS)
    times = {r[0]: r[1] for r in rows}
    assert times["rate"] == "continuous" and times["gru"] == "discrete"
    assert err == ""


def test_show_gru_prints_the_fixed_point(capsys):
    code, out, _ = run(capsys, "show", "gru")
    assert code == 0
    assert "h* = tanh(" in out
    assert "mean-field equations" in out
    # The GRU's three couplings, each with its order parameter.
    for q in ("q_z", "q_r", "q_h"):
        assert f"  {q} = E[" in out


# -- meanfield ----------------------------------------------------------------------------


def test_meanfield_json_contract_vanilla(capsys):
    data = run_json(capsys, "meanfield", "vanilla", "--set", "g=2")
    assert data["cell"] == "vanilla"
    assert data["parameters"] == {"g": 2.0, "beta": 0.0}
    assert data["status"] == "converged"
    sols = data["solutions"]
    assert len(sols) == 2
    for s in sols:
        assert set(s) >= {"order_parameters", "residual", "stable"}
        assert set(s["order_parameters"]) == {"J"}
        # AllRoots.residual_tol: a root is accepted when |Phi(q) - q| <= 1e-9 (1 + q).
        assert s["residual"] <= 1e-9 * (1 + s["order_parameters"]["J"])
    totals = [sum(s["order_parameters"].values()) for s in sols]
    assert totals == sorted(totals)
    # q = 0 is a solution and, at g = 2 > 1, an unstable one (radius g).
    assert sols[0]["order_parameters"]["J"] == 0.0
    assert sols[0]["stable"] is False
    assert math.isclose(sols[0]["spectral_radius"], 2.0, rel_tol=RADIUS_RTOL)
    assert sols[1]["order_parameters"]["J"] > 0.1


def test_meanfield_text_output(capsys):
    code, out, _ = run(capsys, "meanfield", "vanilla", "--set", "g=0.5")
    assert code == 0
    assert out.startswith("vanilla: 1 solution(s)")
    assert "stable" in out and "unstable" not in out


# -- spectrum -------------------------------------------------------------------------------


def test_spectrum_json_contract_stable_gru(capsys):
    data = run_json(capsys, "spectrum", "gru", *GRU_STABLE)
    assert data["route"] == "fixed-point"
    assert data["label"] == "solution 0 of 1"
    assert data["stable"] is True
    radius = data["bulk_radius"]
    assert 0 < data["bulk_rightmost"] <= radius < 1
    boundary = data["boundary"]
    assert len(boundary) > 10
    assert all(len(p) == 2 and all(isinstance(x, float) for x in p) for p in boundary)
    outer = max(math.hypot(x, y) for x, y in boundary)
    assert math.isclose(outer, radius, rel_tol=BOUNDARY_RTOL)
    # The update gate's whisker: units with z -> 0 keep their own eigenvalue
    # 1 - z, so the N = infinity radius is the limit 1, which no unit attains.
    whisker = data["whiskers"][-1]
    assert set(whisker) == {"start", "end", "mass"}
    assert radius <= whisker["start"] < whisker["end"] == data["spectral_radius"]
    assert math.isclose(data["spectral_radius"], 1.0, abs_tol=1e-9)
    assert 0 < whisker["mass"] < 1
    assert data["unit_eigenvalues"]["max_abs"] < 1
    q = data["order_parameters"]
    assert set(q) == {"J_z", "J_r", "J_h"}
    # z and r have the same integrand E[h*^2].
    assert math.isclose(q["J_z"], q["J_r"], rel_tol=SAME_ROOT_RTOL)
    assert 0 < q["J_h"] < q["J_z"] < 1


def test_spectrum_chooses_solution_zero(capsys):
    # At q = 0 the vanilla Jacobian is g J: a disc of radius g = 2.
    data = run_json(capsys, "spectrum", "vanilla", "--set", "g=2", "--solution", "0")
    assert data["order_parameters"] == {"J": 0.0}
    assert data["label"] == "solution 0 of 2"
    assert math.isclose(data["spectral_radius"], 2.0, rel_tol=RADIUS_RTOL)
    assert data["stable"] is False


@pytest.mark.slow
def test_spectrum_plugin_route_json_and_plot(capsys, tmp_path):
    png = tmp_path / "plugin.png"
    data = run_json(capsys, "spectrum", "gru", "--route", "plug-in", "--N", "300", "--seed", "1", "--plot", png)
    assert data["route"] == "plug-in"
    assert data["label"] == "plug-in, N = 300, seed 1"
    assert data["spectral_radius"] > 0
    # Eigenvalues were computed for the figure, so the outside fraction is
    # reported; at N = 300 finite-N edge spill is O(N^-1/2), a few percent.
    assert 0 <= data["outside_fraction"] < 0.05
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- validate ---------------------------------------------------------------------------------


def test_validate_json_and_report_files(capsys, tmp_path):
    out = tmp_path / "report"
    data = run_json(capsys, "validate", "vanilla", "--set", "g=0.5", "--N", "200", "--seeds", "2", "--out", out)
    assert data["route"] == "fixed-point"
    assert data["N"] == 200 and data["seeds"] == 2
    checks = data["checks"]
    assert checks
    for c in checks:
        assert set(c) >= {"quantity", "theory", "simulation", "tolerance", "pass"}
    by_name = {c["quantity"]: c for c in checks}
    assert by_name["stable: each seed's fixed point is stable"]["pass"] is True
    assert by_name["largest |eigenvalue| (fixed-point)"]["pass"] is True
    report = json.loads((out / "report.json").read_text())
    assert report["cell"] == "vanilla" and report["checks"] == checks
    assert (out / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The folder is written whole or not at all: its manifest lists every
    # file with size and hash, and verify() checks them.
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is True
    assert set(manifest["files"]) == {"report.json", "spectrum.png"}
    assert verify(out)


def test_validate_zero_fixed_point_passes_q_check(capsys):
    data = run_json(capsys, "validate", "vanilla", "--set", "g=0.5", "--N", "200", "--seeds", "1")
    q = {c["quantity"]: c for c in data["checks"]}["q[J]"]
    assert q["theory"] == 0.0
    assert q["pass"] is True


# -- latex ------------------------------------------------------------------------------------


def test_latex_to_stdout_and_file(capsys, tmp_path):
    code, out, _ = run(capsys, "latex", "gru")
    assert code == 0 and "\\begin{document}" in out
    path = tmp_path / "gru.tex"
    code, out, err = run(capsys, "latex", "gru", "-o", path)
    assert code == 0 and out == ""
    text = path.read_text()
    assert "\\begin{document}" in text and text.rstrip().endswith("\\end{document}")
    assert f"wrote {path}" in err


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not on PATH")
def test_latex_file_compiles(capsys, tmp_path):
    path = tmp_path / "gru.tex"
    assert run(capsys, "latex", "gru", "-o", path)[0] == 0
    pdf = compile_latex(path.read_text(), tmp_path / "build")
    assert pdf.read_bytes()[:5] == b"%PDF-"


# -- a cell file that is not built in -----------------------------------------------------------


def test_mgu_file_show(capsys):
    code, out, _ = run(capsys, "show", MGU)
    assert code == 0
    assert out.startswith("cell mgu (discrete time)")
    assert "h* = tanh(" in out


@pytest.mark.slow
def test_mgu_file_meanfield_matches_gru(capsys):
    # The MGU's mean-field equations are the GRU's with f in the role of r:
    # q_f = E[tanh(g_h eta_h)^2] = q_z = q_r and q_h = E[tanh^2 sigmoid^2].
    # A file cell and a built-in must find the same roots.
    data = run_json(capsys, "meanfield", MGU, "--set", "g_h=3", *Q_MAX)
    assert data["cell"] == "mgu"
    assert data["parameters"] == {"alpha_f": 1.0, "beta_f": 0.0, "g_h": 3.0, "beta_h": 0.0}
    mgu = data["solutions"]
    gru = run_json(capsys, "meanfield", "gru", "--set", "g_h=3", *Q_MAX)["solutions"]
    assert len(mgu) == len(gru) == 2
    assert mgu[0]["order_parameters"] == {"J_f": 0.0, "J_h": 0.0}
    # g_h = 3 > 2: both fixed points are unstable (the GRU-like chaotic state).
    assert [s["stable"] for s in mgu] == [False, False]
    for a, b in zip(mgu, gru, strict=True):
        qa, qb = a["order_parameters"], b["order_parameters"]
        assert math.isclose(qa["J_f"], qb["J_r"], rel_tol=SAME_ROOT_RTOL, abs_tol=1e-15)
        assert math.isclose(qa["J_h"], qb["J_h"], rel_tol=SAME_ROOT_RTOL, abs_tol=1e-15)


@pytest.mark.slow
def test_mgu_file_spectrum_zero_fixed_point(capsys):
    # At h = 0: f = 1/2, and the Jacobian is I/2 + (g_h/4) J_h (the gate's
    # own derivative multiplies h_tilde - h = 0): a disc of radius g_h/4
    # about 1/2, so the spectral radius is 1/2 + g_h/4 = 3/4 at g_h = 1.
    data = run_json(capsys, "spectrum", MGU, "--set", "g_h=1", "--solution", "0")
    assert data["route"] == "fixed-point"
    assert data["order_parameters"] == {"J_f": 0.0, "J_h": 0.0}
    assert math.isclose(data["spectral_radius"], 0.75, rel_tol=RADIUS_RTOL)
    assert math.isclose(data["rightmost_real"], 0.75, rel_tol=RADIUS_RTOL)
    assert data["stable"] is True


@pytest.mark.slow
def test_mgu_file_validate(capsys):
    data = run_json(capsys, "validate", MGU, *MGU_STABLE, "--N", "200", "--seeds", "1")
    assert data["cell"] == "mgu"
    assert data["route"] == "fixed-point"
    checks = {c["quantity"]: c for c in data["checks"]}
    assert checks["stable: each seed's fixed point is stable"]["pass"] is True
    # One seed: tolerance 3 q sqrt(2/N), the sampling error of a mean of N squares.
    assert checks["q[J_f]"]["pass"] is True and checks["q[J_h]"]["pass"] is True
    assert 0 < checks["largest |eigenvalue| (fixed-point)"]["theory"] < 1


def test_mgu_file_latex(capsys, tmp_path):
    path = tmp_path / "mgu.tex"
    code, _, _ = run(capsys, "latex", MGU, "-o", path)
    assert code == 0
    text = path.read_text()
    assert "\\begin{document}" in text and "mgu" in text


# -- user errors: one line, exit 2 ------------------------------------------------------------

# Each raised by the package (main returns 2).
PACKAGE_ERRORS = {
    "unknown cell name": ["meanfield", "no_such_cell"],
    "missing file": ["meanfield", "/no/such/dir/cell.toml"],
    "--set without =": ["meanfield", "vanilla", "--set", "g"],
    "--set without name": ["meanfield", "vanilla", "--set", "=1"],
    "--set not a number": ["meanfield", "vanilla", "--set", "g=abc"],
    "--set nan": ["meanfield", "vanilla", "--set", "g=nan"],
    "--set inf": ["meanfield", "vanilla", "--set", "g=inf"],
    "unknown parameter": ["meanfield", "vanilla", "--set", "zz=1"],
    "--solution out of range": ["spectrum", "vanilla", "--solution", "9"],
    "--solution with plug-in": ["spectrum", "vanilla", "--route", "plug-in", "--solution", "0"],
    "directory as a cell": ["meanfield", "tests"],
    "count without a region": ["count", "vanilla"],
    "count with a negative radius": ["count", "vanilla", "--disc", "0", "0", "-1"],
    "count annulus inside out": ["count", "vanilla", "--annulus", "0", "0", "0.5", "0.2"],
    "count --solution with plug-in": [
        "count",
        "vanilla",
        "--route",
        "plug-in",
        "--solution",
        "0",
        "--disc",
        "0",
        "0",
        "1",
    ],
    "density grid upside down": ["density", "vanilla", "--grid", "1", "0", "-1", "1", "10", "10"],
    "density grid of one point": ["density", "vanilla", "--grid", "0", "1", "-1", "1", "1", "10"],
    "figure unknown": ["figure", "nope"],
    "figure without a name": ["figure"],
    "figure to a text file": ["figure", "gru-reset-radius", "--out", "x.txt"],
    "figure to a missing folder": ["figure", "gru-reset-radius", "--out", "/no/such/dir/x.png"],
}

# Each an argparse usage error (SystemExit(2)).
USAGE_ERRORS = {
    "no command": [],
    "unknown command": ["frobnicate"],
    "--N 0": ["spectrum", "vanilla", "--N", "0"],
    "--N abc": ["spectrum", "vanilla", "--N", "abc"],
    "--seeds 0": ["validate", "vanilla", "--seeds", "0"],
    "--seed -1": ["spectrum", "vanilla", "--seed", "-1"],
    "--route bogus": ["spectrum", "vanilla", "--route", "bogus"],
    "--q-max -1": ["meanfield", "vanilla", "--q-max", "-1"],
    "--q-max nan": ["meanfield", "vanilla", "--q-max", "nan"],
    "--q-max inf": ["meanfield", "vanilla", "--q-max", "inf"],
    "missing cell": ["meanfield"],
    "--disc with two numbers": ["count", "vanilla", "--disc", "0", "0"],
    "--delta -1": ["sweep", "vanilla", "--vary", "g", "0.5", "1", "2", "--delta", "-1"],
    "--points 1": ["density", "vanilla", "--points", "1"],
}


@pytest.mark.parametrize("argv", PACKAGE_ERRORS.values(), ids=PACKAGE_ERRORS.keys())
def test_package_error_is_one_line_exit_2(capsys, monkeypatch, argv):
    monkeypatch.chdir(REPO)  # "tests" is a directory relative to the repository
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err)


@pytest.mark.parametrize("argv", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_error_is_one_line_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_line_error(err)
    assert "--help" in err  # points at the help of the command used


def test_unknown_cell_message_lists_builtins(capsys):
    _, _, err = run(capsys, "show", "no_such_cell")
    assert all(name in err for name in BUILTINS)


def test_latex_to_missing_directory(capsys):
    if Path("/nonexistent_dir").exists():
        pytest.skip("/nonexistent_dir exists on this machine")
    code, out, err = run(capsys, "latex", "gru", "-o", "/nonexistent_dir/x.tex")
    assert code == 2 and out == ""
    assert_one_line_error(err)


def test_latex_to_unwritable_paths(capsys, tmp_path):
    # Root may write anywhere, so "unwritable" is made structural: a path
    # below a regular file, or a directory where a file is wanted.
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for target in (blocker / "x.tex", tmp_path):
        code, out, err = run(capsys, "latex", "gru", "-o", target)
        assert code == 2 and out == ""
        assert_one_line_error(err)


def _validate_into(capsys, target):
    return run(capsys, "validate", "vanilla", "--set", "g=0.5", "--N", "20", "--seeds", "1", "--out", target)


def test_validate_to_unwritable_out_exits_2(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for target in (blocker, blocker / "sub"):
        code, out, err = _validate_into(capsys, target)
        assert code == 2 and out == ""
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("gatefield: error: cannot write the report")
    # Refused before anything is written: no partial report (nor its temporary
    # folder) is left beside the blocker; only the lock file may stay.
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["a_file"]


def test_validate_to_unwritable_out_fails_before_running(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code, out, err = _validate_into(capsys, blocker)
    assert code == 2
    assert_one_line_error(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "vanilla", "--N", "1", "--seeds", "1"],
        ["spectrum", "vanilla", "--route", "plug-in", "--N", "1"],
    ],
    ids=["validate", "spectrum plug-in"],
)
def test_single_unit_network_is_refused_up_front(capsys, argv):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # an argparse refusal (N >= 2 by type) is as good: exit 2, one line
        code = exc.code
    assert code == 2
    assert_one_line_error(capsys.readouterr().err)


def test_spectrum_plot_to_missing_directory(capsys, tmp_path):
    code, _, err = run(capsys, "spectrum", "vanilla", "--solution", "0", "--plot", tmp_path / "missing" / "x.png")
    assert code == 2
    assert_one_line_error(err)


def test_spectrum_plot_unknown_format(capsys, tmp_path):
    code, _, err = run(capsys, "spectrum", "vanilla", "--solution", "0", "--plot", tmp_path / "x.xyz")
    assert code == 2
    assert_one_line_error(err)


def test_meanfield_huge_gain(capsys):
    code, _, err = run(capsys, "meanfield", "vanilla", "--set", "g=1e300")
    assert code == 2
    assert_one_line_error(err)


# -- hostile cell files ---------------------------------------------------------------------------

HEADER = '[cell]\nname = "evil"\ntime = "discrete"\nstate = ["h"]\n\n[parameters]\ng = 1.0\n\n[equations]\n'

HOSTILE_EQUATIONS = {
    "import": "__import__('os').system('touch PWNED')",
    "attribute": "h.__class__",
    "eval": "eval('1')",
    "open": "open('/etc/passwd')",
    "power tower": "9**9**9**9",
    "lambda": "(lambda: 1)()",
    "subscript": "h[0]",
    "string": "'abc'",
}

# What a file must never make the process do.
_FORBIDDEN_EVENTS = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn")
_audit = {"armed": False, "events": []}


def _hook(event, args):
    if not _audit["armed"]:
        return
    if event.startswith(_FORBIDDEN_EVENTS) or (event == "open" and args and args[0] == "/etc/passwd"):
        _audit["events"].append(event)


sys.addaudithook(_hook)  # audit hooks cannot be removed; it is inert unless armed


def _run_hostile(capsys, monkeypatch, tmp_path, path):
    monkeypatch.chdir(tmp_path)
    _audit["events"].clear()
    _audit["armed"] = True
    start = time.perf_counter()
    try:
        code, out, err = run(capsys, "meanfield", path)
    finally:
        _audit["armed"] = False
    # Refused while reading: a blow-up (the power tower) would take far longer.
    assert time.perf_counter() - start < 10.0
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert _audit["events"] == []
    assert not (tmp_path / "PWNED").exists()
    return err


@pytest.mark.parametrize("equation", HOSTILE_EQUATIONS.values(), ids=HOSTILE_EQUATIONS.keys())
def test_hostile_equation_is_refused(capsys, monkeypatch, tmp_path, equation):
    path = tmp_path / "evil.toml"
    path.write_text(HEADER + f'h = "{equation}"\n')
    err = _run_hostile(capsys, monkeypatch, tmp_path, path)
    assert "equation 'h'" in err


def test_hostile_file_too_large(capsys, monkeypatch, tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(HEADER.encode() + b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    err = _run_hostile(capsys, monkeypatch, tmp_path, path)
    assert "larger than 1 MB" in err


def test_hostile_binary_file(capsys, monkeypatch, tmp_path):
    path = tmp_path / "cell.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    err = _run_hostile(capsys, monkeypatch, tmp_path, path)
    assert "UTF-8" in err


def test_hostile_toml_syntax_error(capsys, monkeypatch, tmp_path):
    path = tmp_path / "cell.toml"
    path.write_text('[cell\nname = "x"\n')
    err = _run_hostile(capsys, monkeypatch, tmp_path, path)
    assert "not valid TOML" in err


def test_hostile_file_with_python_code(capsys, monkeypatch, tmp_path):
    path = tmp_path / "cell.toml"
    path.write_text("import os\nos.system('touch PWNED')\n")
    _run_hostile(capsys, monkeypatch, tmp_path, path)


@pytest.mark.slow
def test_dmft_command_finds_the_static_state(capsys, tmp_path):
    # g = 0.5 < 1: the rate network's only DMFT solution is static (C -> 0),
    # from the large start too (Sompolinsky, Crisanti and Sommers 1988).
    figure = tmp_path / "c.png"
    code = cli.main(
        [
            "dmft",
            "rate",
            "--set",
            "g=0.5",
            "--samples",
            "200",
            "--iterations",
            "60",
            "--json",
            "--plot",
            str(figure),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["route"] == "dmft" and data["static"] is True
    assert data["method"] == "sampling"
    # Each moment is an estimate with its sampling error; each correlation
    # function has its error at every lag.
    assert all(set(m) == {"mean", "stderr"} for m in data["moments"].values())
    assert set(data["correlation_errors"]) == set(data["correlations"])
    assert all(len(data["correlation_errors"][n]) == len(c) for n, c in data["correlations"].items())
    assert figure.stat().st_size > 0


def test_dmft_route_refuses_a_solution_index(capsys):
    assert cli.main(["spectrum", "gru", "--route", "dmft", "--solution", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatefield: error:") and err.count("\n") == 1


# -- spectral commands: density, count, figure, sweep -----------------------------------------

#: The vanilla map at g < 1 has the zero fixed point, a single site: its
#: Jacobian is g times a Ginibre matrix, density 1/(pi g^2) on |lam| < g.
#: The solver reaches 1e-12; 1e-9 allows the implicit derivative's solve.
DENSITY_RTOL = 1e-9


def test_density_json_is_the_ginibre_value(capsys, tmp_path):
    figure = tmp_path / "density.png"
    code, out, _ = run(
        capsys,
        "density",
        "vanilla",
        "--set",
        "g=0.5",
        "--grid",
        "-0.3",
        "0.3",
        "-0.3",
        "0.3",
        "4",
        "4",
        "--json",
        "--plot",
        figure,
    )
    assert code == 0
    data = json.loads(out)
    assert data["route"] == "fixed-point"
    assert len(data["x"]) == 4 and len(data["y"]) == 4
    inside = [[abs(complex(x, y)) < 0.5 for x in data["x"]] for y in data["y"]]
    for row, flags in zip(data["density"], inside):
        for value, flag in zip(row, flags):
            assert value == pytest.approx(1 / (math.pi * 0.25) if flag else 0.0, rel=DENSITY_RTOL)
    assert data["atoms"] == []
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_density_default_grid_text(capsys):
    code, out, _ = run(capsys, "density", "vanilla", "--set", "g=0.5", "--points", "6")
    assert code == 0
    assert "6 x 6 grid" in out and "no atoms" in out


def test_count_json_against_ginibre_and_simulation(capsys):
    code, out, _ = run(
        capsys,
        "count",
        "vanilla",
        "--set",
        "g=0.5",
        "--disc",
        "0",
        "0",
        "0.25",
        "--annulus",
        "0.1",
        "0.1",
        "0.1",
        "0.2",
        "--N",
        "200",
        "--seeds",
        "2",
        "--json",
    )
    assert code == 0
    rows = json.loads(out)["counts"]
    # Disc of radius 0.25 in a uniform disc of radius 0.5: 1/4; the annulus
    # lies inside the support: (0.2^2 - 0.1^2) / 0.5^2.
    assert rows[0]["theory"] == pytest.approx(0.25, abs=1e-9)
    assert rows[1]["theory"] == pytest.approx(0.12, abs=1e-9)
    for row in rows:
        # 4 binomial standard errors of 400 eigenvalues (see helpers.MC_SIGMAS).
        assert abs(row["simulation"] - row["theory"]) <= 4 * row["binomial_error"]


def test_figure_list(capsys):
    code, out, _ = run(capsys, "figure", "--list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [
        "gru-update-slow-modes",
        "gru-marginal-stability",
        "gru-reset-radius",
        "lstm-forget-slow-modes",
        "lstm-io-radius",
        "reset-gate-complexity",
        "gru-phase-diagram",
        "complexity-without-chaos",
        "finite-n-counts",
    ]


def test_sweep_reports_slow_fraction_and_edge_gap(capsys):
    code, out, _ = run(
        capsys,
        "sweep",
        "vanilla",
        "--vary",
        "g",
        "0.5",
        "0.9",
        "2",
        "--quantity",
        "edge_gap",
        "--quantity",
        "slow_fraction",
        "--quantity",
        "limit_atom_weight",
        "--delta",
        "0.2",
        "--json",
    )
    assert code == 0
    values = json.loads(out)["values"]
    # Zero fixed point: a uniform disc of radius g about 0, so the edge is
    # 1 - g from the slow point 1. At g = 0.5 no eigenvalue is within 0.2
    # of 1; at g = 0.9 the circle |lam - 1| = 0.2 cuts a lens off the disc.
    # That circle crosses the support's edge, where the contour rule
    # converges like points^-2 (256 points: ~1e-6 here); 1e-5 allows it.
    r1, r2, d = 0.9, 0.2, 1.0
    lens = (
        r1**2 * math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1))
        + r2**2 * math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2))
        - 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    )
    assert values["edge_gap"] == pytest.approx([0.5, 0.1], abs=1e-8)
    assert values["slow_fraction"] == pytest.approx([0.0, lens / (math.pi * r1**2)], abs=1e-5)
    assert values["limit_atom_weight"] == [0.0, 0.0]


# -- dynamics commands: dmft methods, validate --dynamics -------------------------------------


def test_dmft_fourier_with_lyapunov_json(capsys):
    # The rate network at g = 0.8 is static: zero variance, exponent g - 1
    # exactly (the Schroedinger form reduces to -1 + g at a static state).
    code, out, _ = run(capsys, "dmft", "rate", "--set", "g=0.8", "--method", "fourier", "--lyapunov", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["method"] == "fourier"
    assert data["static"] is True
    assert data["lyapunov"]["exponent"] == pytest.approx(-0.2, abs=1e-9)


def test_dmft_annealed_against_untied_json(capsys):
    code, out, _ = run(
        capsys,
        "dmft",
        "vanilla",
        "--set",
        "g=2",
        "--method",
        "annealed",
        "--N",
        "200",
        "--samples",
        "200",
        "--json",
    )
    assert code == 0
    rows = json.loads(out)["rows"]
    annealed = rows["annealed theory"]
    untied = rows["untied simulation, N = 200"]
    # Untied weights make the vanilla map's q exactly the annealed recursion's;
    # MC_SIGMAS combined standard errors plus the O(1/N) finite-size shift.
    diff = abs(annealed["E[h^2]"]["mean"] - untied["E[h^2]"]["mean"])
    se = math.hypot(annealed["E[h^2]"]["stderr"], untied["E[h^2]"]["stderr"])
    assert diff <= 4 * se + 1.0 / 200


def test_dmft_annealed_refuses_continuous_cells(capsys):
    code, _, err = run(capsys, "dmft", "rate", "--method", "annealed")
    assert code == 2
    assert_one_line_error(err)
    assert "discrete-time" in err


@pytest.mark.slow
def test_validate_dynamics_writes_report(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "validate",
        "rate",
        "--set",
        "g=0.5",
        "--N",
        "100",
        "--seeds",
        "2",
        "--dynamics",
        "--out",
        tmp_path,
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["dmft"]["static"] is True
    assert {c["quantity"] for c in data["checks"]} >= {"E[x^2]", "C_J(tau), rms over lags / C(0)"}
    assert all(c["pass"] for c in data["checks"])
    # At g = 0.5 the network decays to x = 0 (rate 1 - g |lambda| >= 0.25 for
    # N = 100): after the 20 time units of burn-in E[x^2] is below e^-10 of its
    # start, so a wrong measurement (or a network that did not decay) shows.
    assert data["simulation"]["moments"]["E[x^2]"]["mean"] < 1e-4
    assert (tmp_path / "dynamics.json").exists()
    assert (tmp_path / "correlations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert set(manifest["files"]) == {"dynamics.json", "correlations.png"}
    assert verify(tmp_path)


@pytest.mark.slow
def test_validate_dynamics_lyapunov_scan_json(capsys):
    code, out, _ = run(
        capsys,
        "validate",
        "rate",
        "--set",
        "g=0.5",
        "--N",
        "40",
        "--seeds",
        "3",
        "--dynamics",
        "--lyapunov-steps",
        "100",
        "--lyapunov-N",
        "20",
        "40",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    scan = data["lyapunov_scan"]
    assert scan["sizes"] == [20, 40] and all(len(scan["runs"][n]) == 3 for n in ("20", "40"))
    check = next(c for c in data["checks"] if c["quantity"].startswith("maximal Lyapunov exponent"))
    # At g = 0.5 the state is static and the two-replica exponent is g - 1
    # (to its sampling error, 4 of them here).
    assert check["theory"] == pytest.approx(-0.5, abs=4 * data["dmft_lyapunov"]["stderr"] + 1e-9)
    assert check["simulation"] == scan["limit"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--lyapunov-N", "100", "200"], "--lyapunov-steps"),
        (["--lyapunov-steps", "10", "--lyapunov-N", "100", "100"], "two different sizes"),
        (["--lyapunov-steps", "10", "--no-dynamics"], "add --dynamics"),
    ],
)
def test_validate_dynamics_lyapunov_scan_errors(capsys, extra, message):
    dynamics = [] if "--no-dynamics" in extra else ["--dynamics"]
    extra = [a for a in extra if a != "--no-dynamics"]
    code, _, err = run(capsys, "validate", "rate", *dynamics, *extra)
    assert code == 2
    assert_one_line_error(err)
    assert message in err


@pytest.mark.slow
def test_validate_chaotic_state_on_the_dmft_route(capsys, tmp_path):
    # The chaotic vanilla map (g = 2) at N = 800: the DMFT route's report
    # and both figures (tests/validation/test_dmft_route.py checks its
    # numbers); its checks all pass there, so the exit status is 0.
    out = tmp_path / "report"
    code, stdout, err = run(capsys, "validate", "vanilla", "--set", "g=2", "--N", "800", "--out", out)
    assert code == 0, stdout + err
    assert "route dmft" in stdout and "correlation time of C_J" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["route"] == "dmft" and report["dynamics"]["checks"]
    for name in ("spectrum.png", "correlations.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The other route is one flag away and writes no correlations.
    code, stdout, _ = run(
        capsys,
        "validate",
        "vanilla",
        "--set",
        "g=2",
        "--N",
        "100",
        "--seeds",
        "1",
        "--chaotic-route",
        "plug-in",
        "--json",
    )
    assert json.loads(stdout)["route"] == "plug-in" and json.loads(stdout)["dynamics"] is None
