"""Mean-field solve: gatefield against a straightforward scipy implementation.

The equations are ``q_a = E[v_a(s*(eta), eta)^2]`` with ``eta_b ~ N(0, q_b)``
(THEORY.md section 2). Cases: the GRU at ``g_h = 1.6, alpha_r = 2,
beta_h = 0.4`` (one solution) and the vanilla map at ``g = 2``.

Compared, side by side in one process (repetitions interleaved, medians):

- **gatefield, all roots**: ``gatefield.solve(MeanField(cell, params))`` (AllRoots),
  the global search (scan / multi-start) that finds every solution;
- **gatefield, one root**: gatefield's generated map ``Phi`` (the private
  ``solvers.roots._Map``: generated integrands, graded Gauss-Legendre quadrature,
  separable factors integrated separately) under ``scipy.optimize.fsolve``
  from ``q = 0.5`` -- like for like with the reference;
- **reference, naive**: ``sympy.lambdify`` of the derived integrands *inside*
  the residual (no caching), each ``q_a`` by ``scipy.integrate.nquad`` over
  the Gaussian nodes the integrand depends on (density ``phi(x)``, node
  ``sqrt(q) x``, infinite range), ``fsolve`` from ``q = 0.5`` for every
  order parameter;
- **reference, lambdify once**: the same with the integrands generated once,
  so that the two sources of speed-up (code generation vs quadrature) show.

Accuracy: ``q_true`` integrates each separable factor of the integrands
with ``scipy.integrate.quad`` at ``epsabs = 1e-15``, polished by ``fsolve``;
it is certified by ``Phi`` at ``q_true`` evaluated with mpmath (30 digits).
The reference's nquad tolerance (epsabs = epsrel) is calibrated per case:
the loosest decade from 1e-3 down whose error in ``q`` is no worse than
gatefield's (``--ref-tol`` overrides it; a worse error is flagged in the
output). ``fsolve``'s ``xtol`` is 1e-8 for both single-root solves.

Run (under a minute on 2 cores; ``--quick`` under 15 s)::

    python benchmarks/bench_meanfield.py [--quick] [--reps N] [--ref-tol TOL]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import mpmath
import numpy as np
import scipy.special
import sympy
from scipy import integrate, optimize

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import interleaved  # noqa: E402  (benchmarks/ is on sys.path when run)

import gatefield as gf
from gatefield.cells import gru, vanilla
from gatefield.numerics import codegen, compile_cell
from gatefield.numerics.quadrature import DEFAULT
from gatefield.numerics.solvers.roots import _Map
from gatefield.theory import derive, mean_field_equations

# -- Parameters ---------------------------------------------------------------------

#: name -> (cell factory, parameter overrides)
CASES = {
    "gru": (gru, {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}),
    "vanilla": (vanilla, {"g": 2.0}),
}
#: Start of every single-root solve, for every order parameter.
START = 0.5
#: Reference quadrature tolerance (epsabs = epsrel) under --quick, where no
#: calibration runs. Otherwise it is calibrated per case: the loosest decade
#: whose error in q is no worse than gatefield's (for the GRU 1e-6, error
#: 1.4e-12 against gatefield's 3.9e-12: nquad's error estimates are
#: conservative for these smooth integrands).
QUICK_TOL = 1e-4
#: fsolve's relative step tolerance for both single-root solves: its last
#: Newton-like step leaves an error far below this (quadratic convergence).
XTOL = 1e-8
#: Tolerances of the accurate ``q_true``.
TRUE_EPSABS, TRUE_EPSREL = 1e-15, 1e-14

SQRT_2PI = math.sqrt(2.0 * math.pi)
#: What a plain script passes to lambdify: SymPy cannot print gatefield's
#: ``sigmoid``, so it is named; the rest is lambdify's default (numpy).
NAIVE_MODULES = [{"sigmoid": scipy.special.expit}, "scipy", "numpy"]


# -- Reference: the straightforward implementation ----------------------------------------


def _node_symbols(expr, nodes):
    return [n for n in nodes if expr.has(n)]


def reference_solve(cell, params, tol, xtol=XTOL, lambdify_each_call=True):
    """Order parameters (per coupling) by nquad + fsolve, the way a plain script
    does it; returns (q, evaluations of Phi)."""
    mf = mean_field_equations(cell)
    values = cell.resolve(params)
    psyms = list(cell.parameter_symbols)
    pvals = [values[s.name] for s in psyms]

    def generate(expr):
        nodes = _node_symbols(expr, mf.nodes)
        return nodes, sympy.lambdify(nodes + psyms, expr, modules=NAIVE_MODULES)

    once = None if lambdify_each_call else [generate(e) for e in mf.integrands]

    def phi(q):
        var = dict(zip(mf.nodes, q, strict=True))
        out = np.empty(len(mf.integrands))
        for k, expr in enumerate(mf.integrands):
            nodes, f = generate(expr) if once is None else once[k]
            sd = [math.sqrt(max(var[n], 0.0)) for n in nodes]

            def integrand(*x, f=f, sd=sd):
                density = 1.0
                for xi in x:
                    density *= math.exp(-0.5 * xi * xi) / SQRT_2PI
                return float(f(*[s * xi for s, xi in zip(sd, x, strict=True)], *pvals)) * density

            out[k] = integrate.nquad(
                integrand, [(-np.inf, np.inf)] * len(nodes), opts={"epsabs": tol, "epsrel": tol, "limit": 200}
            )[0]
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exp overflow in the far tails is harmless here
        q, info, _, _ = optimize.fsolve(
            lambda q: phi(q) - q, np.full(len(mf.nodes), START), xtol=xtol, full_output=True
        )
    return q, info["nfev"]


# -- gatefield --------------------------------------------------------------------------


def gatefield_single(cell, params, xtol=XTOL):
    """One root from ``START`` with gatefield's generated map under fsolve;
    returns (q per coupling, evaluations of Phi)."""
    compiled = compile_cell(cell)
    phi = _Map(compiled, cell.resolve(params), DEFAULT, DEFAULT.with_order(4), 1e-9)
    x = optimize.fsolve(lambda x: phi(x) - x, np.full(phi.unknowns, START), xtol=xtol)
    return np.array([x[j] for j in compiled.integral_of]), phi.calls


def gatefield_all(cell, params, near):
    """Every root by the global search; returns (the root nearest ``near``,
    evaluations of Phi)."""
    result = gf.solve(gf.problems.MeanField(cell, params))
    roots = [np.array([r.order_parameters[c.matrix] for c in cell.couplings]) for r in result.roots]
    return min(roots, key=lambda r: np.max(np.abs(r - near))), result.iterations


def clear_caches():
    """Forget every derivation and generated function (a cold start),
    including SymPy's own expression cache."""
    sympy.core.cache.clear_cache()
    codegen.compile_cell.cache_clear()
    for fn in (
        derive.fixed_point,
        derive.mean_field_equations,
        derive.jacobian_pencil,
        derive.support_matrix,
    ):
        fn.cache_clear()


# -- Accurate solution ---------------------------------------------------------------


def _factors(expr, nodes):
    """Split a product into factors grouped by the nodes they share."""
    groups = []  # [set of nodes, product]
    for factor in sympy.Mul.make_args(expr):
        deps = set(_node_symbols(factor, nodes))
        merged = [g for g in groups if g[0] & deps]
        for g in merged:
            groups.remove(g)
            deps |= g[0]
            factor = factor * g[1]
        groups.append([deps, factor])
    return [([n for n in nodes if n in deps], f) for deps, f in groups]


def true_solution(cell, params, start):
    """``q_true`` and its certificate ``max |Phi_mpmath(q_true) - q_true|``."""
    mf = mean_field_equations(cell)
    values = cell.resolve(params)
    psyms = list(cell.parameter_symbols)
    pvals = [values[s.name] for s in psyms]
    plan = []
    for expr in mf.integrands:
        groups = []
        for nodes, factor in _factors(expr, mf.nodes):
            f = sympy.lambdify(nodes + psyms, factor, modules=NAIVE_MODULES)
            fm = sympy.lambdify(
                nodes + psyms, factor, modules=[{"sigmoid": lambda x: 1 / (1 + mpmath.exp(-x))}, "mpmath"]
            )
            groups.append((nodes, f, fm))
        plan.append(groups)

    def phi(q):
        var = dict(zip(mf.nodes, q, strict=True))
        out = np.ones(len(plan))
        for k, groups in enumerate(plan):
            for nodes, f, _ in groups:
                sd = [math.sqrt(max(var[n], 0.0)) for n in nodes]

                def g(*x, f=f, sd=sd):
                    d = math.prod(math.exp(-0.5 * xi * xi) / SQRT_2PI for xi in x)
                    return float(f(*[s * xi for s, xi in zip(sd, x, strict=True)], *pvals)) * d

                out[k] *= integrate.nquad(
                    g,
                    [(-np.inf, np.inf)] * len(nodes),
                    opts={"epsabs": TRUE_EPSABS, "epsrel": TRUE_EPSREL, "limit": 1000},
                )[0]
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = np.asarray(start, dtype=float)
        for _ in range(2):
            q = optimize.fsolve(lambda x: phi(x) - x, q, xtol=1e-15)

    certificate = math.nan
    if all(len(nodes) == 1 for groups in plan for nodes, _, _ in groups):
        mpmath.mp.dps = 30
        worst = 0.0
        for k, groups in enumerate(plan):
            value = mpmath.mpf(1)
            for nodes, _, fm in groups:
                sd = mpmath.sqrt(max(q[mf.nodes.index(nodes[0])], 0.0))
                value *= mpmath.quad(
                    lambda x, fm=fm, sd=sd: fm(sd * x, *pvals) * mpmath.npdf(x),
                    [-mpmath.inf, -4, -1, 0, 1, 4, mpmath.inf],
                )
            worst = max(worst, abs(float(value - mpmath.mpf(q[k]))))
        certificate = worst
    return q, certificate


# -- Timing --------------------------------------------------------------------------


def cold_compile(cell, reps: int) -> float:
    """Median time of ``compile_cell`` after clearing every cache."""
    times = []
    for _ in range(reps):
        clear_caches()
        t0 = time.perf_counter()
        compile_cell(cell)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cold_derive(cell, reps: int) -> float:
    """Median time of the reference's only derivation, ``mean_field_equations``."""
    times = []
    for _ in range(reps):
        clear_caches()
        t0 = time.perf_counter()
        mean_field_equations(cell)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- Compare -------------------------------------------------------------------------


def calibrate(cell, params, q_true, target: float) -> tuple:
    """The loosest reference tolerance (decades from 1e-3) whose error in q is
    no worse than ``target``; returns (tol, error) or the tightest tried."""
    for tol in 10.0 ** -np.arange(3, 13):
        q, _ = reference_solve(cell, params, tol, lambdify_each_call=False)
        error = float(np.max(np.abs(q - q_true)))
        if error <= target:
            break
    return float(tol), error


def run_case(name: str, reps: int, ref_tol: float | None) -> dict:
    factory, params = CASES[name]
    cell = factory()
    compile_cell(cell)  # warm: code generation is reported separately
    q_single, _ = gatefield_single(cell, params)
    q_true, certificate = true_solution(cell, params, q_single)
    if ref_tol is None:
        ref_tol, _ = calibrate(cell, params, q_true, float(np.max(np.abs(q_single - q_true))))
    results = {
        "gatefield all roots": lambda: gatefield_all(cell, params, q_true),
        "gatefield one root": lambda: gatefield_single(cell, params),
        "reference naive": lambda: reference_solve(cell, params, ref_tol, lambdify_each_call=True),
        "reference lambdify once": lambda: reference_solve(cell, params, ref_tol, lambdify_each_call=False),
    }
    errors, evaluations = {}, {}
    for k, fn in results.items():
        q, evaluations[k] = fn()
        errors[k] = float(np.max(np.abs(q - q_true)))
    times = interleaved(results, reps)
    compile_time = cold_compile(cell, max(1, min(reps, 3)))
    derive_time = cold_derive(cell, max(1, min(reps, 3)))
    compile_cell(cell)
    return {
        "name": name,
        "params": params,
        "q_true": q_true,
        "certificate": certificate,
        "ref_tol": ref_tol,
        "errors": errors,
        "evaluations": evaluations,
        "times": times,
        "compile": compile_time,
        "derive": derive_time,
    }


def report(case: dict) -> None:
    t, e = case["times"], case["errors"]
    print(f"\n{case['name']} {case['params']}   reference nquad epsabs = epsrel = {case['ref_tol']:.0e}")
    print(
        f"  q_true = {np.array2string(case['q_true'], precision=15)}"
        f"   (mpmath certificate |Phi(q_true) - q_true| = {case['certificate']:.1e})"
    )
    print(f"  {'method':26s} {'median s':>10s} {'error in q':>11s} {'Phi evals':>9s} {'ref/this':>9s}")
    base = t["reference naive"]
    for k in t:
        print(f"  {k:26s} {t[k]:10.4f} {e[k]:11.1e} {case['evaluations'][k]:9d} {base / t[k]:9.1f}")
    gf = e["gatefield one root"]
    for k in ("reference naive", "reference lambdify once"):
        if e[k] > gf:
            print(f"  note: {k} is LESS accurate than gatefield ({e[k]:.1e} > {gf:.1e}); tighten --ref-tol")
    cold_gf = t["gatefield one root"] + case["compile"]
    cold_ref = base + case["derive"]
    print(
        f"  one-time: compile_cell {case['compile']:.3f} s (all derivations and codegen), "
        f"reference derivation {case['derive']:.3f} s"
    )
    print(
        f"  ratio naive / gatefield one root: warm {base / t['gatefield one root']:.0f}x, "
        f"cold (incl. one-time costs) {cold_ref / cold_gf:.1f}x;  "
        f"naive / all roots {base / t['gatefield all roots']:.1f}x"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one repetition, GRU at a looser reference tolerance (smoke test)",
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions per method (default 7)")
    parser.add_argument(
        "--ref-tol",
        type=float,
        default=None,
        help="reference nquad epsabs = epsrel (default: the loosest decade matching "
        f"gatefield's accuracy; --quick: {QUICK_TOL:g})",
    )
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=None)
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 7)
    ref_tol = args.ref_tol or (QUICK_TOL if args.quick else None)
    cases = args.cases or (["gru"] if args.quick else ["gru", "vanilla"])
    print(f"mean-field solve, {reps} interleaved repetition(s), medians; fsolve xtol {XTOL:g}, start q = {START}")
    if args.quick:
        print("(--quick: smoke test; the reference tolerance is looser than for the reported ratios)")
    for name in cases:
        report(run_case(name, reps, ref_tol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
