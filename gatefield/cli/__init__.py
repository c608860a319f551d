"""The ``gatefield`` command line: a thin layer over the public API.

One module per command, printing only. Every user error prints one line to
stderr and exits with status 2; progress of long runs goes to stderr, results
to stdout (or files).
"""

from __future__ import annotations

import sys

from ..errors import GatefieldError
from . import complexity, count, density, describe, dmft, figure, meanfield, phase, spectrum, sweep, validate
from ._common import DeadlineExceeded, Parser, Progress, deadline, timeout_seconds

__all__ = ["main", "build_parser"]

COMMANDS = (describe, meanfield, spectrum, validate, dmft, sweep, figure, density, count, complexity, phase)


def build_parser() -> Parser:
    parser = Parser(
        prog="gatefield",
        description="Theory of random gated recurrent networks: derive, solve and "
        "validate mean-field and spectral predictions from a cell spec.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def command(sub, name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument(
            "--timeout",
            type=timeout_seconds,
            metavar="SECONDS",
            help="give up after SECONDS of wall-clock time with one error line and exit status 2",
        )
        return p

    for module in COMMANDS:
        module.add(sub, command)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with deadline(args.timeout):
            args.func(args)
    except GatefieldError as err:
        return _fail(str(err))
    except MemoryError:
        return _fail(
            "the machine ran out of memory for this request; use a smaller --N, fewer samples "
            "or points, or a simpler cell"
        )
    except DeadlineExceeded:
        return _fail(
            f"stopped after --timeout {args.timeout:g} s, unfinished (an --out folder keeps its previous complete "
            "report); allow more time, or ask for less work (smaller --N, fewer samples, points or seeds)"
        )
    except KeyboardInterrupt:
        print("gatefield: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. '| head' closed the pipe: not an error of ours
        sys.stderr.close()
        return 0
    return 0


def _fail(message: str) -> int:
    """Print ``gatefield: error: message`` as one line of its own; exit status 2."""
    Progress.end_line()
    print(f"gatefield: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
