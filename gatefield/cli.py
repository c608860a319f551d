"""The ``gatefield`` command line: a thin layer over the public API.

Every user error prints one line to stderr and exits with status 2; progress
of long runs goes to stderr, results to stdout (or files).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from .errors import GatefieldError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message):
        self.exit(
            2,
            f"gatefield: error: {message} (see 'gatefield {self.prog.split()[-1]} --help')\n"
            if " " in self.prog
            else f"gatefield: error: {message} (see 'gatefield --help')\n",
        )


def _overrides(pairs) -> dict:
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


def _clean(obj):
    """JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _dump(obj) -> str:
    return json.dumps(_clean(obj), indent=2, allow_nan=False)


#: Whether the DMFT's progress line (redrawn in place) is still open on stderr.
_open_line = [False]


def _end_line():
    if _open_line[0]:
        print(file=sys.stderr)
        _open_line[0] = False


def _progress(label):
    def tick(done, total):
        _end_line()
        print(f"  {label} {done}/{total}", file=sys.stderr, flush=True)

    return tick


def _dmft_progress(info):
    """One stderr line per DMFT iteration: how far from self-consistent."""
    print(
        f"\r  dmft iteration {info['iteration']}: change {info['residual']:.2e} "
        f"(sampling noise {info['noise']:.1e})",
        end="",
        file=sys.stderr,
        flush=True,
    )
    _open_line[0] = True


def _progress_bar(label, width=30):
    """A one-line bar on stderr, redrawn in place."""

    def tick(done, total):
        _end_line()
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        print(
            f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return tick


def _number_at_least(kind, least, why):
    """An argparse type: a ``kind`` number >= ``least``; ``why`` explains a miss."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not (math.isfinite(value) and value >= least):
            raise argparse.ArgumentTypeError(f"{why} and finite, got {text}")
        return value

    return parse


_positive_float = _number_at_least(float, 1e-300, "must be positive")
_positive_int = _number_at_least(int, 1, "must be positive")
_network_size = _number_at_least(int, 2, "a network needs at least 2 units")
_nonnegative_int = _number_at_least(int, 0, "must be >= 0")


# -- commands -------------------------------------------------------------------


def cmd_cells(args):
    from .cells import BUILTINS

    for name, make in BUILTINS.items():
        cell = make()
        print(f"{name:12s} {cell.time:10s} {cell.description}")


def cmd_show(args):
    from .cells import load_cell
    from .theory import fixed_point, mean_field_equations

    cell = load_cell(args.cell)
    print(f"cell {cell.name} ({cell.time} time)")
    if cell.description:
        print(f"  {cell.description}")
    print(f"states: {', '.join(str(s) for s in cell.states)}")
    print("parameters: " + ", ".join(f"{p} = {v:g}" for p, v in cell.parameters))
    print("nodes:")
    for c in cell.couplings:
        print(f"  {c.node} = {c.matrix} @ ({c.argument})")
    print("definitions:")
    for sym, expr in cell.definitions:
        print(f"  {sym} = {expr}")
    lhs = "{}'" if cell.time == "discrete" else "d{}/dt"
    print("updates:")
    for s, F in zip(cell.states, cell.updates):
        print(f"  {lhs.format(s)} = {F}")
    fp = fixed_point(cell)
    print("fixed point per unit:")
    for s, value in fp.solution:
        print(f"  {s}* = {value}")
    for s in fp.numeric:
        print(f"  {s}* solved numerically per quadrature node")
    print("mean-field equations (eta_a ~ N(0, q_a) independent):")
    mf = mean_field_equations(cell)
    for q, integrand in zip(mf.order_parameters, mf.integrands):
        print(f"  {q} = E[{integrand}]")


def cmd_latex(args):
    from .cells import load_cell
    from .theory.latex import latex_document

    text = latex_document(load_cell(args.cell))
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as err:
            raise GatefieldError(f"cannot write {args.output}: {err.strerror}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_meanfield(args):
    from .cells import load_cell
    from .numerics import solve_mean_field

    cell = load_cell(args.cell)
    result = solve_mean_field(cell, _overrides(args.set), q_max=args.q_max)
    if args.json:
        print(_dump(result.to_json()))
        return
    print(f"{cell.name}: {len(result.solutions)} solution(s), q in [0, {args.q_max:g}]")
    for k, sol in enumerate(result.solutions):
        qs = ", ".join(f"q[{n}] = {v:.6g}" for n, v in sol.order_parameters.items())
        verdict = "stable" if sol.stable else "unstable"
        extra = ""
        if sol.support is not None:
            extra = (
                f", spectral radius {sol.support.spectral_radius:.4f}, "
                f"rightmost {sol.support.rightmost_real:.4f}"
            )
        print(f"  [{k}] {qs}; residual {sol.residual:.1e}; {verdict}{extra}")


def _solution_needs_fixed_point(args):
    if args.route != "fixed-point" and args.solution is not None:
        raise GatefieldError(
            "--solution applies to the fixed-point route only; drop it or use --route fixed-point"
        )


def _simulate_fixed_point(cell, values, N, seed):
    from .validation import simulate

    net = simulate.make_network(cell, N, seed, values)
    fp = simulate.find_fixed_point(net, simulate.initial_state(net, seed))
    if not fp.converged:
        raise GatefieldError(
            f"the N = {N} network (seed {seed}) did not relax to a fixed point "
            f"(residual {fp.residual:.1e}); use --route plug-in for time-dependent states"
        )
    return np.linalg.eigvals(simulate.jacobian(net, fp.state))


def cmd_spectrum(args):
    from .cells import load_cell
    from .numerics import inside_support, trace_support
    from .validation import fixed_point_spectrum, plot_spectrum, plugin_spectrum

    cell = load_cell(args.cell)
    overrides = _overrides(args.set)
    eigenvalues, outside = None, None
    if args.route == "fixed-point":
        if args.solution is None:
            args.solution = -1
        result, index, support, sites = fixed_point_spectrum(cell, overrides, args.solution)
        order = result.solutions[index].order_parameters
        if args.N is not None:
            print(f"  simulating N = {args.N} (seed {args.seed}) ...", file=sys.stderr)
            eigenvalues = _simulate_fixed_point(cell, result.parameters, args.N, args.seed)
            outside = float(np.mean(~inside_support(sites, eigenvalues)))
        label = f"solution {index}"
    elif args.route == "dmft":
        _solution_needs_fixed_point(args)
        from .numerics.dmft import dmft_site_table, solve_dmft
        from .validation import simulate

        print("  solving the dynamical mean-field theory ...", file=sys.stderr)
        dmft = solve_dmft(cell, overrides, seed=args.seed, progress=_dmft_progress)
        _end_line()
        sites = dmft_site_table(cell, dmft)
        support = trace_support(sites, cell.time)
        order = {name: float(c[0]) for name, c in dmft.correlations.items()}
        if args.N is not None:
            print(f"  simulating N = {args.N} (seed {args.seed}) to a steady state ...", file=sys.stderr)
            net = simulate.make_network(cell, args.N, args.seed, dmft.parameters)
            burn_in = 500 if cell.time == "discrete" else 200.0
            state = simulate.run_to_steady_state(net, simulate.initial_state(net, args.seed), burn_in)
            eigenvalues = np.linalg.eigvals(simulate.jacobian(net, state))
            outside = float(np.mean(~inside_support(sites, eigenvalues)))
        label = f"dmft, {dmft.status}"
    else:
        _solution_needs_fixed_point(args)
        N = args.N or 1000
        print(f"  simulating N = {N} (seed {args.seed}) to a steady state ...", file=sys.stderr)
        comp = plugin_spectrum(cell, overrides, N, args.seed, eigenvalues=args.plot is not None)
        support, order = comp.support, comp.order_parameters
        if comp.eigenvalues.size:
            eigenvalues, outside = comp.eigenvalues, comp.outside_fraction
        label = f"plug-in, N = {N}"
    data = support.to_json()
    data["order_parameters"] = order
    if outside is not None:
        data["outside_fraction"] = outside
    if args.plot:
        title = f"{cell.name}: {label}" + (f", {outside:.2%} outside" if outside is not None else "")
        try:
            plot_spectrum(args.plot, support, eigenvalues, cell.time, title, args.route)
        except (OSError, ValueError) as err:
            raise GatefieldError(
                f"cannot write the figure {args.plot}: {err}; use an existing folder "
                "and a .png, .pdf or .svg name"
            ) from None
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(_dump(data))
        return
    print(f"{cell.name}: route {args.route} ({label})")
    print(
        f"  spectral radius {support.spectral_radius:.6f}, rightmost real part "
        f"{support.rightmost_real:.6f}, {'stable' if support.stable else 'unstable'}"
    )
    print("  order parameters: " + ", ".join(f"q[{n}] = {v:.6g}" for n, v in order.items()))
    if outside is not None:
        print(f"  eigenvalues outside the predicted support: {outside:.2%}")


def cmd_validate(args):
    from .cells import load_cell
    from .validation import validate, write_report

    cell = load_cell(args.cell)
    overrides = _overrides(args.set)
    cell.resolve(overrides)
    if not args.dynamics and (args.lyapunov_steps or args.lyapunov_N):
        raise GatefieldError("--lyapunov-steps and --lyapunov-N belong to the dynamics check; add --dynamics")
    if args.out:  # fail before the simulations, not after
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise GatefieldError(f"cannot write the report to {args.out}: {err.strerror}") from None
    if args.dynamics:
        return _validate_dynamics(cell, overrides, args)
    print(f"validating {cell.name}: N = {args.N}, {args.seeds} seed(s)", file=sys.stderr)
    report = validate(cell, overrides, N=args.N, seeds=args.seeds, progress=_progress("seed"))
    if args.out:
        try:
            files = write_report(report, args.out, cell.time)
        except OSError as err:
            raise GatefieldError(f"cannot write the report to {args.out}: {err.strerror}") from None
        print("wrote " + ", ".join(files.values()), file=sys.stderr)
    if args.json:
        print(_dump(report.to_json()))
        return
    print(f"{cell.name}: {report.regime}; route {report.route}")
    for c in report.checks:
        mark = "PASS" if c.passed else "FAIL"
        print(
            f"  [{mark}] {c.quantity}: theory {c.theory:.6g}, simulation {c.simulation:.6g}, "
            f"tolerance {c.tolerance:.3g}"
        )
    print("all checks passed" if report.passed else "some checks failed")


def _validate_dynamics(cell, overrides, args):
    from .validation.dynamics import plot_dynamics, validate_dynamics

    if args.lyapunov_N and not args.lyapunov_steps:
        raise GatefieldError(
            "--lyapunov-N needs --lyapunov-steps (the QR steps per network), e.g. --lyapunov-steps 3000"
        )
    if len(set(args.lyapunov_N or ())) == 1:
        raise GatefieldError(
            "--lyapunov-N needs at least two different sizes to extrapolate in 1/N, "
            "e.g. --lyapunov-N 500 1000 2000"
        )
    print(
        f"validating the dynamics of {cell.name}: DMFT, then N = {args.N}, {args.seeds} seed(s)",
        file=sys.stderr,
    )
    report = validate_dynamics(
        cell,
        overrides,
        N=args.N,
        seeds=args.seeds,
        lyapunov_steps=args.lyapunov_steps,
        lyapunov_sizes=args.lyapunov_N or (),
        progress=_progress("seed"),
        dmft_progress=_dmft_progress,
        lyapunov_progress=_progress_bar("QR networks"),
    )
    _end_line()
    if args.out:
        out = Path(args.out)
        try:
            (out / "dynamics.json").write_text(_dump(report.to_json()) + "\n")
            plot_dynamics(out / "correlations.png", report)
        except OSError as err:
            raise GatefieldError(f"cannot write the report to {args.out}: {err.strerror}") from None
        print(f"wrote {out / 'dynamics.json'}, {out / 'correlations.png'}", file=sys.stderr)
    if args.json:
        print(_dump(report.to_json()))
        return
    sim = report.simulated
    print(
        f"{cell.name}: dynamics, DMFT ({report.dmft.status}, "
        f"{'static' if report.dmft.static else 'time-dependent'}) against N = {sim.N}, {sim.seeds} seed(s)"
    )
    for c in report.checks:
        mark = "PASS" if c.passed else "FAIL"
        print(
            f"  [{mark}] {c.quantity}: theory {c.theory:.6g}, simulation {c.simulation:.6g}, "
            f"tolerance {c.tolerance:.3g}"
        )
    unit = "step" if cell.time == "discrete" else "unit time"
    if sim.lyapunov is not None:
        error = "" if sim.lyapunov_error is None else f" +- {sim.lyapunov_error:.2g}"
        print(
            f"  maximal Lyapunov exponent (QR, N = {sim.N}): {sim.lyapunov:.4g}{error} per {unit}"
            + ("" if report.lyapunov_scan else "; finite N is biased low, --lyapunov-N extrapolates")
        )
    scan = report.lyapunov_scan
    if scan is not None:
        print(f"  QR exponent per N ({args.seeds} seed(s) each, {scan.steps} steps):")
        for n, lam, err in zip(scan.sizes, scan.exponents, scan.errors):
            print(f"    N = {n}: {lam:.4f} +- {err:.4f}")
        print(
            f"    extrapolated to N = infinity: {scan.limit:.4f} +- {scan.limit_error:.4f}; "
            f"DMFT {report.dmft_lyapunov.exponent:.4f} +- {report.dmft_lyapunov.stderr:.4f} per {unit}"
        )
    print("all checks passed" if report.passed else "some checks failed")


def cmd_dmft(args):
    from .cells import load_cell
    from .numerics.dmft import solve_dmft
    from .validation import plot_correlations

    cell = load_cell(args.cell)
    overrides = _overrides(args.set)
    if args.method == "annealed":
        return _dmft_annealed(cell, overrides, args)
    if args.method == "fourier":
        from .numerics import solve_dmft_fourier

        result = solve_dmft_fourier(cell, overrides, start=args.start)
    else:
        result = solve_dmft(
            cell,
            overrides,
            samples=args.samples,
            iterations=args.iterations,
            seed=args.seed,
            start=args.start,
            progress=_dmft_progress,
        )
        _end_line()
    results = result if isinstance(result, tuple) else (result,)
    exponents = {}
    if args.lyapunov:
        for r in results:
            if args.method == "fourier":
                exponents[r.start] = {"exponent": r.lyapunov, "stderr": 0.0, "method": "Schroedinger"}
            else:
                from .numerics import dmft_lyapunov

                print(f"  linearized two-replica DMFT ({r.start} start) ...", file=sys.stderr)
                ly = dmft_lyapunov(cell, overrides, dmft=r, seed=args.seed)
                exponents[r.start] = {
                    "exponent": ly.exponent,
                    "stderr": ly.stderr,
                    "method": f"two-replica, {ly.status}",
                }
    if args.plot:
        try:
            plot_correlations(args.plot, results)
        except (OSError, ValueError) as err:
            raise GatefieldError(f"cannot write the figure {args.plot}: {err}") from None
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        data = [r.to_json() for r in results]
        for d, r in zip(data, results):
            if r.start in exponents:
                d["lyapunov"] = exponents[r.start]
        print(_dump(data if len(data) > 1 else data[0]))
        return
    for r in results:
        kind = "static" if r.static else "time-dependent"
        print(
            f"{cell.name}: DMFT ({args.method}) from a {r.start} start: {kind}; {r.status} after "
            f"{r.iterations} iterations (residual {r.residual:.2e})"
        )
        errors = getattr(r, "moment_errors", {})
        for name, value in r.moments.items():
            error = errors.get(name)
            print(f"  {name} = {value:.6g}" + ("" if error is None else f" +- {error:.2g}"))
        for name, t in r.decay_time.items():
            print(f"  decay time of C[{name}]: {t:.4g}")
        if r.start in exponents:
            e = exponents[r.start]
            print(
                f"  maximal Lyapunov exponent ({e['method']}): {e['exponent']:.4g} +- {e['stderr']:.2g} "
                f"per {'step' if cell.time == 'discrete' else 'unit time'}"
            )


def _route_sites(cell, args, overrides):
    from .validation import route_sites

    _solution_needs_fixed_point(args)
    if args.route == "plug-in":
        print(f"  simulating N = {args.N or 1000} (seed {args.seed}) to a steady state ...", file=sys.stderr)
    elif args.route == "dmft":
        print("  solving the dynamical mean-field theory ...", file=sys.stderr)
    found = route_sites(
        cell,
        overrides,
        args.route,
        -1 if args.solution is None else args.solution,
        N=args.N or 1000,
        seed=args.seed,
        dmft_progress=_dmft_progress,
    )
    _end_line()
    return found


def _grid(args, support):
    """The --grid box, or the support's bounding box plus 5% (an even number
    of rows, so that no row lies on the real axis where sites' own
    eigenvalues sit)."""
    if args.grid is not None:
        x0, x1, y0, y1 = args.grid[:4]
        nx, ny = int(args.grid[4]), int(args.grid[5])
        if not (x0 < x1 and y0 < y1) or nx != args.grid[4] or ny != args.grid[5] or nx < 2 or ny < 2:
            raise GatefieldError(
                "--grid expects XMIN XMAX YMIN YMAX NX NY with XMIN < XMAX, YMIN < YMAX "
                "and integers NX, NY >= 2"
            )
    else:
        points = np.concatenate(support.components) if support.components else np.array([0j])
        pad = 0.05 * max(float(np.ptp(points.real)), float(np.ptp(points.imag)), 1e-3)
        x0, x1 = points.real.min() - pad, points.real.max() + pad
        reach = float(np.abs(points.imag).max()) + pad
        y0, y1 = -reach, reach
        nx, ny = args.points, args.points + (args.points % 2)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def cmd_density(args):
    from .cells import load_cell
    from .numerics import density, site_atoms, trace_support
    from .validation import plot_density

    cell = load_cell(args.cell)
    found = _route_sites(cell, args, _overrides(args.set))
    support = trace_support(found.table, cell.time)
    x, y = _grid(args, support)
    grid = x[None, :] + 1j * y[:, None]
    rho = density(found.sites, grid, progress=_progress_bar("density rows"))
    dA = (x[1] - x[0]) * (y[1] - y[0])
    mass = float(rho.sum() * dA / found.sites.m)
    atoms = site_atoms(found.sites)
    if args.plot:
        title = f"{cell.name}: density ({found.label}); grid holds {mass:.1%}"
        try:
            plot_density(args.plot, x, y, rho, support, atoms, cell.time, title)
        except (OSError, ValueError) as err:
            raise GatefieldError(
                f"cannot write the figure {args.plot}: {err}; use an existing folder "
                "and a .png, .pdf or .svg name"
            ) from None
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(
            _dump(
                {
                    "cell": cell.name,
                    "route": found.route,
                    "label": found.label,
                    "parameters": found.parameters,
                    "x": x.tolist(),
                    "y": y.tolist(),
                    "density": rho.tolist(),
                    "grid_mass": mass,
                    "atoms": [a.to_dict() for a in atoms],
                }
            )
        )
        return
    k = np.unravel_index(np.argmax(rho), rho.shape)
    print(f"{cell.name}: density on a {len(x)} x {len(y)} grid, route {found.route} ({found.label})")
    print(f"  Re in [{x[0]:.4g}, {x[-1]:.4g}], Im in [{y[0]:.4g}, {y[-1]:.4g}]")
    print(f"  share of eigenvalues on the grid (Riemann sum): {mass:.4f}")
    print(f"  largest density {rho[k]:.4g} at {x[k[1]]:.4g}{y[k[0]]:+.4g}i")
    for a in atoms:
        print(f"  atom at {a.location.real:.6g}{a.location.imag:+.6g}i, weight {a.weight:.4g}")
    if not atoms:
        print("  no atoms (no gate shuts exactly)")


def cmd_count(args):
    from .cells import load_cell
    from .numerics import count_annulus, count_inside
    from .validation import binomial_error, finite_n_spectrum, fraction_in_disc

    if not args.disc and not args.annulus:
        raise GatefieldError("give at least one region: --disc X Y R or --annulus X Y R_IN R_OUT")
    regions = [("disc", (x, y, r)) for x, y, r in args.disc or []]
    regions += [("annulus", (x, y, a, b)) for x, y, a, b in args.annulus or []]
    for kind, numbers in regions:
        if (
            not all(math.isfinite(v) for v in numbers)
            or numbers[2] <= 0
            or (kind == "annulus" and numbers[3] <= numbers[2])
        ):
            raise GatefieldError(
                f"--{kind} {' '.join(f'{v:g}' for v in numbers)}: radii must be positive "
                "(and R_IN < R_OUT) and every number finite"
            )
    cell = load_cell(args.cell)
    overrides = _overrides(args.set)

    def theory(sites):
        out = []
        for kind, v in regions:
            c = complex(v[0], v[1])
            out.append(
                count_inside(sites, c, v[2]) if kind == "disc" else count_annulus(sites, c, v[2], v[3])
            )
        return np.array(out)

    def empirical(eig):
        out = []
        for kind, v in regions:
            c = complex(v[0], v[1])
            inner = fraction_in_disc(eig, c, v[2])
            out.append(inner if kind == "disc" else fraction_in_disc(eig, c, v[3]) - inner)
        return np.array(out)

    rows = []
    if args.N is not None and args.route == "plug-in":
        # The plug-in prediction belongs to its own snapshot: one per seed.
        preds, sims = [], []
        for seed in range(args.seed, args.seed + args.seeds):
            print(f"  simulating N = {args.N} (seed {seed}) ...", file=sys.stderr)
            spec = finite_n_spectrum(cell, overrides, args.N, seed, route="plug-in")
            preds.append(theory(spec.sites))
            sims.append(empirical(spec.eigenvalues))
        predicted, label, sims = np.mean(preds, axis=0), f"plug-in, N = {args.N}, {args.seeds} seed(s)", sims
    else:
        found = _route_sites(cell, args, overrides)
        predicted, label, sims = theory(found.sites), found.label, []
        if args.N is not None:
            for seed in range(args.seed, args.seed + args.seeds):
                print(f"  simulating N = {args.N} (seed {seed}) ...", file=sys.stderr)
                spec = finite_n_spectrum(cell, found.parameters, args.N, seed, route=args.route)
                if not spec.converged:
                    raise GatefieldError(
                        f"the N = {args.N} network (seed {seed}) did not relax to a fixed "
                        "point; use --route plug-in for time-dependent states"
                    )
                sims.append(empirical(spec.eigenvalues))
    m = cell.m
    for k, (kind, v) in enumerate(regions):
        row = {"region": kind, "numbers": list(v), "theory": float(predicted[k])}
        if sims:
            values = np.array([s[k] for s in sims])
            n = len(values)
            row["simulation"] = float(values.mean())
            row["binomial_error"] = binomial_error(row["simulation"], args.N * m * n)
            row["seed_error"] = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None
        rows.append(row)
    if args.json:
        print(_dump({"cell": cell.name, "route": args.route, "label": label, "counts": rows}))
        return
    print(f"{cell.name}: share of eigenvalues in each region, route {args.route} ({label})")
    for row in rows:
        text = f"  {row['region']} {' '.join(f'{v:g}' for v in row['numbers'])}: theory {row['theory']:.5f}"
        if "simulation" in row:
            seed_error = "" if row["seed_error"] is None else f", seed scatter {row['seed_error']:.5f}"
            text += (
                f"; simulation {row['simulation']:.5f} (binomial error {row['binomial_error']:.5f}"
                f"{seed_error})"
            )
        print(text)


def cmd_figure(args):
    from .validation.figures import FIGURES, figure_table, make_figure

    if args.list or args.name is None:
        if args.name is None and not args.list:
            raise GatefieldError("name a figure, or use --list to see them")
        for name, figure in FIGURES.items():
            print(f"{name:24s} {figure.claim}")
        return
    if args.name not in FIGURES:
        raise GatefieldError(f"unknown figure {args.name!r}; choose from {', '.join(FIGURES)}")
    out = Path(args.out or f"{args.name}.png")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise GatefieldError(f"--out {out}: use a .png, .pdf or .svg name")
    if not out.parent.exists():
        raise GatefieldError(f"--out {out}: the folder {out.parent} does not exist")
    print(
        f"figure {args.name}: N = {args.N}, {args.seeds} seed(s) per point"
        + (" (quick)" if args.quick else ""),
        file=sys.stderr,
    )
    data = make_figure(
        args.name,
        N=args.N,
        seeds=args.seeds,
        out=out,
        jobs=args.jobs,
        quick=args.quick,
        progress=_progress_bar("theory points and networks"),
    )
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    if args.json:
        print(_dump(data))
        return
    print(figure_table(data))


def _dmft_annealed(cell, overrides, args):
    from .numerics.dmft import solve_dmft

    """Weights redrawn every step: the annealed theory, and with --N the
    untied simulation it describes (and the tied DMFT, for the gap)."""
    from .numerics import solve_annealed

    if cell.time != "discrete":
        raise GatefieldError("the annealed mode is for discrete-time cells; use --method sampling")
    annealed = solve_annealed(cell, overrides, samples=max(args.samples, 10_000), seed=args.seed)
    rows = {"annealed theory": (annealed.moments, annealed.moment_errors)}
    if args.N is not None:
        from .validation import simulate_untied

        print(f"  simulating N = {args.N} with weights redrawn every step ...", file=sys.stderr)
        untied = simulate_untied(
            cell, args.N, 400, parameters=overrides, burn_in=200, weight_seed=args.seed, state_seed=args.seed
        )
        rows[f"untied simulation, N = {args.N}"] = (untied.moments, untied.moment_errors)
        print("  solving the tied-weights DMFT for comparison ...", file=sys.stderr)
        tied = solve_dmft(cell, overrides, samples=args.samples, seed=args.seed, progress=_dmft_progress)
        _end_line()
        tied = tied[0] if isinstance(tied, tuple) else tied
        rows["tied DMFT (fixed weights)"] = (tied.moments, tied.moment_errors)
    if args.json:
        print(
            _dump(
                {
                    "cell": cell.name,
                    "parameters": annealed.parameters,
                    "status": annealed.status,
                    "rows": {k: {"moments": m, "errors": e} for k, (m, e) in rows.items()},
                }
            )
        )
        return
    print(f"{cell.name}: annealed mode (weights redrawn every step), {annealed.status}")
    keys = [k for k in annealed.moments if all(k in m for m, _ in rows.values())]
    print("  " + f"{'moment':18s}" + "".join(f"{label:>30s}" for label in rows))
    for key in keys:
        cells = "".join(f"{m[key]:>18.5g} +- {e.get(key, float('nan')):<8.2g}" for m, e in rows.values())
        print(f"  {key:18s}{cells}")


def cmd_sweep(args):
    from .cells import load_cell
    from .numerics.sweep import sweep
    from .validation import plot_sweep

    cell = load_cell(args.cell)
    vary = {}
    for name, start, stop, num in args.vary:
        try:
            values = np.linspace(float(start), float(stop), int(num))
        except ValueError:
            raise GatefieldError(
                f"--vary {name}: START and STOP must be numbers and NUM an integer, got {start} {stop} {num}"
            ) from None
        if int(num) < 1 or not np.all(np.isfinite(values)):
            raise GatefieldError(f"--vary {name}: need NUM >= 1 and finite START and STOP")
        if name in vary:
            raise GatefieldError(f"--vary {name} is given twice")
        vary[name] = values
    result = sweep(
        cell,
        vary,
        args.quantity or ["spectral_radius"],
        _overrides(args.set),
        choice=args.solution_choice,
        progress=_progress_bar("sweep"),
        delta=args.delta,
    )
    if args.plot:
        try:
            plot_sweep(args.plot, result)
        except (OSError, ValueError) as err:
            raise GatefieldError(f"cannot write the figure {args.plot}: {err}") from None
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(_dump(result.to_json()))
        return
    header = list(result.names) + list(result.values)
    print("  ".join(f"{h:>15s}" for h in header))
    for index in np.ndindex(*[len(a) for a in result.axes]):
        coords = [result.axes[k][i] for k, i in enumerate(index)]
        row = coords + [result.values[q][index] for q in result.values]
        print("  ".join(f"{v:15.6g}" for v in row))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gatefield",
        description="Theory of random gated recurrent networks: derive, "
        "solve and validate mean-field and spectral predictions from a cell spec.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def cell_args(p):
        p.add_argument("cell", metavar="CELL", help="a built-in name (see 'gatefield cells') or a TOML file")

    def set_arg(p):
        p.add_argument(
            "--set", action="append", metavar="NAME=VALUE", help="override a parameter's default (repeatable)"
        )

    def json_arg(p):
        p.add_argument("--json", action="store_true", help="print JSON")

    add("cells", "list the built-in cells", cmd_cells)
    p = add("show", "print a cell and its derived equations", cmd_show)
    cell_args(p)
    p = add("latex", "write a standalone LaTeX document of the cell and its theory", cmd_latex)
    cell_args(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p = add("meanfield", "find all solutions of the fixed-point mean-field equations", cmd_meanfield)
    cell_args(p)
    set_arg(p)
    p.add_argument("--q-max", type=_positive_float, default=50.0, help="search q in [0, Q] (default 50)")
    json_arg(p)
    p = add("spectrum", "predict the support of the Jacobian's spectrum", cmd_spectrum)
    cell_args(p)
    set_arg(p)
    p.add_argument(
        "--route",
        choices=["fixed-point", "plug-in", "dmft"],
        default="fixed-point",
        help="site distribution: a mean-field fixed point; one snapshot of a simulation "
        "(plug-in); or samples of the dynamical mean-field theory (dmft), both for "
        "time-dependent states",
    )
    p.add_argument("--solution", type=int, help="index into meanfield's solutions (default: the last)")
    p.add_argument(
        "--N",
        type=_network_size,
        help="simulate N units (plug-in default 1000; with fixed-point, overlay the finite-N eigenvalues)",
    )
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="coupling and initial-state seed")
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the support (and eigenvalues)")
    p = add("validate", "check the theory against finite-N simulations", cmd_validate)
    cell_args(p)
    set_arg(p)
    p.add_argument("--N", type=_network_size, default=1000, help="units per network (default 1000)")
    p.add_argument("--seeds", type=_positive_int, default=3, help="coupling draws (default 3)")
    json_arg(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write report.json and spectrum.png to DIR "
        "(with --dynamics: dynamics.json and correlations.png)",
    )
    p.add_argument(
        "--dynamics",
        action="store_true",
        help="check the dynamical mean-field theory (moments, correlation functions) instead",
    )
    p.add_argument(
        "--lyapunov-steps",
        type=_nonnegative_int,
        default=0,
        help="with --dynamics: also the QR Lyapunov exponent over this many steps",
    )
    p.add_argument(
        "--lyapunov-N",
        type=_network_size,
        nargs="+",
        metavar="N",
        help="with --dynamics and --lyapunov-steps: QR exponents at these sizes (--seeds "
        "each), extrapolated in 1/N and checked against the DMFT exponent",
    )
    p = add("dmft", "solve the dynamical mean-field theory of a time-dependent state", cmd_dmft)
    cell_args(p)
    set_arg(p)
    p.add_argument("--samples", type=_positive_int, default=2000, help="single-unit paths (default 2000)")
    p.add_argument("--iterations", type=_positive_int, default=60, help="most iterations (default 60)")
    p.add_argument(
        "--start",
        choices=["large", "small", "both"],
        default="large",
        help="initial correlations: large finds the chaotic branch, small the static one",
    )
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="sampling seed")
    p.add_argument(
        "--method",
        choices=["sampling", "fourier", "annealed"],
        default="sampling",
        help="sampling: any cell (default); fourier: cells whose unit is Gaussian (rate "
        "networks, constant gates); annealed: weights redrawn every step",
    )
    p.add_argument(
        "--lyapunov",
        action="store_true",
        help="also the maximal Lyapunov exponent (two-replica DMFT; fourier: Schroedinger form)",
    )
    p.add_argument(
        "--N",
        type=_network_size,
        help="annealed: also simulate N units with untied weights, and the tied DMFT",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the correlation functions")
    from .numerics.sweep import QUANTITIES

    p = add("sweep", "sweep spectral and mean-field quantities over one or two parameters", cmd_sweep)
    cell_args(p)
    set_arg(p)
    p.add_argument(
        "--vary",
        nargs=4,
        action="append",
        required=True,
        metavar=("NAME", "START", "STOP", "NUM"),
        help="a parameter and its grid (once or twice)",
    )
    p.add_argument(
        "--quantity",
        action="append",
        choices=list(QUANTITIES),
        help="what to report (repeatable; default spectral_radius)",
    )
    p.add_argument(
        "--solution",
        dest="solution_choice",
        choices=["auto", "last"],
        default="auto",
        help="auto: the stable solution of largest q if any, else the largest; last: the largest",
    )
    p.add_argument(
        "--delta",
        type=_positive_float,
        default=0.05,
        help="radius about the slow point for slow_fraction (default 0.05)",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure")

    def spectral_route_args(p, n_help):
        p.add_argument(
            "--route",
            choices=["fixed-point", "plug-in", "dmft"],
            default="fixed-point",
            help="site distribution: mean-field fixed point, a simulated snapshot (plug-in), "
            "or dynamical mean-field samples (dmft)",
        )
        p.add_argument(
            "--solution",
            type=int,
            help="fixed-point route: index into meanfield's solutions (default: the last)",
        )
        p.add_argument("--N", type=_network_size, help=n_help)
        p.add_argument("--seed", type=_nonnegative_int, default=0, help="simulation or sampling seed")

    p = add("figure", "reproduce a founding spectral claim: theory curves over finite-N points", cmd_figure)
    p.add_argument("name", metavar="NAME", nargs="?", help="the figure (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and the claims they show")
    p.add_argument("--N", type=_network_size, default=1000, help="units per network (default 1000)")
    p.add_argument("--seeds", type=_positive_int, default=3, help="networks per point (default 3)")
    p.add_argument("--jobs", type=_positive_int, default=1, help="processes for the simulations (default 1)")
    p.add_argument("--quick", action="store_true", help="a few points only (a smoke run)")
    p.add_argument(
        "--out", metavar="FILE", help="figure file (default NAME.png; the data go in the .json beside it)"
    )
    json_arg(p)
    p = add("density", "predict the eigenvalue density of the Jacobian on a grid", cmd_density)
    cell_args(p)
    set_arg(p)
    spectral_route_args(p, "plug-in route: units simulated (default 1000)")
    p.add_argument(
        "--grid",
        nargs=6,
        type=float,
        metavar=("XMIN", "XMAX", "YMIN", "YMAX", "NX", "NY"),
        help="the grid (default: the support's bounding box, --points per side)",
    )
    p.add_argument(
        "--points",
        type=_number_at_least(int, 2, "needs at least 2 points"),
        default=60,
        help="points per side of the default grid (default 60)",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the density")
    p = add("count", "predict the share of eigenvalues in discs and annuli (contour integral)", cmd_count)
    cell_args(p)
    set_arg(p)
    spectral_route_args(p, "also simulate N units and count their eigenvalues (plug-in default 1000)")
    p.add_argument(
        "--disc",
        nargs=3,
        type=float,
        action="append",
        metavar=("X", "Y", "R"),
        help="the disc |lambda - (X + iY)| < R (repeatable)",
    )
    p.add_argument(
        "--annulus",
        nargs=4,
        type=float,
        action="append",
        metavar=("X", "Y", "R_IN", "R_OUT"),
        help="the annulus R_IN < |lambda - (X + iY)| < R_OUT (repeatable)",
    )
    p.add_argument("--seeds", type=_positive_int, default=1, help="with --N: networks simulated (default 1)")
    json_arg(p)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except GatefieldError as err:
        print(f"gatefield: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gatefield: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. '| head' closed the pipe: not an error of ours
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
