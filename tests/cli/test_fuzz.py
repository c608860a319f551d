"""The fuzz campaign of issue 11 as property-based tests (hypothesis).

Four classes of input, each run through :func:`gatefield.cli.main` in-process:

- ``grammar``: cell files drawn from the cell grammar (valid ones, and
  near-valid ones with one mutation: a table dropped, a key misspelt, an
  unknown name or function, a character inserted, the text cut short);
- ``garbage``: arbitrary bytes as a cell file;
- ``argv``: command lines built from the parser's own options, with values
  from a pool of valid, boundary, huge, non-finite and malformed strings;
- ``extreme``: built-in cells with ``--set name=value`` at extreme values.

Every case must keep the command line's promises:

- exit status 0 or 2 (argparse's usage errors included);
- on exit 2, exactly one ``gatefield: error: ...`` line on stderr, and it is
  the last (progress lines may come before it), and no traceback;
- with ``--json`` and exit 0, stdout is valid JSON without NaN or Infinity
  tokens; the numeric text commands print no ``nan`` or ``inf``;
- nothing is written outside the case's temporary folder (the working
  directory of the case), and no process is started or socket opened (an
  audit hook, armed only while a case runs);
- each case ends within a time limit (a hang is a failure, not a timeout of
  the whole run).

Profiles: the default suite runs a fixed-seed fast profile (``derandomize``,
a few examples per class, cheap commands; a few seconds); the long profile
(``--run-long``) draws many examples and runs the numerics (mean field,
spectrum) on the drawn cells. Each test records the cases tried and their
outcomes; the module prints the table at the end (``pytest -s`` or ``-rA``
shows it in the terminal summary).
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import signal
import string
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatefield import cli

# -- profiles -----------------------------------------------------------------------------------

_COMMON = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)
#: The default suite: fixed examples (derandomize), few of them, cheap commands.
FAST = settings(derandomize=True, max_examples=25, **_COMMON)
#: ``--run-long``: many random examples, numerics included.
LONG = settings(max_examples=int(os.environ.get("GATEFIELD_FUZZ_EXAMPLES", "300")), **_COMMON)

#: Seconds one case may take. The fast profile only reads cells and refuses
#: arguments (well under a second each); the long one solves mean fields and
#: spectra of drawn cells (a two-state cell takes about 10 s, validate at N = 20 up to a minute on a loaded core).
FAST_LIMIT_S = 20.0
LONG_LIMIT_S = 180.0

# -- the harness --------------------------------------------------------------------------------


class Hang(BaseException):
    """A case ran past its time limit (BaseException: no ``except Exception`` swallows it)."""


class Violation(BaseException):
    """The case tried to start a process, open a socket or write outside its folder."""


_FORBIDDEN_PREFIXES = (
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "socket.",
    "pty.",
    "ctypes.dlopen",
)
#: Events that change the file system at their path arguments.
_PATH_EVENTS = {
    "os.remove": (0,),
    "os.rename": (0, 1),
    "os.replace": (0, 1),
    "os.mkdir": (0,),
    "os.rmdir": (0,),
    "os.symlink": (0, 1),
    "os.link": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

_audit: dict = {"root": None, "events": []}


def _inside(path) -> bool:
    if isinstance(path, int):  # a file descriptor: already opened, checked then
        return True
    try:
        full = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    root = _audit["root"]
    return full == root or full.startswith(root + os.sep)


def _hook(event, args):
    if _audit["root"] is None:
        return
    bad = None
    if event.startswith(_FORBIDDEN_PREFIXES):
        bad = event
    elif event == "open" and args:
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writes and not _inside(path):
            bad = f"open({path!r}, {mode!r}) outside the case folder"
    elif event in _PATH_EVENTS:
        for i in _PATH_EVENTS[event]:
            if i < len(args) and args[i] is not None and not _inside(args[i]):
                bad = f"{event}({args[i]!r}) outside the case folder"
    if bad is not None:
        _audit["events"].append(bad)
        raise Violation(bad)


sys.addaudithook(_hook)  # audit hooks cannot be removed; it is inert unless a case is running


def _alarm(signum, frame):
    raise Hang()


#: Outcomes per class: Counter of (class, outcome) -> cases.
TALLY: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_tally(request):
    # Everything a case may import lazily is imported now, outside the audit:
    # a first import writes bytecode caches, a first plot the font cache.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure()
    plt.close("all")
    yield
    if not TALLY:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["fuzz campaign: cases per class and outcome"]
    for kind in sorted({k for k, _ in TALLY}):
        outcomes = {o: n for (k, o), n in TALLY.items() if k == kind}
        total = sum(outcomes.values())
        detail = ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items()))
        lines.append(f"  {kind:8s} {total:5d} tried: {detail}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        if reporter is not None:
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)
    path = os.environ.get("GATEFIELD_FUZZ_TALLY")
    if path:
        Path(path).write_text(json.dumps({f"{k}/{o}": n for (k, o), n in TALLY.items()}, indent=1) + "\n")


def _no_nonfinite(token):
    raise AssertionError(f"stdout JSON holds the non-finite token {token}")


NUMERIC_TEXT = ("meanfield", "spectrum", "count", "complexity", "sweep")
NONFINITE_WORDS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


def run_case(kind: str, argv: list, folder: Path, limit_s: float) -> tuple[int, str, str]:
    """Run ``gatefield argv`` in ``folder`` and check every invariant; tally the outcome."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    cwd = os.getcwd()
    os.chdir(folder)
    _audit["events"] = []
    _audit["root"] = os.path.realpath(folder)
    bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    start = time.perf_counter()
    status = None
    try:
        signal.setitimer(signal.ITIMER_REAL, limit_s)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv)
            except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
                status = exc.code
    except BaseException as exc:
        _record_failure(kind, argv, folder, repr(exc)[:2000] + "\n" + err.getvalue()[-2000:])
        if isinstance(exc, Hang):
            TALLY[kind, "hang"] += 1
            raise AssertionError(f"{argv} ran past {limit_s} s") from None
        if isinstance(exc, Violation):
            TALLY[kind, "violation"] += 1
            raise AssertionError(f"{argv}: {exc}") from None
        TALLY[kind, "traceback"] += 1
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _audit["root"] = None
        sys.dont_write_bytecode = bytecode
        os.chdir(cwd)
    elapsed = time.perf_counter() - start
    stdout, stderr = out.getvalue(), err.getvalue()
    outcome = {0: "ok", 2: "refused"}.get(status, f"exit {status}")
    try:
        assert not _audit["events"], _audit["events"]
        assert status in (0, 2), f"exit {status}: {stderr}"
        assert "Traceback" not in stderr, stderr
        lines = [line for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("gatefield: error: ")]
        if status == 2:
            assert len(errors) == 1 and lines[-1] == errors[0], stderr
            assert "np.float" not in errors[0] and "array(" not in errors[0], errors[0]
        else:
            assert not errors, stderr
            if "--json" in argv and "--help" not in argv and "-h" not in argv and stdout.strip():
                try:
                    json.loads(stdout, parse_constant=_no_nonfinite)
                except ValueError as exc:
                    raise AssertionError(f"--json printed invalid JSON ({exc}): {stdout[:200]!r}") from None
            elif argv and argv[0] in NUMERIC_TEXT and "--help" not in argv:
                words = stdout.replace(",", " ").replace("(", " ").replace(")", " ").replace("=", " ").split()
                assert not NONFINITE_WORDS & {w.lower().rstrip(";:") for w in words}, stdout
    except AssertionError as exc:
        TALLY[kind, "broken promise"] += 1
        _record_failure(kind, argv, folder, f"{exc}\nstatus {status}\nstdout {stdout[-1500:]}\nstderr {stderr[-1500:]}")
        raise
    TALLY[kind, outcome] += 1
    if os.environ.get("GATEFIELD_FUZZ_TIMES"):
        with open(os.environ["GATEFIELD_FUZZ_TIMES"], "a") as handle:
            handle.write(f"{elapsed:.2f} {outcome} {kind} {argv}\n")
    assert elapsed < limit_s + 1.0
    return status, stdout, stderr


def _record_failure(kind: str, argv: list, folder: Path, what: str) -> None:
    """With GATEFIELD_FUZZ_FAILURES=FILE, append the failing case (and its cell file) there."""
    path = os.environ.get("GATEFIELD_FUZZ_FAILURES")
    if not path:
        return
    _audit["root"] = None  # the harness's own write, not the case's
    cell = folder / "cell.toml"
    text = cell.read_bytes()[:3000].decode("utf-8", "replace") if cell.exists() else ""
    with open(path, "a") as handle:
        handle.write(f"=== {kind} {argv}\n{text}\n--- {what}\n")


@contextlib.contextmanager
def case_folder():
    with tempfile.TemporaryDirectory(prefix="gatefield-fuzz-") as name:
        yield Path(name)


# -- strategies: the cell grammar ---------------------------------------------------------------

FUNCTIONS = ("tanh", "sigmoid", "exp", "log", "erf", "softplus", "relu", "abs", "sqrt", "sin", "cos")
STATE_NAMES = ("h", "c", "x")
PARAMETER_NAMES = ("g", "a", "b", "beta", "alpha_z")
#: Parameter defaults: ordinary, boundary and extreme (all finite: the file format refuses others).
NUMBERS = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, 1e-300, 1e300, -1e300, 5e-324, 1e15]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)


def _fmt(x: float) -> str:
    return repr(float(x))


@st.composite
def expressions(draw, states, parameters, couplings, depth=0):
    """An elementwise expression of the grammar: names, numbers, + - * / **, calls and J @ v."""
    leaves = [st.sampled_from(states), st.sampled_from(parameters), NUMBERS.map(_fmt)]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    choice = draw(st.integers(0, 5))
    sub = expressions(states, parameters, couplings, depth + 1)
    if choice == 0:
        return draw(st.one_of(*leaves))
    if choice == 1:
        return f"{draw(st.sampled_from(FUNCTIONS))}({draw(sub)})"
    if choice == 2:
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        return f"({draw(sub)} {op} {draw(sub)})"
    if choice == 3:
        return f"({draw(sub)}) ** {draw(st.integers(-3, 4))}"
    if choice == 4 and len(couplings) < 4:
        name = f"J{len(couplings)}"
        couplings.append(name)
        return f"({name} @ {draw(sub)})"
    return f"{draw(st.sampled_from(parameters))} * {draw(sub)}"


@st.composite
def cell_texts(draw, max_states=2):
    """A cell file of the grammar: [cell], [parameters], [equations], each state updated once."""
    n = draw(st.integers(1, max_states))
    states = list(STATE_NAMES[:n])
    parameters = draw(st.lists(st.sampled_from(PARAMETER_NAMES), min_size=1, max_size=3, unique=True))
    time_kind = draw(st.sampled_from(["discrete", "continuous"]))
    couplings: list = []
    lines = ["[cell]", 'name = "fuzz"', f'time = "{time_kind}"', f"state = {json.dumps(states)}", "", "[parameters]"]
    lines += [f"{p} = {_fmt(draw(NUMBERS))}" for p in parameters]
    lines += ["", "[equations]"]
    if draw(st.booleans()):  # a definition before the updates
        lines.append(f'u = "{draw(expressions(states, parameters, couplings))}"')
    for k, state in enumerate(states):
        rhs = draw(expressions(states, parameters, couplings))
        if time_kind == "continuous" and draw(st.booleans()):
            rhs = f"-{state} + {rhs}"  # a decay term: a per-unit fixed point exists
        if not couplings and (k == n - 1 or draw(st.booleans())):  # a cell needs a coupling
            couplings.append("J")
            rhs = f"tanh({parameters[0]} * (J @ {state})) + {rhs}"
        lines.append(f'{state} = "{rhs}"')
    return "\n".join(lines) + "\n"


_MUTATIONS = (
    "drop table",
    "misspell key",
    "unknown name",
    "unknown function",
    "insert char",
    "truncate",
    "duplicate coupling",
    "string parameter",
    "hostile",
)
HOSTILE = (
    "__import__('os').system('touch PWNED')",
    "h.__class__",
    "open('/etc/passwd')",
    "9**9**9**9",
    "exp(10**20 * log(2))",
    "h[0]",
    "(lambda: 1)()",
    "1 if h else 0",
)


@st.composite
def near_valid_cell_texts(draw):
    """A grammar cell with one mutation that should make it invalid (or leave it valid)."""
    text = draw(cell_texts())
    mutation = draw(st.sampled_from(_MUTATIONS))
    lines = text.splitlines()
    if mutation == "drop table":
        table = draw(st.sampled_from(["[cell]", "[parameters]", "[equations]"]))
        text = text.replace(table, "", 1)
    elif mutation == "misspell key":
        key = draw(st.sampled_from(["name =", "time =", "state ="]))
        text = text.replace(key, key[0].upper() + key[1:] + "x", 1)
    elif mutation == "unknown name":
        text = text.replace('h = "', 'h = "undefined_name + ', 1)
    elif mutation == "unknown function":
        text = text.replace('h = "', 'h = "gamma(h) + ', 1)
    elif mutation == "insert char":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(list("\"'[]=#\\\n\t{}@*(") + ["\x00", "é"])) + text[at:]
    elif mutation == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif mutation == "duplicate coupling":
        text = text.replace('h = "', 'h = "(J0 @ h) + (J0 @ h) + ', 1)
    elif mutation == "string parameter":
        quoted = [line.replace(" = ", ' = "', 1) + '"' if line.startswith(PARAMETER_NAMES) else line for line in lines]
        text = "\n".join(quoted)
    else:
        text = text.replace('h = "', f'h = "{draw(st.sampled_from(HOSTILE))} + ', 1)
    return text + "\n"


GARBAGE = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"[cell]", b"[[cell]]\n" * 50, b"[" * 5000, b"a = [" * 3000]),
)


def write_cell(folder: Path, data) -> str:
    path = folder / "cell.toml"
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return str(path)


# -- strategies: command lines and extreme settings ---------------------------------------------

#: Values tried for any option: valid and boundary numbers, huge, non-finite and malformed.
VALUES = [
    "0",
    "1",
    "2",
    "3",
    "10",
    "-1",
    "0.5",
    "1e-300",
    "1e308",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "1000000000",
    "99999999999999999999999999",
    "",
    "abc",
    "g=1",
    "=",
    "--",
    "-",
    "é",
    "\x00",
]
#: Cheap cells for the command line: the vanilla map and the rate network solve in under a second.
CHEAP_CELLS = ("vanilla", "rate")
#: Commands whose every run is cheap whatever the (capped) options; the others are long-profile only.
FAST_COMMANDS = ("cells", "show", "meanfield", "spectrum", "count", "density", "complexity", "fixed-points", "dmft")


def _subparsers():
    parser = cli.build_parser()
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    raise AssertionError("no subcommands")


SUBPARSERS = _subparsers()


@st.composite
def argvs(draw, commands, folder_name):
    """A command line: a command, a cell, then options drawn from the parser's own."""
    command = draw(st.sampled_from(commands))
    sub = SUBPARSERS[command]
    argv = [command]
    options = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    # About half the values are small valid numbers, so that cases get past argparse to the numerics.
    valid = st.sampled_from(["1", "2", "3", "5", "0.5", "0", "20"])
    values = st.one_of(valid, valid, st.sampled_from(VALUES), st.text(string.printable, max_size=8))
    for action in sub._actions:
        if not action.option_strings and action.dest not in ("help",):  # positionals
            if action.dest == "cell":
                argv.append(draw(st.sampled_from(CHEAP_CELLS + ("nosuchcell", "", f"{folder_name}/missing.toml"))))
            elif action.choices:
                argv.append(draw(st.sampled_from(sorted(action.choices))))
    for action in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = draw(st.sampled_from(action.option_strings))
        argv.append(flag)
        if action.nargs == 0:
            continue
        count = action.nargs if isinstance(action.nargs, int) else (1 if action.nargs in (None, "?") else 2)
        for _ in range(count):
            if action.choices and draw(st.booleans()):
                argv.append(draw(st.sampled_from(sorted(map(str, action.choices)))))
            elif action.dest in ("plot", "out", "output"):
                argv.append(draw(st.sampled_from([f"{folder_name}/o.png", f"{folder_name}/d", folder_name, "x.pdf"])))
            else:
                argv.append(draw(values))
    # Sizes that are valid but large would make a case slow, not wrong: keep them small.
    if command in ("validate", "figure", "fixed-points") and "--N" not in argv:
        argv += ["--N", "20"]
    if command == "fixed-points" and "--starts" not in argv:
        argv += ["--starts", "20"]
    if command in ("validate", "fixed-points") and "--seeds" not in argv:
        argv += ["--seeds", "1"]
    if command == "dmft":
        for flag, value in (("--samples", "200"), ("--iterations", "20")):
            if flag not in argv:
                argv += [flag, value]
    return argv


def _parameters(name: str) -> list:
    from gatefield.cells import load_cell

    return [str(symbol) for symbol, _ in load_cell(name).parameters]


#: Built-in cells and their parameters, for extreme settings.
FAST_EXTREME_CELLS = {name: _parameters(name) for name in CHEAP_CELLS}
LONG_EXTREME_CELLS = {name: _parameters(name) for name in ("vanilla", "rate", "gru", "cgru", "lstm", "gated")}


EXTREMES = [
    "0",
    "-0.0",
    "1e-300",
    "-1e-300",
    "5e-324",
    "1e-8",
    "1e3",
    "-1e3",
    "1e8",
    "-1e8",
    "1e150",
    "1e300",
    "-1e300",
    "1.7976931348623157e308",
    "50",
    "-50",
    "nan",
    "inf",
]


@st.composite
def extreme_settings(draw, cells):
    """A built-in cell, a command and one to three ``--set name=value`` at extreme values."""
    name = draw(st.sampled_from(sorted(cells)))
    argv = [draw(st.sampled_from(["meanfield", "spectrum"])), name]
    for parameter in draw(st.lists(st.sampled_from(cells[name]), min_size=1, max_size=3, unique=True)):
        argv += ["--set", f"{parameter}={draw(st.sampled_from(EXTREMES))}"]
    return argv + ["--json"] * draw(st.booleans())


# -- the campaign -------------------------------------------------------------------------------
# Each class has a fast test (default suite) and a long one (--run-long).


def _grammar(text, command):
    with case_folder() as folder:
        run_case("grammar", [*command[:1], write_cell(folder, text), *command[1:]], folder, _limit(command))


def _limit(command) -> float:
    return FAST_LIMIT_S if command == ["show"] else LONG_LIMIT_S


@FAST
@given(text=st.one_of(cell_texts(), near_valid_cell_texts()))
def test_fuzz_grammar_fast(text):
    _grammar(text, ["show"])


@pytest.mark.long
@LONG
@given(
    text=st.one_of(cell_texts(), cell_texts(max_states=3), near_valid_cell_texts()),
    command=st.sampled_from([["show"], ["meanfield", "--json"], ["spectrum", "--json"], ["meanfield"]]),
)
def test_fuzz_grammar_long(text, command):
    _grammar(text, command)


def _garbage(data, command):
    with case_folder() as folder:
        run_case("garbage", [command, write_cell(folder, data)], folder, FAST_LIMIT_S)


@FAST
@given(data=GARBAGE)
def test_fuzz_garbage_fast(data):
    _garbage(data, "show")


@pytest.mark.long
@LONG
@given(data=GARBAGE, command=st.sampled_from(["show", "meanfield", "latex"]))
def test_fuzz_garbage_long(data, command):
    _garbage(data, command)


def _argv(data, commands, limit_s):
    with case_folder() as folder:
        run_case("argv", data.draw(argvs(commands, str(folder))), folder, limit_s)


@FAST
@given(data=st.data())
def test_fuzz_argv_fast(data):
    _argv(data, FAST_COMMANDS, FAST_LIMIT_S)


@pytest.mark.long
@LONG
@given(data=st.data())
def test_fuzz_argv_long(data):
    _argv(data, sorted(SUBPARSERS), LONG_LIMIT_S)


@settings(FAST, max_examples=8)
@given(argv=extreme_settings(FAST_EXTREME_CELLS))
def test_fuzz_extreme_fast(argv):
    with case_folder() as folder:
        run_case("extreme", argv, folder, FAST_LIMIT_S)


@pytest.mark.long
@LONG
@given(argv=extreme_settings(LONG_EXTREME_CELLS))
def test_fuzz_extreme_long(argv):
    with case_folder() as folder:
        run_case("extreme", argv, folder, LONG_LIMIT_S)
