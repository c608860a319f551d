"""Issue 11's reproducers, each a regression test: a clear one-line refusal
(exit 2, ``gatefield: error: ...``, no traceback) or a correct finite answer.

Every refusal here happens before any work, so each case takes well under a
second; the huge sizes would otherwise allocate exabytes or run for days.
"""

from __future__ import annotations

import json

import pytest

from gatefield import cli
from gatefield.cli._common import cores
from gatefield.errors import GatefieldError

BIG = "1000000000"


def refusal(capsys, argv) -> str:
    """Run ``gatefield argv`` in-process; it must exit 2 with one error line, the last."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    errors = [line for line in lines if line.startswith("gatefield: error: ")]
    # Progress lines may come first; the error is one line, and the last.
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    return errors[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "vanilla", "--N", BIG],
        ["validate", "gru", "--dynamics", "--lyapunov-steps", "10", "--lyapunov-N", "100", BIG],
        ["spectrum", "vanilla", "--N", BIG],
        ["count", "vanilla", "--N", BIG, "--disc", "0", "0", "1"],
        ["dmft", "vanilla", "--method", "annealed", "--N", BIG],
        ["density", "vanilla", "--route", "plug-in", "--N", BIG],
        ["fixed-points", "vanilla", "--N", BIG],
    ],
)
def test_a_network_too_large_for_memory_is_refused_with_the_largest_n_that_fits(capsys, argv):
    line = refusal(capsys, argv)
    assert "needs about" in line and "of memory" in line
    largest = int(line.rsplit("use --N ", 1)[1].split()[0])
    assert 2 <= largest < int(BIG)


@pytest.mark.parametrize(
    "argv, option",
    [
        (["density", "vanilla", "--points", BIG], "--points"),
        (["density", "vanilla", "--grid", "-1", "1", "-1", "1", BIG, "10"], "--grid"),
        (["complexity", "vanilla", "--onset", "g", "1", "3", "--points", BIG], "--points"),
        (["dmft", "gru", "--samples", BIG], "--samples"),
        (["validate", "gru", "--dynamics", "--lyapunov-steps", BIG], "--lyapunov-steps"),
        (["validate", "vanilla", "--seeds", BIG], "--seeds"),
        (["sweep", "vanilla", "--vary", "g", "1", "3", BIG], "--vary g"),
        (["sweep", "vanilla", "--vary", "g", "1", "3", "1000", "--vary", "beta", "0", "1", "1000"], "sweep grid"),
        (["fixed-points", "vanilla", "--N", "10", "--starts", BIG], "--starts"),
        (["fixed-points", "vanilla", "--N", "10", "--integral", BIG], "--integral"),
        (["dmft", "vanilla", "--iterations", BIG], "--iterations"),
        (["meanfield", "vanilla", "--q-max", "1e308"], "--q-max"),  # was: q = 0.53 lost, exit 0
    ],
)
def test_a_huge_work_request_is_refused_before_any_work(capsys, argv, option):
    line = refusal(capsys, argv)
    assert option in line


def test_jobs_beyond_the_cores_are_refused(capsys, tmp_path):
    line = refusal(capsys, ["figure", "gru-reset-radius", "--jobs", "100000", "--out", str(tmp_path / "f.png")])
    assert f"the {cores()} core(s)" in line
    assert not list(tmp_path.iterdir())


def one_state_cell(tmp_path, equation: str, time: str = "discrete"):
    """Issue 11's ``CELL(eq)``: one state h, parameter g = 2.0, the line ``h = eq``."""
    path = tmp_path / "cell.toml"
    path.write_text(
        f'[cell]\nname = "c"\ntime = "{time}"\nstate = ["h"]\n\n'
        f'[parameters]\ng = 2.0\n\n[equations]\nh = "{equation}"\n'
    )
    return str(path)


@pytest.mark.parametrize("command", [["meanfield"], ["validate", "--N", "50", "--seeds", "1"]])
def test_a_continuous_cell_without_decay_is_refused_with_the_fix(capsys, tmp_path, command):
    cell = one_state_cell(tmp_path, "tanh(g * (J @ h))", time="continuous")
    line = refusal(capsys, [command[0], cell, *command[1:]])
    assert "no well-defined per-unit fixed point" in line and "decay term" in line


NONFINITE = ("nan", "inf")


@pytest.mark.parametrize("setting, verdict", [("g_h=1e-3", "stable"), ("beta_r=-50", "stable")])
def test_meanfield_of_a_quiet_gated_cell_prints_finite_numbers_and_the_right_verdict(capsys, setting, verdict):
    cell = "cgru" if setting.startswith("g_h") else "gru"
    assert cli.main(["meanfield", cell, "--set", setting]) == 0
    out = capsys.readouterr().out
    words = out.replace(",", " ").replace("(", " ").replace(")", " ").replace(";", " ").split()
    assert not any(w.lower().lstrip("+-") in NONFINITE for w in words), out
    assert out.rstrip().endswith(f"-> {verdict}"), out


def test_an_overflowing_mean_field_integrand_is_refused_not_dropped(capsys, tmp_path):
    # The file cell had its q = 0.53 solution dropped silently.
    cell = one_state_cell(tmp_path, "0.1 * h**64 + tanh(g * (J @ h))")
    line = refusal(capsys, ["meanfield", cell])
    assert "is not finite at some points" in line and "bounded form" in line


def test_a_saturated_lstm_gets_its_finite_answer(capsys):
    # Was scipy's ValueError, then a refusal (1 - f rounded to 0); since gate
    # complements are generated as sigmoid(-u) the zero fixed point is found,
    # and validate at N = 200 agrees (q ~ 6e-31, largest |eigenvalue| 0.743
    # against 0.785 +- 0.13, 0.5% outside the support).
    settings = ["--set", "alpha_i=100", "--set", "alpha_o=100", "--set", "g_g=1"]
    assert cli.main(["meanfield", "lstm", *settings, "--json"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=lambda token: pytest.fail(f"JSON holds {token}"))
    (solution,) = data["solutions"]
    assert solution["stable"] is True
    assert all(q == 0 for q in solution["order_parameters"].values())


def test_plot_to_a_folder_is_refused_and_nothing_is_written(capsys, tmp_path):
    line = refusal(capsys, ["spectrum", "vanilla", "--plot", str(tmp_path)])
    assert "name it with one of .png" in line
    assert not list(tmp_path.iterdir()) and not tmp_path.with_suffix(".png").exists()


def test_a_figure_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    # Was: two runs writing one --plot file produced a figure spliced from
    # both; a write that fails half-way must leave the previous figure as it was.
    from gatefield.plot import _common

    target = tmp_path / "spectrum.png"
    fig, ax = _common.figure(2, 2)
    ax.plot([0, 1], [0, 1])
    _common.save(fig, target)
    first = target.read_bytes()
    assert first.startswith(b"\x89PNG") and [p.name for p in tmp_path.iterdir()] == ["spectrum.png"]

    def broken(self, file, **kwargs):
        file.write(b"half a figure")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(fig), "savefig", broken)
    with pytest.raises(GatefieldError, match="No space left on device"):
        _common.save(fig, target)
    assert target.read_bytes() == first  # the old figure, whole
    assert [p.name for p in tmp_path.iterdir()] == ["spectrum.png"]  # no temporary left behind


@pytest.mark.parametrize(
    "cell, settings",
    [("EEE", []), ("rate", ["--set", "g=1e300"])],
)
def test_an_overflowing_support_moment_is_refused_not_read_as_zero(capsys, tmp_path, cell, settings):
    # Was: 'spectral radius 0.0000' for exp(exp(exp(...))) (true 0.0327), and
    # 'no bulk' with a RuntimeWarning for the rate network at g = 1e300 (inf * 0).
    if cell == "EEE":
        cell = one_state_cell(tmp_path, "tanh(exp(exp(exp(g * (J @ h)))))")
    line = refusal(capsys, ["spectrum", cell, *settings])
    assert "spectral moments" in line and "are not finite" in line and "bounded form" in line


def test_validate_of_a_saturated_map_reports_plain_finite_numbers(capsys, tmp_path):
    # Was: 'the radius must be a finite positive number, got np.float64(0.0)'
    # (beta = 50 saturates every unit: the whole spectrum sits at 0).
    out = tmp_path / "D"
    assert cli.main(["validate", "vanilla", "--set", "beta=50", "--N", "100", "--seeds", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "np." not in captured.out + captured.err
    assert "all checks passed" in captured.out
    json.loads((out / "report.json").read_text(), parse_constant=lambda token: pytest.fail(f"JSON holds {token}"))


def test_timeout_stops_a_long_command_with_one_line(capsys, tmp_path):
    import signal
    import time

    start = time.monotonic()
    line = refusal(capsys, ["dmft", "gru", "--timeout", "0.5", "--plot", str(tmp_path / "c.png")])
    assert time.monotonic() - start < 10.0
    assert "stopped after --timeout 0.5 s" in line
    # The alarm is disarmed and the previous handler is back.
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow  # two validate runs: about 10 s on an idle core
def test_timeout_keeps_a_previous_report_complete(capsys, tmp_path):
    from gatefield.io.reports import verify

    out = tmp_path / "D"
    argv = ["validate", "vanilla", "--N", "50", "--seeds", "1", "--out", str(out)]
    assert cli.main(argv) == 0
    capsys.readouterr()
    before = (out / "report.json").read_bytes()
    line = refusal(capsys, [*argv, "--timeout", "0.3"])
    assert "--timeout" in line
    assert verify(out) and (out / "report.json").read_bytes() == before


def test_timeout_without_posix_alarms_is_refused_not_ignored(capsys, monkeypatch):
    # Windows has no SIGALRM: a deadline that silently did nothing would let
    # the command run on past it.
    import signal

    monkeypatch.delattr(signal, "SIGALRM")
    line = refusal(capsys, ["meanfield", "vanilla", "--timeout", "5"])
    assert "POSIX alarms" in line and "leave --timeout out" in line


@pytest.mark.parametrize("value", ["0", "-1", "nan", "1e9"])
def test_a_bad_timeout_is_refused(capsys, value):
    line = refusal(capsys, ["meanfield", "vanilla", "--timeout", value])
    assert "--timeout" in line


def test_figure_list_as_json(capsys):
    # Was: the text list under --json (found by the fuzz campaign).
    assert cli.main(["figure", "--list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert "gru-update-slow-modes" in listing and all(isinstance(v, str) for v in listing.values())


def cell_file(tmp_path, states, equations) -> str:
    """A discrete cell with parameter g = 2.0 and the given states and equations."""
    path = tmp_path / "big.toml"
    lines = ["[cell]", 'name = "big"', 'time = "discrete"', f"state = {json.dumps(states)}", "", "[parameters]"]
    lines += ["g = 2.0", "", "[equations]"] + [f'{lhs} = "{rhs}"' for lhs, rhs in equations.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _dense(m):
    states = [f"h{i}" for i in range(m)]
    return states, {
        s: "tanh(" + " + ".join(f"(J{i}{j} @ {t})" for j, t in enumerate(states)) + ")" for i, s in enumerate(states)
    }


def _independent(m):
    states = [f"h{i}" for i in range(m)]
    return states, {s: f"tanh(g * (J{i} @ {s}))" for i, s in enumerate(states)}


@pytest.mark.parametrize(
    "cell, reason",
    [
        ((["h"], {"h": "tanh((J0 @ h) + (J1 @ h) + (J2 @ h) + (J3 @ h))"}), "4-D quadrature"),
        (_dense(3), "mean-field unknowns over about"),
        (_dense(6), "quadrature of about"),
        (_independent(10), "10 distinct mean-field order parameters"),
    ],
    ids=["4-D sum", "3 dense states", "6 dense states", "10 independent states"],
)
def test_a_cell_past_the_quadrature_limits_is_refused_before_any_work(capsys, tmp_path, cell, reason):
    # Was: past 60 s (4-D quadrature, 3 dense states), MemoryError (4-6 states), a hang (10 states).
    import time

    start = time.monotonic()
    line = refusal(capsys, ["meanfield", cell_file(tmp_path, *cell)])
    assert time.monotonic() - start < 30.0  # the SymPy derivation only
    assert reason in line and "sampling route" in line and "--route plug-in" in line


def test_the_quadrature_limits_are_raised_by_the_problem_itself(tmp_path):
    from gatefield.cells import load_cell
    from gatefield.errors import UnsupportedCellError
    from gatefield.numerics.problems import MeanField

    with pytest.raises(UnsupportedCellError, match="4-D quadrature"):
        MeanField(load_cell(cell_file(tmp_path, ["h"], {"h": "tanh((J0 @ h) + (J1 @ h) + (J2 @ h) + (J3 @ h))"})))
    MeanField(load_cell("lstm"))  # one 3-D unknown: the largest accepted


@pytest.mark.parametrize("constant", ["1.0 / 0.0", "0.0 / 0.0"])
def test_a_float_division_by_zero_in_a_cell_file_is_refused(capsys, tmp_path, constant):
    # Found by the fuzz campaign: SymPy Floats raise ZeroDivisionError (a traceback) where 1 / 0 gives zoo.
    line = refusal(capsys, ["show", one_state_cell(tmp_path, f"tanh(g * (J @ h)) + tanh({constant})")])
    assert "equation 'h'" in line and "divides by zero" in line
