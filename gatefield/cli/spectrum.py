"""``gatefield spectrum``: the support of the Jacobian's spectrum on a route."""

from __future__ import annotations

import numpy as np

from ..errors import GatefieldError
from ._common import cell_arg, check_network, emit_json, json_arg, overrides, route_args, route_sites, say, set_arg


def add(sub, command):
    p = command(sub, "spectrum", "predict the support of the Jacobian's spectrum", run)
    cell_arg(p)
    set_arg(p)
    route_args(p, "simulate N units (plug-in default 1000; with fixed-point, overlay the finite-N eigenvalues)")
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the support (and eigenvalues)")


def run(args):
    from ..cells import load_cell
    from ..numerics.spectrum import inside_support
    from ..plot._common import check_path
    from ..validation import finite_n_spectrum

    cell = load_cell(args.cell)
    check_network(cell, args.N)
    params = overrides(args.set)
    if args.plot:
        check_path(args.plot)
    eigenvalues = None
    if args.route == "plug-in" and args.plot:
        # The plug-in prediction belongs to its own snapshot: take both from one network.
        N = args.N or 1000
        say(f"  simulating N = {N} (seed {args.seed}) to a steady state ...")
        spec = finite_n_spectrum(cell, params, N, args.seed, route="plug-in")
        sites, eigenvalues = spec.sites, spec.eigenvalues
    else:
        sites = route_sites(cell, args, params)
        if args.N is not None and args.route != "plug-in":
            say(f"  simulating N = {args.N} (seed {args.seed}) ...")
            spec = finite_n_spectrum(cell, sites.values, args.N, args.seed, route=args.route, equations="reduced")
            if not spec.converged:
                raise GatefieldError(
                    f"the N = {args.N} network (seed {args.seed}) has no fixed point "
                    "that relaxation or Newton on its fixed-point map finds; use --route "
                    "plug-in for time-dependent states"
                )
            eigenvalues = spec.eigenvalues
    support = sites.support
    N = args.N or (1000 if eigenvalues is not None else None)
    data = support.to_json()
    data["order_parameters"] = dict(sites.order_parameters)
    data["label"] = sites.label
    edge = None
    if N is not None:
        from ..numerics.spectrum import edge_prediction

        edge = edge_prediction(sites, N)
        data["edge_prediction"] = edge.to_json()
    outside = None
    if eigenvalues is not None:
        outside = float(np.mean(~inside_support(sites, eigenvalues, N)))
        data["outside_fraction"] = outside
        data["largest_modulus"] = float(np.max(np.abs(eigenvalues)))
    if args.plot:
        from ..plot import plot_spectrum

        title = f"{cell.name}: {sites.label}" + (f", {outside:.2%} outside" if outside is not None else "")
        plot_spectrum(args.plot, support, eigenvalues, title, args.route, N=N)
        say(f"wrote {args.plot}")
    if args.json:
        emit_json(data)
        return
    print(f"{cell.name}: route {args.route} ({sites.label})")
    print(f"  {support.summary()}")
    print("  order parameters: " + ", ".join(f"q[{n}] = {v:.6g}" for n, v in sites.order_parameters.items()))
    if edge is not None:
        line = (
            f"  largest |eigenvalue| at N = {N}: predicted {edge.median:.4f} "
            f"({edge.band:.0%} band {edge.low:.4f} to {edge.high:.4f})"
        )
        if eigenvalues is not None:
            line += f", simulated {data['largest_modulus']:.4f}"
        print(line)
    if outside is not None:
        print(f"  eigenvalues outside the predicted support (bulk and whiskers): {outside:.2%}")
