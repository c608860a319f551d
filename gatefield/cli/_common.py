"""What every command shares: the parser, parameter overrides, progress and output."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import time

from .._json import dumps
from ..errors import GatefieldError

__all__ = [
    "Parser",
    "overrides",
    "emit_json",
    "Progress",
    "at_least",
    "positive_float",
    "network_size",
    "check_network",
    "check_jobs",
    "deadline",
    "DeadlineExceeded",
]


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message):
        where = f"gatefield {self.prog.split()[-1]} --help" if " " in self.prog else "gatefield --help"
        self.exit(2, f"gatefield: error: {message} (see '{where}')\n")


def overrides(pairs) -> dict:
    """``--set name=value`` pairs as a dict of numbers."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise GatefieldError(f"--set expects name=value, got {pair!r}")
        try:
            number = float(value)
        except ValueError:
            raise GatefieldError(f"--set {name}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise GatefieldError(f"--set {name}: the value must be finite, got {value}")
        out[name.strip()] = number
    return out


def emit_json(obj) -> None:
    """Print ``obj`` as JSON through the package's one encoder (never NaN tokens)."""
    print(dumps(obj))


def say(text: str) -> None:
    """A progress or status line on stderr."""
    Progress.end_line()
    print(text, file=sys.stderr, flush=True)


#: DMFT iterations between progress lines when stderr is not a terminal.
DMFT_EVERY = 10


class Progress:
    """Progress lines on stderr: a bar redrawn in place, or one line per tick.

    Only one redrawn line is open at a time (:meth:`end_line` closes it).
    """

    _open = False

    def __init__(self, label: str, bar: bool = True, width: int = 30):
        self.label, self.bar, self.width = label, bar, width

    @classmethod
    def end_line(cls) -> None:
        if cls._open:
            print(file=sys.stderr)
            cls._open = False

    def __call__(self, done: int, total: int) -> None:
        if not self.bar:
            say(f"  {self.label} {done}/{total}")
            return
        Progress.end_line()
        filled = int(self.width * done / max(total, 1))
        end = "\n" if done >= total else ""
        print(
            f"\r  {self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    @classmethod
    def dmft(cls, info: dict) -> None:
        """How far from self-consistent: one redrawn stderr line per DMFT
        iteration on a terminal, one line every ``DMFT_EVERY`` iterations
        into a file or pipe."""
        drift = info.get("drift", float("nan"))
        trend = "" if drift != drift else f", drift over the window {drift:.1e}"
        line = (
            f"  dmft iteration {info['iteration']}: change {info['residual']:.2e} "
            f"(sampling noise {info['noise']:.1e}{trend})"
        )
        if not sys.stderr.isatty():
            if info["iteration"] % DMFT_EVERY == 0:
                print(line, file=sys.stderr, flush=True)
            return
        print("\r" + line, end="", file=sys.stderr, flush=True)
        cls._open = True


def at_least(kind, least, why, most=None, cost=""):
    """An argparse type: a ``kind`` number >= ``least``; ``why`` explains a miss.
    With ``most``, larger values are refused too; ``cost`` says why."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not (math.isfinite(value) and value >= least):
            raise argparse.ArgumentTypeError(f"{why} and finite, got {text}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"at most {most} is accepted ({cost}), got {text}; use a smaller value")
        return value

    return parse


def available_memory() -> int:
    """Bytes of memory this machine can still give (MemAvailable, else all RAM)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _size(nbytes: float) -> str:
    for unit, scale in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes / 1e3:.3g} kB"


def check_network(cell, N, option: str = "--N") -> None:
    """Refuse a network of ``N`` units that cannot fit in memory, before any work.

    A network holds one N x N coupling matrix per coupling and its (m N)^2
    Jacobian, whose eigendecomposition needs about three more of its size:
    ``8 N^2 (K + 4 m^2)`` bytes. The message gives the estimate and the
    largest N that fits in 80% of the available memory.
    """
    if N is None:
        return
    per = 8.0 * (cell.K + 4 * cell.m**2)
    have = 0.8 * available_memory()
    need = per * float(N) ** 2
    if need > have:
        largest = int(math.sqrt(have / per))
        raise GatefieldError(
            f"{option} {N}: a network of {N} units of cell '{cell.name}' needs about {_size(need)} of memory "
            f"and {_size(have)} is free; use --N {largest} or less"
        )


def check_jobs(jobs: int) -> None:
    """Refuse more worker processes than cores."""
    if jobs > cores():
        raise GatefieldError(
            f"--jobs {jobs} exceeds the {cores()} core(s) of this machine; use --jobs {cores()} or less"
        )


class DeadlineExceeded(BaseException):
    """The command ran past its ``--timeout``.

    A BaseException, like KeyboardInterrupt: no ``except Exception`` in a
    solver swallows it, and every ``finally`` (atomic report writes, worker
    pools) still runs on the way out.
    """


@contextlib.contextmanager
def deadline(seconds: float | None):
    """Raise :class:`DeadlineExceeded` in the main thread after ``seconds``
    (SIGALRM; a no-op for ``None``, off the main thread or without SIGALRM).

    The previous SIGALRM handler and timer are restored on exit, the timer
    less the time spent here.
    """
    if seconds is None:
        yield
        return
    if not hasattr(signal, "SIGALRM"):
        raise GatefieldError(
            "--timeout needs POSIX alarms (Linux or macOS), which this system lacks; leave --timeout out"
        )
    if not threading_main():  # called from a thread (an embedding program): no signals to use
        yield
        return

    def expire(signum, frame):
        raise DeadlineExceeded(seconds)

    start = time.monotonic()
    handler = signal.signal(signal.SIGALRM, expire)
    outer, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if outer > 0:  # someone else's alarm was set: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-6), interval)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


positive_float = at_least(float, 1e-300, "must be positive")
positive_int = at_least(int, 1, "must be positive")
network_size = at_least(int, 2, "a network needs at least 2 units")
nonnegative_int = at_least(int, 0, "must be >= 0")
#: Bounded sizes: each is refused by argparse, before any work, past what runs in hours.
seed_count = at_least(int, 1, "must be positive", 1000, "one network per seed, one after another")
path_samples = at_least(int, 1, "must be positive", 200_000, "each DMFT path keeps about 15 kB of history")
lyapunov_steps = at_least(int, 0, "must be >= 0", 1_000_000, "QR steps run one after another")
scan_points = at_least(int, 1, "must be positive", 200, "each point is a full solve")
newton_starts = at_least(
    int, 1, "must be positive", 100_000, "each start is a Newton solve of N equations, one after another"
)
integral_samples = at_least(int, 1, "must be positive", 1_000_000, "each importance sample needs an N x N determinant")
#: The all-roots scan's grid starts at 1e-7 Q (gatefield.numerics.solvers.roots): past 1e4 it would
#: start above 1e-3 and step over small solutions (Q = 1e308 lost vanilla's q = 0.53).
q_range = at_least(float, 1e-300, "must be positive", 1e4, "the root scan starts at 1e-7 Q and steps over smaller q")
dmft_iterations = at_least(int, 1, "must be positive", 100_000, "each iteration re-simulates every sampled path")
timeout_seconds = at_least(
    float, 0.001, "must be at least 0.001 (a millisecond)", 1e8, "about three years; leave --timeout out instead"
)
#: Most points of a sweep grid (every point is a mean-field solve).
MAX_SWEEP_POINTS = 10_000


def cell_arg(p) -> None:
    p.add_argument("cell", metavar="CELL", help="a built-in name (see 'gatefield cells') or a TOML file")


def set_arg(p) -> None:
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter's default (repeatable)")


def vary_arg(p, help_text: str) -> None:
    """``--vary NAME START STOP NUM``, repeatable (parsed by the sweep's grid rules)."""
    p.add_argument(
        "--vary", nargs=4, action="append", required=True, metavar=("NAME", "START", "STOP", "NUM"), help=help_text
    )


def json_arg(p) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")


ROUTE_HELP = (
    "site distribution: a mean-field fixed point; one snapshot of a simulation (plug-in); or samples "
    "of the dynamical mean-field theory (dmft), both for time-dependent states"
)


def route_args(p, n_help: str) -> None:
    from ..numerics.spectrum import ROUTES

    p.add_argument("--route", choices=list(ROUTES), default="fixed-point", help=ROUTE_HELP)
    p.add_argument(
        "--solution", type=int, help="fixed-point route: index into meanfield's solutions (default: the last)"
    )
    p.add_argument("--N", type=network_size, help=n_help)
    p.add_argument("--seed", type=nonnegative_int, default=0, help="simulation or sampling seed")


def route_sites(cell, args, params):
    """The site distribution the route arguments ask for, with a progress line."""
    from ..validation import sites_for_route

    if args.route != "fixed-point" and args.solution is not None:
        raise GatefieldError("--solution applies to the fixed-point route only; drop it or use --route fixed-point")
    if args.route == "plug-in":
        say(f"  simulating N = {args.N or 1000} (seed {args.seed}) to a steady state ...")
    elif args.route == "dmft":
        say("  solving the dynamical mean-field theory ...")
    sites = sites_for_route(
        cell,
        params,
        args.route,
        solution=-1 if args.solution is None else args.solution,
        N=args.N or 1000,
        seed=args.seed,
        dmft_progress=Progress.dmft,
    )
    Progress.end_line()
    return sites
