"""``gatefield validate``: theory against finite-N simulations, with a report folder."""

from __future__ import annotations

import contextlib

from ..errors import GatefieldError
from ._common import (
    Progress,
    cell_arg,
    check_network,
    emit_json,
    json_arg,
    lyapunov_steps,
    network_size,
    overrides,
    say,
    seed_count,
    set_arg,
)


def add(sub, command):
    p = command(sub, "validate", "check the theory against finite-N simulations", run)
    cell_arg(p)
    set_arg(p)
    p.add_argument("--N", type=network_size, default=1000, help="units per network (default 1000)")
    p.add_argument("--seeds", type=seed_count, default=3, help="coupling draws (default 3)")
    json_arg(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write report.json and spectrum.png to DIR, whole or not at all "
        "(with --dynamics: dynamics.json and correlations.png)",
    )
    p.add_argument(
        "--chaotic-route",
        choices=("dmft", "plug-in"),
        default="dmft",
        help="without a stable fixed point: predict from the DMFT alone (default) or the support from each "
        "simulated snapshot (plug-in)",
    )
    p.add_argument(
        "--dynamics",
        action="store_true",
        help="check the dynamical mean-field theory (moments, correlation functions) instead",
    )
    p.add_argument(
        "--lyapunov-steps",
        type=lyapunov_steps,
        default=0,
        help="with --dynamics: also the QR Lyapunov exponent over this many steps",
    )
    p.add_argument(
        "--lyapunov-N",
        type=network_size,
        nargs="+",
        metavar="N",
        help="with --dynamics and --lyapunov-steps: QR exponents at these sizes (--seeds each), "
        "extrapolated in 1/N and checked against the DMFT exponent",
    )


def _report_folder(args, cell):
    from ..io.reports import ReportDirectory

    if not args.out:
        return contextlib.nullcontext()
    return ReportDirectory(args.out, {"command": "validate", "cell": cell.name, "dynamics": bool(args.dynamics)})


def _print_checks(report) -> None:
    for c in report.checks:
        print(f"  {c.line()}")
    print("all checks passed" if report.passed else "some checks failed")


def run(args):
    from ..cells import load_cell

    cell = load_cell(args.cell)
    params = overrides(args.set)
    cell.resolve(params)
    check_network(cell, args.N)
    for n in args.lyapunov_N or ():
        check_network(cell, n, "--lyapunov-N")
    if not args.dynamics and (args.lyapunov_steps or args.lyapunov_N):
        raise GatefieldError("--lyapunov-steps and --lyapunov-N belong to the dynamics check; add --dynamics")
    if args.dynamics:
        if args.lyapunov_N and not args.lyapunov_steps:
            raise GatefieldError(
                "--lyapunov-N needs --lyapunov-steps (the QR steps per network), e.g. --lyapunov-steps 3000"
            )
        if len(set(args.lyapunov_N or ())) == 1:
            raise GatefieldError(
                "--lyapunov-N needs at least two different sizes to extrapolate in 1/N, e.g. --lyapunov-N 500 1000 2000"
            )
    with _report_folder(args, cell) as folder:
        (_dynamics if args.dynamics else _static)(cell, params, args, folder)


def _static(cell, params, args, folder):
    from ..validation import validate

    say(f"validating {cell.name}: N = {args.N}, {args.seeds} seed(s)")
    report = validate(
        cell,
        params,
        N=args.N,
        seeds=args.seeds,
        progress=Progress("seed", bar=False),
        chaotic_route=args.chaotic_route,
        dmft_progress=Progress.dmft,
    )
    Progress.end_line()
    if folder is not None:
        from .._json import dumps
        from ..plot import plot_dynamics, plot_spectrum

        folder.path("report.json").write_text(dumps(report.to_json()) + "\n")
        if report.spectra:
            first = report.spectra[0]
            title = (
                f"{report.cell}: {report.regime}\nN = {report.N}, route: {report.route}, "
                f"{first.outside_fraction:.2%} outside"
            )
            plot_spectrum(
                folder.path("spectrum.png"), first.support, first.eigenvalues, title, report.route, N=report.N
            )
        if report.dynamics is not None:
            plot_dynamics(folder.path("correlations.png"), report.dynamics)
    if folder is not None:
        say("wrote " + ", ".join(folder.files.values()))
    if args.json:
        emit_json(report.to_json())
        return
    print(f"{cell.name}: {report.regime}; route {report.route}")
    _print_checks(report)


def _dynamics(cell, params, args, folder):
    from ..numerics.solvers import PathSampling
    from ..validation import validate_dynamics

    say(f"validating the dynamics of {cell.name}: DMFT, then N = {args.N}, {args.seeds} seed(s)")
    report = validate_dynamics(
        cell,
        params,
        N=args.N,
        seeds=args.seeds,
        solver=PathSampling(progress=Progress.dmft),
        lyapunov_steps=args.lyapunov_steps,
        lyapunov_sizes=args.lyapunov_N or (),
        progress=Progress("seed", bar=False),
        lyapunov_progress=Progress("QR networks"),
    )
    Progress.end_line()
    if folder is not None:
        from .._json import dumps
        from ..plot import plot_dynamics

        folder.path("dynamics.json").write_text(dumps(report.to_json()) + "\n")
        plot_dynamics(folder.path("correlations.png"), report)
        say("wrote " + ", ".join(folder.files.values()))
    if args.json:
        emit_json(report.to_json())
        return
    sim = report.simulated
    kind = "static" if report.dmft.static else "time-dependent"
    print(f"{cell.name}: dynamics, DMFT ({report.dmft.status.value}, {kind}) against N = {sim.N}, {sim.seeds} seed(s)")
    for c in report.checks:
        print(f"  {c.line()}")
    unit = "step" if cell.time == "discrete" else "unit time"
    if sim.lyapunov is not None:
        error = "" if sim.lyapunov.stderr != sim.lyapunov.stderr else f" +- {sim.lyapunov.stderr:.2g}"
        print(
            f"  maximal Lyapunov exponent (QR, N = {sim.N}): {sim.lyapunov.mean:.4g}{error} per {unit}"
            + ("" if report.lyapunov_scan else "; finite N is biased low, --lyapunov-N extrapolates")
        )
    scan = report.lyapunov_scan
    if scan is not None:
        print(f"  QR exponent per N ({args.seeds} seed(s) each, {scan.steps} steps):")
        for n, lam, err in zip(scan.sizes, scan.exponents, scan.errors):
            print(f"    N = {n}: {lam:.4f} +- {err:.4f}")
        ly = report.dmft_lyapunov.exponent
        print(
            f"    extrapolated to N = infinity: {scan.limit:.4f} +- {scan.limit_error:.4f}; "
            f"DMFT {ly.mean:.4f} +- {ly.stderr:.4f} per {unit}"
        )
    print("all checks passed" if report.passed else "some checks failed")
