"""What the quadrature routes can finish: cells past these limits are refused
when the problem is posed, before any work.

The fixed-point route integrates Gaussian nodes on tensor rules of graded
Gauss-Legendre panels, about :data:`NODE_POINTS` points per node. The cost of
one evaluation of the mean-field map ``q -> Phi(q)`` is the number of
quadrature points over all its distinct integrals, and the search for every
root (:class:`~gatefield.numerics.solvers.AllRoots`) evaluates the map many
times per unknown. Measured on two shared cores (``docs/cli.md#limits``):

============================================  =========  ========  ===========
cell                                          unknowns   largest   mean field
                                                         dim.
============================================  =========  ========  ===========
LSTM (built-in), ``tanh(J0 h + J1 h + J2 h)``  1          3         3-10 s
two states, each over three nodes              2          3         130 s
``tanh(J0 h + J1 h + J2 h + J3 h)``            1          4         112 s
three densely coupled states                   3          3         > 250 s
four independent states                        4          1         19 s (84 s
                                                                    with every
                                                                    root's
                                                                    spectrum)
six, eight, ten independent states             6, 8, 10   1         > 150 s,
                                                                    or memory
============================================  =========  ========  ===========

The sampling routes (a simulated snapshot, the DMFT's paths) integrate by
Monte Carlo over the units or paths instead, at a cost linear in the nodes,
and are not limited here.
"""

from __future__ import annotations

from ..errors import UnsupportedCellError
from .codegen import CompiledCell

__all__ = ["check_fixed_point_route", "MAX_DIMENSION", "MAX_UNKNOWNS", "MAX_WORK", "MAX_SUPPORT_NODES", "NODE_POINTS"]

#: Quadrature points of one node's graded rule at default settings (128-144 for
#: the built-in cells' nodes: 8 Gauss-Legendre points on each 1.75-wide panel of
#: [-8, 8], more around a steep switch).
NODE_POINTS = 144
#: Most Gaussian nodes one mean-field integral may couple: a 3-D tensor rule
#: has 3e6 points, a 4-D one 4e8 (3 GB per array).
MAX_DIMENSION = 3
#: Most distinct order parameters (unknowns of the mean-field map). Cells
#: with independent parts have up to 2^unknowns roots, each with its spectrum.
MAX_UNKNOWNS = 4
#: Most (unknowns x quadrature points per map evaluation): one 3-D integral
#: (the LSTM's, 3e6) and no more; two 3-D unknowns took 130 s.
MAX_WORK = 3_100_000
#: Most nodes the support's ``D(lam)`` may depend on at the fixed point: its
#: sites are the tensor rule of these nodes (2e4 for two), each carrying
#: ``K^2 (m + 1)^2`` moments, at every point of the support's trace.
MAX_SUPPORT_NODES = 2

_INSTEAD = (
    "simplify the cell (one coupling per sum: 'J @ h' rather than 'J0 @ h + J1 @ h'; fewer independent parts), "
    "or use a sampling route instead of the fixed-point quadrature: 'gatefield dmft', or "
    "'--route plug-in' / '--route dmft' of spectrum, density and count"
)


def check_fixed_point_route(compiled: CompiledCell) -> None:
    """Refuse a cell whose fixed-point quadrature could not finish in minutes.

    Raises
    ------
    UnsupportedCellError
        With the measured size (dimension, unknowns, points), the limit and
        what to do instead.
    """
    name = compiled.cell.name
    dims = [max((len(nodes) for nodes, _ in integral.groups), default=0) for integral in compiled.integrals]
    if dims and max(dims) > MAX_DIMENSION:
        j = dims.index(max(dims))
        nodes = max((nodes for nodes, _ in compiled.integrals[j].groups), key=len)
        raise UnsupportedCellError(
            f"cell '{name}' has a mean-field integral over {len(nodes)} Gaussian nodes at once "
            f"({', '.join(nodes)}): a {len(nodes)}-D quadrature of about {float(NODE_POINTS) ** len(nodes):.1g} "
            f"points per evaluation, past the {MAX_DIMENSION}-D the fixed-point route finishes; {_INSTEAD}"
        )
    unknowns = len(compiled.integrals)
    if unknowns > MAX_UNKNOWNS:
        raise UnsupportedCellError(
            f"cell '{name}' has {unknowns} distinct mean-field order parameters, past the {MAX_UNKNOWNS} for which "
            f"the search for every fixed point finishes (independent parts give up to 2^{unknowns} roots); "
            f"{_INSTEAD}"
        )
    points = sum(NODE_POINTS ** len(nodes) for integral in compiled.integrals for nodes, _ in integral.groups)
    if unknowns * points > MAX_WORK:
        raise UnsupportedCellError(
            f"cell '{name}' needs {unknowns} mean-field unknowns over about {points:.2g} quadrature points per "
            f"evaluation ({max(dims)}-D integrals), more than the fixed-point route finishes in minutes "
            f"(one 3-D unknown, as the LSTM's); {_INSTEAD}"
        )
    outer = compiled.support_nodes[0]
    if len(outer) > MAX_SUPPORT_NODES:
        raise UnsupportedCellError(
            f"cell '{name}': the support's D(lam) depends on {len(outer)} Gaussian nodes at the fixed point "
            f"({', '.join(outer)}), a tensor of about {float(NODE_POINTS) ** len(outer):.1g} sites, past the "
            f"{MAX_SUPPORT_NODES} the fixed-point route traces; {_INSTEAD}"
        )
