"""The LaTeX of the fixed-point complexity (``docs/theory/10-complexity.md``):
one section of :func:`gatefield.io.latex.cell_latex`."""

from __future__ import annotations

from ..errors import UnsupportedCellError
from ..theory.complexity import hermitized_determinant, kac_rice, stationarity_equations
from ..theory.spec import Cell
from ._latex_printer import _align, _fit, _list, _Printer, escape_text

__all__ = ["complexity_latex"]

#: Active nodes beyond which the LaTeX shows the determinant unexpanded (a
#: K x K determinant of sums of products has up to K! terms of its own).
EXPLICIT_K = 3


def complexity_latex(cell: Cell, printer=None) -> str:
    r"""A LaTeX section "Fixed-point complexity (Kac--Rice)" for the cell's report.

    Parameters
    ----------
    cell : Cell
    printer : optional
        The report's printer (``gatefield.io._latex_printer._Printer``), so
        that definitions fold as in the other sections; a new one by default.

    Returns
    -------
    str
        The section: the node map and which nodes drop out, ``v(eta)``,
        ``T(eta)``, the finite-N formula, the action ``S`` and its
        stationarity equations. Uses amsmath only.
    """
    p = printer if printer is not None else _Printer(cell)
    try:
        kr = kac_rice(cell)
    except UnsupportedCellError as err:
        return "\\section{Fixed-point complexity (Kac--Rice)}\nNot derived: " + escape_text(str(err)) + ".\n"
    out = [r"\section{Fixed-point complexity (Kac--Rice)}"]
    slow = "1" if kr.lam0 == 1 else "0"
    out.append(
        "Fixed points are counted through the zeros of the node map "
        "$G(\\eta) = \\eta - J\\, v(\\eta)$, with $v_a(\\eta) = v_a(s^*(\\eta), \\eta)$ and "
        f"the slow point $\\lambda_0 = {slow}$. The arguments in node space are"
    )
    out.append(_align([(p.v(n), p.show(v)) for n, v in zip(kr.nodes, kr.arguments)]))
    if kr.inert:
        names = _list(f"${p(n)}$" for n in kr.inert)
        out.append(
            f"\nNo argument depends on {names}: {'these nodes drop' if len(kr.inert) > 1 else 'this node drops'} "
            "out of the count exactly, at every $N$ (its Gaussian density integrates to one and its column of "
            "$T$ vanishes)."
        )
    lines = []
    for i, ni in enumerate(kr.nodes):
        for j, nj in enumerate(kr.nodes):
            if kr.transfer[i, j] != 0:
                lines.append((rf"T_{{{p.node_index(ni)}\,{p.node_index(nj)}}}", p.show(kr.transfer[i, j])))
    out.append(
        "\nThe per-unit transfer matrix at the slow point, "
        "$T = \\partial v/\\partial \\eta = C(\\lambda_0 - A)^{-1}B + E$, has the non-zero entries"
    )
    out.append(_align(lines))
    out.append(
        "\nAt every $N$, with $q_a(\\eta) = |v_a(\\eta)|^2/N$,"
        + _fit(
            r"\mathbb{E}[\#] = \int d^{KN}\eta\, \prod_a \mathcal{N}\big(\eta_a; 0, q_a(\eta) I\big)\, "
            r"\mathbb{E}\Big[\big|\det(I - J T(\eta))\big| \,\Big|\, J_a v_a(\eta) = \eta_a\Big]"
        )
        + "\nFor large $N$, $\\mathbb{E}[\\#] \\asymp e^{N\\Sigma}$ with "
        "$\\Sigma = \\sup_q \\inf_{\\hat q} \\operatorname{extr}_{a,b} S$ and"
    )
    det = hermitized_determinant(cell) if kr.K <= EXPLICIT_K else None
    action = kr.action(det)
    out.append(_fit("S = " + p.show(action, tidy=False)))
    if det is None:
        out.append("\nwhere the determinant is that of $I + \\mathrm{diag}(a)\\, T^\\top \\mathrm{diag}(b)\\, T$.")
    qs = ", ".join(
        f"${p(n)} \\sim \\mathcal{{N}}(0, {p(kr.order_parameters[g])})$" for n, g in zip(kr.nodes, kr.group_of)
    )
    out.append(f"\nwith {qs}. Stationarity, with $E_\\mu$ the average under the tilted site measure:")
    if det is not None:
        out.append(
            _align([(p.show(e.lhs, tidy=False), p.show(e.rhs, tidy=False)) for e in stationarity_equations(cell)])
        )
    else:
        out.append(
            _fit(
                r"q_g = E_\mu[v_g^2],\quad \hat q_g = \sum_{a \in g}\frac{1 - E_\mu[\eta_a^2]/q_g}{2 q_g},\quad "
                r"b_c = E_\mu[(W M^{-1})_{cc}],\quad a_c = E_\mu[(T M^{-1} \mathrm{diag}(a) T^\top)_{cc}]"
            )
        )
    out.append(
        "\nThe untilted value $\\Sigma_{\\mathrm{typ}}$ (the log-potential at the slow point on the Gaussian site "
        "measure of a mean-field fixed point) is a lower bound on $\\Sigma$."
    )
    return "\n".join(out) + "\n"
