"""``gatefield cells``, ``show`` and ``latex``: the cell and its derived equations."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import GatefieldError
from ._common import cell_arg


def add(sub, command):
    command(sub, "cells", "list the built-in cells", cells)
    cell_arg(command(sub, "show", "print a cell and its derived equations", show))
    p = command(sub, "latex", "write a standalone LaTeX document of the cell and its theory", latex)
    cell_arg(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def cells(args):
    from ..cells import BUILTINS

    for name, make in BUILTINS.items():
        cell = make()
        print(f"{name:12s} {cell.time:10s} {cell.description}")


def show(args):
    from ..cells import load_cell
    from ..theory import fixed_point, mean_field_equations

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
        print(f"  {s}* solved numerically per quadrature point")
    print("mean-field equations (eta_a ~ N(0, q_a) independent):")
    mf = mean_field_equations(cell)
    for q, integrand in zip(mf.order_parameters, mf.integrands):
        print(f"  {q} = E[{integrand}]")


def latex(args):
    from ..cells import load_cell
    from ..io.latex import latex_document

    text = latex_document(load_cell(args.cell))
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as err:
            raise GatefieldError(f"cannot write {args.output}: {err.strerror}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
