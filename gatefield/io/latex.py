r"""LaTeX reports of a cell and of everything derived from it.

:func:`cell_latex` writes the body of a report in four sections that follow
docs/theory/1-model.md to 4-support.md: the cell as written, its fixed-point mean-field
equations, the Jacobian pencil and the support condition of the Jacobian's
spectrum. :func:`latex_document` wraps the body into a standalone article and
:func:`compile_latex` runs ``pdflatex`` on it.

The report uses only packages of Debian's ``texlive-latex-base`` (amsmath,
amssymb, graphicx, geometry), so it compiles on a minimal TeX installation.

Notes
-----
Derived expressions are stored with every intermediate definition
substituted. For display they are *folded* back: each definition's expanded
expression is replaced by its symbol (``sigmoid(alpha_z*eta_z + beta_z)`` is
shown as ``z``), and short derived expressions are tidied by factoring when
that makes them shorter. Both steps are identities, so every displayed
equation is the derived one; the expanded forms are the ones the numerics
evaluate. An equation too wide for the page is shrunk to the line width
rather than broken, which keeps compilation reliable for any cell.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sympy

from ..errors import GatefieldError
from ..theory.derive import jacobian_pencil, mean_field_equations, order_parameter, support_matrix
from ..theory.spec import Cell
from ._latex_complexity import complexity_latex
from ._latex_printer import (
    _MATRIX_CHARS,
    _SEP,
    _TOO_LONG,
    _align,
    _fit,
    _format_number,
    _list,
    _Printer,
    escape_text,
)

__all__ = ["cell_latex", "latex_document", "compile_latex", "complexity_latex", "escape_text"]

#: Seconds pdflatex may run; a report compiles in about a second.
_PDFLATEX_TIMEOUT = 120


def _section_cell(cell: Cell, p: _Printer) -> str:
    out = [r"\section{The cell}"]
    if cell.description:
        out.append(r"\emph{" + escape_text(cell.description) + "}\n")
    states = [p.symbol(s) for s in cell.states]
    vector = states[0] if cell.m == 1 else "(" + _SEP.join(states) + ")"
    out.append(
        f"Each of the $N$ units carries the state $s = {vector}$ ($m = {cell.m}$ "
        f"component{'s' if cell.m > 1 else ''} per unit). "
    )
    if cell.time == "discrete":
        out.append(
            "The cell runs in \\emph{discrete time}: each step maps $s_t$ to "
            "$s_{t+1} = F(s_t, \\eta_t)$, with every right-hand side below taken at time $t$.\n"
        )
    else:
        out.append(
            "The cell runs in \\emph{continuous time}: $\\frac{d s}{d t} = F(s, \\eta)$, "
            "with every right-hand side below taken at the same time.\n"
        )
    matrices = [p.symbol(c.matrix) for c in cell.couplings]
    out.append(
        f"\nThe $K = {cell.K}$ coupling matri{'ces' if cell.K > 1 else 'x'} "
        f"${_SEP.join(matrices)}$ {'have' if cell.K > 1 else 'has'} independent entries drawn "
        "i.i.d.\\ from $\\mathcal{N}(0, 1/N)$. Each enters one product node, "
        "$\\eta_a = J_a v_a$, evaluated in this order:"
    )
    lines = []
    for c in cell.couplings:
        arg = p.fold(c.argument)
        shown = p(arg)
        if not (arg.is_Atom or isinstance(arg, sympy.Function)):
            shown = r"\left(" + shown + r"\right)"
        lines.append((p(c.node), f"{p.symbol(c.matrix)}\\, {shown}"))
    out.append(_align(lines))
    if p.definitions:
        out.append("\nThe cell's definitions, as written (a node symbol stands for its product above):")
        out.append(_align([(p(sym), p(written)) for sym, written, _ in p.definitions]))
    out.append("\nThe update" + (" is:" if cell.m == 1 else "s are:"))
    lines = []
    for s, F in zip(cell.states, cell.updates, strict=True):
        name = p.symbol(s)
        lhs = f"{{{name}}}_{{t+1}}" if cell.time == "discrete" else rf"\frac{{d {name}}}{{d t}}"
        lines.append((lhs, p.show(F, tidy=False)))
    out.append(_align(lines))
    if cell.parameters:
        out.append("\nParameters and their defaults:\n")
        rows = [f"${p.symbol(sym)}$ & ${_format_number(value)}$ \\\\" for sym, value in cell.parameters]
        out.append(
            "\\begin{center}\n\\begin{tabular}{ll}\nparameter & default \\\\\n\\hline\n"
            + "\n".join(rows)
            + "\n\\end{tabular}\n\\end{center}"
        )
    else:
        out.append("\nThe cell has no parameters.")
    return "\n".join(out)


def _section_mean_field(cell: Cell, p: _Printer) -> str:
    mf = mean_field_equations(cell)
    fp = mf.fixed_point
    out = [r"\section{Mean-field equations}"]
    equation = "s = F(s, \\eta)" if cell.time == "discrete" else "F(s, \\eta) = 0"
    out.append(
        "For $N \\to \\infty$ the node values of a unit are independent Gaussians, "
        "$\\eta_a \\sim \\mathcal{N}(0, q_a)$, whose variances $q_a$ are the order parameters. "
        f"At a fixed point every unit solves ${equation}$ with its node values held fixed."
    )
    if fp.solution:
        out.append(" In closed form:")
        lines = []
        for s, value in fp.solution:
            # Folded for reading, then expanded as the numerics evaluate it.
            folded, rhs = p.show(value), p.show(value, fold=False, tidy=False)
            if folded != rhs and _TOO_LONG not in (folded, rhs):
                rhs = f"{folded} = {rhs}"
            lines.append((f"{{{p.symbol(s)}}}^{{*}}", rhs))
        out.append(_align(lines))
    if fp.numeric:
        names = _list(f"${p.symbol(s)}$" for s in fp.numeric)
        many = len(fp.numeric) > 1
        out.append(
            f"\nThe state{'s' if many else ''} {names} {'have' if many else 'has'} no closed form: "
            f"{'they are' if many else 'it is'} found numerically, per quadrature node, by Newton's "
            "method on the fixed-point equations"
            + (" with the closed-form states above substituted" if fp.solution else "")
        )
        out.append(_align([(p.show(r, tidy=False), "0") for r in fp.residuals]))
        out.append(
            f"In the equations below, {names} stand{'' if many else 's'} for "
            f"{'their' if many else 'its'} value at the fixed point."
        )
    out.append(
        "\nThe order parameters solve the $K$ equations $q_a = \\mathbb{E}\\left[v_a(s^*(\\eta), \\eta)^2\\right]$:"
    )
    lines = []
    for q, integrand in zip(mf.order_parameters, mf.integrands, strict=True):
        lines.append((p(q), r"\mathbb{E}\left[" + p.show(integrand) + r"\right]"))
    out.append(_align(lines))
    qs = ", ".join(f"${p(n)} \\sim \\mathcal{{N}}(0, {p(order_parameter(n))})$" for n in cell.nodes)
    out.append(f"\nwith {qs}" + (" independent." if cell.K > 1 else "."))
    if p.definitions:
        out.append(
            " The definitions of section 1 stand for their expressions in the states and nodes, with $s = s^*(\\eta)$."
        )
    return "\n".join(out)


def _matrix_block(name: str, M: sympy.Matrix, rows, cols, row_name, col_name, p: _Printer) -> str:
    """A pencil matrix as an array when short, else its non-zero entries."""
    if M.is_zero_matrix:
        return _fit(f"{name} = 0")
    shown = [[p.show(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
    if sum(len(x) for row in shown for x in row) <= _MATRIX_CHARS:
        body = " \\\\ ".join(" & ".join(row) for row in shown)
        columns = "c" * M.cols
        return _fit(f"{name} = \\left(\\begin{{array}}{{{columns}}}{body}\\end{{array}}\\right)")
    lines = []
    for i in range(M.rows):
        for j in range(M.cols):
            if M[i, j] != 0:
                derivative = rf"\frac{{\partial {row_name(rows[i])}}}{{\partial {col_name(cols[j])}}}"
                lines.append((derivative, shown[i][j]))
    return f"The non-zero entries of ${name}$ (all others vanish):\n" + _align(lines)


def _section_pencil(cell: Cell, p: _Printer) -> str:
    pen = jacobian_pencil(cell)
    out = [r"\section{Jacobian pencil}"]
    step = "\\delta s_{t+1}" if cell.time == "discrete" else "\\frac{d}{d t}\\delta s"
    nodes = [p(n) for n in cell.nodes]
    states = [p.symbol(s) for s in cell.states]
    out.append(
        "Perturbations obey, unit by unit,"
        "\n\\begin{align*}\n"
        f"  {step} &= A\\, \\delta s + B\\, \\delta\\eta, \\\\\n"
        "  \\delta\\eta_a &= J_a \\Big( C_a\\, \\delta s + \\sum_b E_{ab}\\, \\delta\\eta_b \\Big),\n"
        "\\end{align*}\n"
        "with per-unit coefficients evaluated at the unit's current $(s, \\eta)$: "
        "$A = \\partial F/\\partial s$ ($m \\times m$), $B = \\partial F/\\partial \\eta$ ($m \\times K$), "
        "$C_a = \\partial v_a/\\partial s$ (row $a$ of the $K \\times m$ matrix $C$) and "
        "$E_{ab} = \\partial v_a/\\partial \\eta_b$ ($K \\times K$, non-zero only for $b$ before $a$). "
        f"Rows and columns are ordered as $s = ({_SEP.join(states)})$ and "
        f"$\\eta = ({_SEP.join(nodes)})$."
    )

    def F_name(s):
        return f"F_{{{p.symbol(s)}}}"

    def v_name(n):
        return p.v(n)

    def d_name(x):
        return p(x) if isinstance(x, sympy.Symbol) else p.symbol(x)

    out.append(_matrix_block("A", pen.A, cell.states, cell.states, F_name, d_name, p))
    out.append(_matrix_block("B", pen.B, cell.states, cell.nodes, F_name, d_name, p))
    out.append(_matrix_block("C", pen.C, cell.nodes, cell.states, v_name, d_name, p))
    out.append(_matrix_block("E", pen.E, cell.nodes, cell.nodes, v_name, d_name, p))
    matrices = _SEP.join(p.symbol(c.matrix) for c in cell.couplings)
    out.append(
        "\nEliminating $\\delta\\eta$ gives the full $Nm \\times Nm$ Jacobian"
        + _fit(r"\mathrm{Jac} = A + B\,(I - J E)^{-1} J C")
        + "\nHere $A$, $B$, $C$ and $E$ stand for the block-diagonal matrices that hold every unit's "
        "coefficients, and $J = \\mathrm{diag}(" + matrices + ")$ is the block-diagonal matrix of the "
        "couplings, acting on the $NK$ node values (node $a$ of all units together). Since $E$ is strictly "
        "lower triangular in the node order, $I - JE$ is always invertible. Each random matrix appears "
        "once and linearly: this is the computation graph of the cell, read as a linearization."
    )
    return "\n".join(out)


def _section_support(cell: Cell, p: _Printer) -> str:
    sm = support_matrix(cell)
    out = [r"\section{Support of the spectrum}"]
    out.append(
        "Treat the per-unit coefficients as i.i.d.\\ draws from the site distribution $P$ "
        "(at a fixed point: $\\eta_b \\sim \\mathcal{N}(0, q_b)$ independent and $s = s^*(\\eta)$), "
        "independent of the couplings. Define the $K \\times K$ matrix"
        + _fit(
            r"M(\lambda)_{ab} = \mathbb{E}_P\left[\left| C_a (\lambda - A)^{-1} B_b + E_{ab} "
            r"\right|^2\right]"
        )
        + "\nFor this cell its entries are"
    )
    lines, zero = [], []
    for a, na in enumerate(cell.nodes):
        for b, nb in enumerate(cell.nodes):
            ia, ib = p.node_index(na), p.node_index(nb)
            lhs = rf"M_{{{ia},\,{ib}}}(\lambda)" if cell.K > 1 or ia else r"M(\lambda)"
            entry = sm.entry[a, b]
            if entry == 0:
                zero.append(f"${lhs}$")
                continue
            lines.append((lhs, r"\mathbb{E}_P\left[\left|" + p.show(entry) + r"\right|^{2}\right]"))
    if lines:
        out.append(_align(lines))
    if zero:
        out.append(f"\nThe entr{'ies' if len(zero) > 1 else 'y'} {_list(zero)} vanish{'' if len(zero) > 1 else 'es'}.")
    if p.definitions:
        out.append(" The definitions of section 1 stand for their expressions in $(s, \\eta)$.")
    out.append(
        "\n\nThe limiting eigenvalues of $\\mathrm{Jac}$ fill "
        "$S = \\{\\lambda : \\rho(M(\\lambda)) \\ge 1\\}$, where $\\rho$ is the spectral radius, "
        "so the boundary of the spectrum is the curve" + _fit(r"\rho\big(M(\lambda)\big) = 1.")
    )
    if cell.time == "discrete":
        out.append(
            "\nThe cell is discrete-time, so a fixed point is stable when $S$ lies inside the unit disc "
            "$|\\lambda| < 1$; slow modes are eigenvalues near $\\lambda = 1$."
        )
    else:
        out.append(
            "\nThe cell is continuous-time, so a fixed point is stable when $S$ lies in the left "
            "half-plane $\\mathrm{Re}\\,\\lambda < 0$; slow modes are eigenvalues near $\\lambda = 0$."
        )
    return "\n".join(out)


def _section_dmft(cell: Cell, p: _Printer) -> str:
    """docs/theory/6-dmft.md: the single-unit process of a time-dependent state."""
    out = [r"\section{Dynamical mean-field theory}"]
    out.append(
        "Along a trajectory the mean field of one time is not enough: for $N \\to \\infty$ a unit "
        "is driven by Gaussian processes $\\eta_a(t)$, independent across $a$, with zero mean and "
        "the self-consistent covariances"
    )
    lines = []
    for c in cell.couplings:
        arg = p.fold(c.argument)
        v = p(arg)
        if not (arg.is_Atom or isinstance(arg, sympy.Function)):
            v = r"\left(" + v + r"\right)"
        eta = p(c.node)
        lines.append(
            (
                f"C_{{{p.symbol(c.matrix)}}}(t, t')",
                rf"\mathbb{{E}}\left[{eta}(t)\, {eta}(t')\right] = "
                rf"\mathbb{{E}}\left[{v}(t)\, {v}(t')\right]",
            )
        )
    out.append(_align(lines))
    if cell.time == "discrete":
        out.append(
            r"\noindent and the unit follows its own update, "
            r"$s(t+1) = F\bigl(s(t), \eta(t)\bigr)$, with $F$ as in section 1. "
        )
    else:
        out.append(
            r"\noindent and the unit follows its own equation, "
            r"$\frac{d s}{d t} = F\bigl(s(t), \eta(t)\bigr)$, with $F$ as in section 1. "
        )
    out.append(
        "The expectations are over the single-unit process itself, so the equations close on "
        "$C_a$; a stationary solution has $C_a(t, t') = C_a(t - t')$. A static solution "
        "($C_a$ constant in the lag) is a fixed point of section 2; a decaying one is a "
        "time-dependent (chaotic) state. The one-time law of $(s(t), \\eta(t))$ is the site "
        "distribution of sections 4 and 5 for that state. With the couplings redrawn at every "
        "step (the \\emph{annealed} network) $\\eta_a(t)$ is white in time, "
        "$C_a(t, t') = \\delta_{t t'}\\, \\mathbb{E}[v_a(t)^2]$, and the equations reduce to "
        "one-time recursions; fixed couplings keep the temporal correlations."
    )
    return "\n".join(out)


def cell_latex(cell: Cell) -> str:
    """The LaTeX body (no preamble) of a report on ``cell``.

    Parameters
    ----------
    cell : Cell

    Returns
    -------
    str
        Six sections, in order: "The cell" (time type, states, product
        nodes, definitions as written, updates, parameter defaults),
        "Mean-field equations" (closed-form fixed point ``s*(eta)``, states
        solved numerically, and ``q_a = E[v_a(s*, eta)^2]``), "Jacobian
        pencil" (``A, B, C, E`` and ``Jac = A + B (I - J E)^(-1) J C``) and
        "Support of the spectrum" (the entries of ``M(lambda)``, the boundary
        ``rho(M(lambda)) = 1`` and the stability criterion for the cell's time
        type), then "Dynamical mean-field theory" (the single-unit process of
        docs/theory/6-dmft.md with the cell's own node arguments), then
        "Fixed-point complexity" (the Kac-Rice integrand, transfer matrix
        and variational functional, docs/theory/10-complexity.md). Needs the
        packages amsmath, amssymb and graphicx.

    Notes
    -----
    docs/theory/1-model.md to 4-support.md. Derived expressions are displayed with the
    cell's definitions folded back in (see the module notes).
    """
    p = _Printer(cell)
    return (
        "\n\n".join(
            [
                _section_cell(cell, p),
                _section_mean_field(cell, p),
                _section_pencil(cell, p),
                _section_support(cell, p),
                _section_dmft(cell, p),
                complexity_latex(cell, p),
            ]
        )
        + "\n"
    )


def latex_document(cell: Cell) -> str:
    """A standalone LaTeX document reporting on ``cell``.

    Parameters
    ----------
    cell : Cell

    Returns
    -------
    str
        An ``article`` with the body of :func:`cell_latex`, titled
        "gatefield: <cell name>". It uses only packages of Debian's
        ``texlive-latex-base``: amsmath, amssymb, graphicx and geometry.
    """
    return (
        "\\documentclass{article}\n"
        "\\usepackage{amsmath,amssymb,graphicx}\n"
        "\\usepackage[margin=2cm]{geometry}\n"
        "\\allowdisplaybreaks\n"
        f"\\title{{gatefield: {escape_text(cell.name)}}}\n"
        "\\author{}\n"
        "\\date{}\n"
        "\\begin{document}\n"
        "\\maketitle\n\n" + cell_latex(cell) + "\n\\end{document}\n"
    )


# TeX's error lines start with "! "; a fatal one may follow page numbers
# ("[2]! Unable to read an entire line") in the terminal output.
_ERROR_LINE = re.compile(r"(?:^|(?<=[\]\)\s]))!\s*(\S.*)")


def _first_error(log: Path, output: str) -> str:
    """The first ``!`` line of a TeX log (or of pdflatex's output, where
    fatal errors may appear only) and the input line it points at."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    lines = text.splitlines() + output.splitlines()
    for k, line in enumerate(lines):
        found = _ERROR_LINE.search(line)
        if found:
            message = found.group(1).strip().rstrip(".")
            for follow in lines[k + 1 : k + 20]:
                found = re.match(r"l\.(\d+)", follow)
                if found:
                    message += f" (line {found.group(1)})"
                    break
            return message[:200]
    return "no error line was found in its log"


def compile_latex(tex: str, directory) -> Path:
    """Write ``tex`` to ``cell.tex`` in ``directory`` and compile it with pdflatex.

    Parameters
    ----------
    tex : str
        A complete LaTeX document, e.g. from :func:`latex_document`.
    directory : str or pathlib.Path
        Where ``cell.tex``, the log and the PDF are written (created if
        missing).

    Returns
    -------
    pathlib.Path
        The path of ``cell.pdf``.

    Raises
    ------
    GatefieldError
        If pdflatex is not installed, runs longer than 120 s, or fails; the
        message quotes the first LaTeX error of the log.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "cell.tex"
    source.write_text(tex, encoding="utf-8")
    pdf = directory / "cell.pdf"
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", source.name]
    try:
        result = subprocess.run(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=_PDFLATEX_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GatefieldError(
            "pdflatex was not found on PATH; install a TeX distribution (e.g. texlive-latex-base) to compile the report"
        ) from None
    except subprocess.TimeoutExpired:
        raise GatefieldError(
            f"pdflatex ran longer than {_PDFLATEX_TIMEOUT} s on {source}; check the document"
        ) from None
    if result.returncode != 0 or not pdf.is_file():
        output = result.stdout.decode("utf-8", errors="replace")
        error = _first_error(directory / "cell.log", output)
        raise GatefieldError(f"pdflatex failed on {source}: {error}; see {directory / 'cell.log'}")
    return pdf
