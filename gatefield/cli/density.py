"""``gatefield density``: the eigenvalue density of the Jacobian on a grid."""

from __future__ import annotations

import numpy as np

from ..errors import GatefieldError
from ._common import (
    Progress,
    at_least,
    cell_arg,
    check_network,
    emit_json,
    json_arg,
    overrides,
    route_args,
    route_sites,
    say,
    set_arg,
)


def add(sub, command):
    p = command(sub, "density", "predict the eigenvalue density of the Jacobian on a grid", run)
    cell_arg(p)
    set_arg(p)
    route_args(p, "plug-in route: units simulated (default 1000)")
    p.add_argument(
        "--grid",
        nargs=6,
        type=float,
        metavar=("XMIN", "XMAX", "YMIN", "YMAX", "NX", "NY"),
        help="the grid (default: the support's bounding box, --points per side)",
    )
    p.add_argument(
        "--points",
        type=at_least(int, 2, "needs at least 2 points", 2000, "the density is evaluated at points^2 grid points"),
        default=60,
        help="points per side of the default grid (default 60)",
    )
    json_arg(p)
    p.add_argument("--plot", metavar="FILE", help="save a figure of the density")


def _grid(args, support) -> tuple:
    from ..numerics.spectrum.support import bounding_grid

    if args.grid is None:
        return bounding_grid(support, args.points)
    x0, x1, y0, y1 = args.grid[:4]
    nx, ny = int(args.grid[4]), int(args.grid[5])
    whole = nx == args.grid[4] and ny == args.grid[5]
    if not (x0 < x1 and y0 < y1 and whole and 2 <= nx <= 2000 and 2 <= ny <= 2000):
        raise GatefieldError(
            "--grid expects XMIN XMAX YMIN YMAX NX NY with XMIN < XMAX, YMIN < YMAX and integers 2 <= NX, NY <= 2000"
        )
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def run(args):
    from ..cells import load_cell
    from ..numerics.spectrum import density, site_atoms

    cell = load_cell(args.cell)
    check_network(cell, args.N)
    if args.plot:
        from ..plot._common import check_path

        check_path(args.plot)
    sites = route_sites(cell, args, overrides(args.set))
    x, y = _grid(args, sites.support)
    grid = x[None, :] + 1j * y[:, None]
    rho = density(sites, grid, progress=Progress("density rows"))
    dA = (x[1] - x[0]) * (y[1] - y[0])
    mass = float(rho.sum() * dA / sites.m)
    atoms = site_atoms(sites)
    if args.plot:
        from ..plot import plot_density

        title = f"{cell.name}: density ({sites.label}); grid holds {mass:.1%}"
        plot_density(args.plot, x, y, rho, sites.support, atoms, title)
        say(f"wrote {args.plot}")
    if args.json:
        emit_json(
            {
                "cell": cell.name,
                "route": sites.route,
                "label": sites.label,
                "parameters": sites.values,
                "x": x,
                "y": y,
                "density": rho,
                "grid_mass": mass,
                "atoms": [a.to_dict() for a in atoms],
            }
        )
        return
    k = np.unravel_index(np.argmax(rho), rho.shape)
    print(f"{cell.name}: density on a {len(x)} x {len(y)} grid, route {sites.route} ({sites.label})")
    print(f"  Re in [{x[0]:.4g}, {x[-1]:.4g}], Im in [{y[0]:.4g}, {y[-1]:.4g}]")
    print(f"  share of eigenvalues on the grid (Riemann sum): {mass:.4f}")
    print(f"  largest density {rho[k]:.4g} at {x[k[1]]:.4g}{y[k[0]]:+.4g}i")
    for a in atoms:
        print(f"  atom at {a.location.real:.6g}{a.location.imag:+.6g}i, weight {a.weight:.4g}")
    if not atoms:
        print("  no atoms (no gate shuts exactly)")
