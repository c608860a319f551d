"""A cell of your own, written as a TOML file: the minimal gated unit (MGU).

Equations (Zhou et al. 2016: one forget gate ``f`` does the work of the GRU's
update and reset gates), couplings ``J_x`` with iid N(0, 1/N) entries::

    f       = sigmoid(alpha_f (J_f @ h) + beta_f)
    h_tilde = tanh(g_h (J_h @ (f h)) + beta_h)
    h'      = (1 - f) h + f h_tilde

The cell is not built in: it is given as text, parsed (never executed), and
everything else is derived from it with no code written for it: the per-unit
fixed point ``h* = tanh(g_h eta_h + beta_h)``, the mean-field equations
``q_f = E[h*^2]``, ``q_h = E[(f h*)^2]``, their solutions, the support of the
Jacobian's spectrum, a finite-N check and a LaTeX report. The same file works
on the command line: ``python -m gatefield validate mgu.toml``.

Runtime: about 15 s at the default N = 1000.

Command::

    python examples/custom_cell.py --N 1000 --out custom_cell
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gatefield as gf
from gatefield.io import latex_document, parse_cell
from gatefield.plot import plot_spectrum
from gatefield.theory import fixed_point

MGU = """\
[cell]
name = "mgu"
time = "discrete"
state = ["h"]
description = "minimal gated unit; h' = (1 - f) h + f h_tilde"

[parameters]
alpha_f = 1.0
beta_f = 0.0
g_h = 2.0
beta_h = 0.0

[equations]
f = "sigmoid(alpha_f * (J_f @ h) + beta_f)"
h_tilde = "tanh(g_h * (J_h @ (f * h)) + beta_h)"
h = "(1 - f) * h + f * h_tilde"
"""


def main(N: int = 1000, out: str | Path = "custom_cell", seeds: int = 1) -> dict:
    """Run the recipe; write ``mgu.toml``, ``mgu.tex`` and ``mgu_spectrum.png`` into ``out``.

    Parameters
    ----------
    N : int
        Units in each simulated network.
    out : str or Path
        Output folder (created if missing).
    seeds : int
        Coupling draws simulated.

    Returns
    -------
    dict
        ``fixed_point`` (the derived ``h*`` as text), ``solutions`` (the
        order parameters of each mean-field solution), ``stable``,
        ``spectral_radius``, ``checks`` (quantity -> passed), ``passed``,
        ``outside_fraction``, ``tex``, ``figure``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # Parameters
    # A bias on the candidate gives a stable non-zero fixed point (at the
    # file's defaults g_h = 2, beta_h = 0 the zero fixed point is marginal:
    # its Jacobian I/2 + (g_h/4) J_h has spectral radius exactly 1).
    parameters = {"g_h": 3.0, "beta_h": 1.0}
    # |h| <= 1 (a convex mix of tanh values), so every q lies in [0, 1].
    q_max = 1.0
    (out / "mgu.toml").write_text(MGU)

    # Theory
    cell = parse_cell(MGU, source="mgu.toml")
    fixed = fixed_point(cell)
    print("fixed point per unit:")
    for state, value in fixed.solution:
        print(f"  {state}* = {value}")
    equations = gf.mean_field_equations(cell)
    print("mean-field equations (eta_a ~ N(0, q_a), independent):")
    for q, integrand in zip(equations.order_parameters, equations.integrands, strict=True):
        print(f"  {q} = E[{integrand}]")
    # The same derivations as a standalone LaTeX report (compile it with
    # gatefield.io.compile_latex, or pdflatex).
    tex = out / "mgu.tex"
    tex.write_text(latex_document(cell))
    print(f"wrote {tex}")

    # Numerics
    result = gf.solve(gf.problems.MeanField(cell, parameters), gf.solvers.AllRoots(q_max=q_max))
    supports = []
    for k, root in enumerate(result.roots):
        # The Jacobian's support at this solution (theory alone): stable if
        # it lies inside the unit disc.
        supports.append(gf.trace_support(gf.sites.from_fixed_point(result, solution=k)))
        qs = ", ".join(f"q[{name}] = {v:.6f}" for name, v in root.order_parameters.items())
        print(f"solution: {qs}; {supports[-1].summary()}")
    chosen = supports[-1]

    # Simulation
    # validate() relaxes `seeds` networks of N units to a fixed point and
    # computes their Jacobians' eigenvalues: the command line's `validate`.
    report = gf.validate(cell, parameters, N=N, seeds=seeds)

    # Compare
    # Each check carries the tolerance it is held to and why (see
    # gatefield.validation.tolerances).
    print(f"finite N = {N}, {seeds} seed(s): {report.regime}")
    for check in report.checks:
        print(
            f"  [{'PASS' if check.passed else 'FAIL'}] {check.quantity}: theory {check.theory:.6g}, "
            f"simulation {check.simulation:.6g}, tolerance {check.tolerance:.3g}"
        )
    spectrum = report.spectra[0]

    # Plot
    figure = plot_spectrum(
        out / "mgu_spectrum.png",
        spectrum.support,
        spectrum.eigenvalues,
        title=f"MGU, g_h = 3, beta_h = 1: N = {N}, {spectrum.outside_fraction:.2%} outside",
        route=spectrum.route,
    )
    print(f"wrote {figure}")

    return {
        "fixed_point": {str(s): str(v) for s, v in fixed.solution},
        "solutions": [dict(root.order_parameters) for root in result.roots],
        "stable": [bool(s.stable) for s in supports],
        "spectral_radius": chosen.spectral_radius,
        "bulk_radius": chosen.bulk_radius,
        "checks": {c.quantity: c.passed for c in report.checks},
        "passed": report.passed,
        "outside_fraction": spectrum.outside_fraction,
        "tex": tex,
        "figure": figure,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--N", type=int, default=1000, help="units per network (default 1000)")
    parser.add_argument("--seeds", type=int, default=1, help="coupling draws (default 1)")
    parser.add_argument("--out", default="custom_cell", help="output folder (default custom_cell)")
    args = parser.parse_args()
    main(N=args.N, out=args.out, seeds=args.seeds)
