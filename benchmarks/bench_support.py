"""``M(lam)`` on a 256 x 256 grid: gatefield against straightforward Gauss-Hermite.

``M(lam)_ab = E[|C_a (lam - A)^(-1) B_b + E_ab|^2]`` over the site
distribution at the mean-field fixed point, ``eta_a ~ N(0, q_a)``
independent (THEORY.md section 4). The grid is ``Re lam`` in [-0.5, 1.5],
``Im lam`` in [-1, 1]. Cases: the GRU at ``g_h = 1.6, alpha_r = 2,
beta_h = 0.4`` and the LSTM at ``beta_f = 3, g_g = 1, beta_g = 1``.

Compared, side by side in one process (repetitions interleaved, medians):

- **gatefield**: ``gatefield.sites.from_fixed_point`` (sites = quadrature points of the nodes
  ``det(lam - A)`` depends on, every other node integrated out term by term)
  then ``support_values`` on the whole grid (one matrix product);
- **reference**: ``sympy.lambdify`` of the pencil ``A, B, C, E`` with the
  fixed point substituted (once per call, no caching), evaluated on a tensor
  Gauss-Hermite rule (``hermegauss``, degree ``n`` per node) over all nodes,
  then a Python loop over ``lam``, vectorized over the quadrature nodes
  (batched ``solve`` of ``lam - A``). The loop is timed on a random subset of
  the grid and extrapolated linearly to all 65536 points (stated in the output).

Accuracy: ``M_true`` is gatefield at 24 Legendre nodes per panel and range
``|x| <= 9`` (default 8 and 7), whose convergence in the order was checked
once for the LSTM (order 24 vs 48: 1.6e-11 relative) and is checked on every
run for the GRU (order 32); it is checked independently here against
high-degree Gauss-Hermite (GRU) and Monte Carlo (both). The error of a point is ``max_ab |M - M_true| / max_ab
|M_true|``. The Gauss-Hermite degree is the smallest whose worst error on
"bulk" test points (distance >= 0.25 from [0, 1], where the per-unit
eigenvalues of ``A`` lie) is no worse than gatefield's; the degree for "near"
points (0.05-0.25 from [0, 1]) is reported too.

Run (about 2-3 minutes on 2 cores; ``--quick`` under 30 s)::

    python benchmarks/bench_support.py [--quick] [--cases gru lstm]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.special
import sympy
from numpy.polynomial.hermite_e import hermegauss

try:
    import gatefield  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import interleaved  # noqa: E402  (benchmarks/ is on sys.path when run)

import gatefield as gf
from gatefield.cells import gru, lstm
from gatefield.numerics import compile_cell
from gatefield.numerics.quadrature import DEFAULT, Quadrature
from gatefield.numerics.spectrum import support_values
from gatefield.theory import fixed_point, jacobian_pencil

# -- Parameters ---------------------------------------------------------------------

#: name -> (cell factory, parameter overrides, Gauss-Hermite degrees to try)
CASES = {
    "gru": (gru, {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}, (10, 15, 20, 25, 30, 40, 50, 60, 80)),
    "lstm": (lstm, {"beta_f": 3.0, "g_g": 1.0, "beta_g": 1.0}, (8, 12, 16, 20, 24, 32)),
}
GRID = 256
RE, IM = (-0.5, 1.5), (-1.0, 1.0)
#: Largest tensor Gauss-Hermite rule tried (memory: about 200 bytes per node).
MAX_NODES = 1_100_000
#: Truth: Legendre nodes per panel and half-width of the range (standard units).
TRUE_ORDER, TRUE_L = 24, 9.0
#: Test points for the degree calibration: how many, and their distance from [0, 1].
BULK_POINTS, BULK_DISTANCE = 8, 0.25
NEAR_POINTS, NEAR_DISTANCE = 4, 0.05
#: Monte Carlo check of the truth: samples per batch, batches.
MC_SAMPLES, MC_BATCHES = 125_000, 16
#: Gauss-Hermite degree of the independent check of the truth (GRU only:
#: it does not converge for the LSTM, see README).
GH_CHECK = {"gru": 80}
#: Cases whose truth is also compared with a higher order (cheap for the GRU;
#: for the LSTM order 24 vs 48 was checked once, 1.6e-11, see README).
SELF_CHECK_ORDER = {"gru": 32}
SEED = 20240601


# -- Reference: the straightforward implementation ----------------------------------------


def reference_setup(cell, values: dict, q: dict, n: int):
    """Lambdify the pencil at the fixed point (no caching) and evaluate it on an
    ``n``-point-per-node tensor Gauss-Hermite rule: (A, B, C, E, weights)."""
    pen, fp = jacobian_pencil(cell), fixed_point(cell)
    nodes, params = list(cell.nodes), list(cell.parameter_symbols)
    x, w = hermegauss(n)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * len(nodes)), indexing="ij")
    weights = np.ones(1)
    for _ in nodes:
        weights = np.multiply.outer(weights, w)
    weights = weights.ravel()
    points = [np.sqrt(q[s.name]) * g.ravel() for s, g in zip(nodes, grids, strict=True)]
    pvals = [values[s.name] for s in params]
    out = []
    for matrix in (pen.A, pen.B, pen.C, pen.E):
        matrix = fp.substitute(matrix)
        f = sympy.lambdify(nodes + params, list(matrix), modules=[{"sigmoid": scipy.special.expit}, "scipy", "numpy"])
        entries = [np.broadcast_to(np.asarray(e, dtype=float), weights.shape) for e in f(*points, *pvals)]
        out.append(np.stack(entries, axis=-1).reshape(weights.shape + matrix.shape))
    return (*out, weights)


def reference_M(coeffs, lams) -> np.ndarray:
    """``M(lam)`` for each ``lam``, one Python iteration per ``lam``."""
    A, B, C, E, w = coeffs
    m = A.shape[1]
    out = np.empty((len(lams),) + E.shape[1:])
    eye = np.eye(m)
    Bc = B.astype(complex)
    for k, lam in enumerate(lams):
        T = C @ np.linalg.solve(lam * eye - A, Bc) + E
        out[k] = np.einsum("n,nab->ab", w, T.real**2 + T.imag**2)
    return out


def monte_carlo_M(cell, values, q, lams, rng) -> tuple:
    """``M`` by sampling the nodes: (mean, standard error) over batches."""
    pen, fp = jacobian_pencil(cell), fixed_point(cell)
    nodes, params = list(cell.nodes), list(cell.parameter_symbols)
    pvals = [values[s.name] for s in params]
    batches = []
    for _ in range(MC_BATCHES):
        points = [np.sqrt(q[s.name]) * rng.standard_normal(MC_SAMPLES) for s in nodes]
        out = []
        for matrix in (pen.A, pen.B, pen.C, pen.E):
            matrix = fp.substitute(matrix)
            f = sympy.lambdify(nodes + params, list(matrix), modules=[{"sigmoid": scipy.special.expit}, "numpy"])
            entries = [np.broadcast_to(np.asarray(e, dtype=float), (MC_SAMPLES,)) for e in f(*points, *pvals)]
            out.append(np.stack(entries, axis=-1).reshape((MC_SAMPLES,) + matrix.shape))
        batches.append(reference_M((*out, np.full(MC_SAMPLES, 1.0 / MC_SAMPLES)), lams))
    batches = np.array(batches)
    return batches.mean(axis=0), batches.std(axis=0, ddof=1) / np.sqrt(MC_BATCHES)


# -- gatefield --------------------------------------------------------------------------


def gatefield_sites(cell, values, q, quadrature=DEFAULT):
    """gatefield's fixed-point site distribution with its support moments
    computed (``q`` by node name, as the reference code keys it)."""
    compiled = compile_cell(cell)
    sites = gf.sites.from_fixed_point(cell, values, q=compiled.coupling_keyed(q), quadrature=quadrature)
    sites.moments  # noqa: B018 - the moments are computed on first use
    return sites


def gatefield_M(cell, values, q, lam, quadrature=DEFAULT):
    return support_values(gatefield_sites(cell, values, q, quadrature), lam)


# -- Helpers ---------------------------------------------------------------------------


def relative_error(M, M_true) -> np.ndarray:
    axes = tuple(range(M.ndim - 2, M.ndim))
    return np.abs(M - M_true).max(axis=axes) / np.abs(M_true).max(axis=axes)


def distance_to_unit_segment(lam) -> np.ndarray:
    return np.abs(lam - np.clip(lam.real, 0.0, 1.0))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# -- Compare -------------------------------------------------------------------------


def run_case(name: str, quick: bool) -> None:
    factory, params, degrees = CASES[name]
    cell = factory()
    values = cell.resolve(params)
    compiled = compile_cell(cell)
    K = cell.K
    degrees = [n for n in degrees if n**K <= MAX_NODES]
    if quick:
        degrees = [n for n in degrees if n**K <= 30_000]
    rng = np.random.default_rng(SEED)

    # Theory: the fixed point.
    solution = gf.solve(gf.problems.MeanField(cell, params)).roots[-1]
    q = compiled.node_keyed(solution.order_parameters)
    lam = np.linspace(*RE, GRID)[None, :] + 1j * np.linspace(*IM, GRID)[:, None]
    flat = lam.ravel()
    print(f"\n{name} {params}: q = " + ", ".join(f"{k} {v:.6g}" for k, v in q.items()))

    # Truth on the whole grid, and its independent checks.
    M_true = gatefield_M(cell, values, q, flat, Quadrature(order=TRUE_ORDER, half_width=TRUE_L))
    dist = distance_to_unit_segment(flat)
    bulk = rng.choice(np.flatnonzero(dist >= BULK_DISTANCE), BULK_POINTS, replace=False)
    near = rng.choice(np.flatnonzero((dist >= NEAR_DISTANCE) & (dist < BULK_DISTANCE)), NEAR_POINTS, replace=False)
    tests = np.concatenate([bulk, near])
    if not quick:
        mc, se = monte_carlo_M(cell, values, q, flat[tests], rng)
        z = np.abs(mc - M_true[tests]) / np.maximum(se, 1e-300)
        print(
            f"  truth check, Monte Carlo ({MC_BATCHES} x {MC_SAMPLES} samples): max |MC - truth| = "
            f"{np.max(z[M_true[tests] != 0]):.1f} standard errors; relative standard error "
            f"{np.max(relative_error(mc + se, mc)):.0e}"
        )
        if name in SELF_CHECK_ORDER:
            truth = Quadrature(order=SELF_CHECK_ORDER[name], half_width=TRUE_L)
            higher = gatefield_M(cell, values, q, flat[tests], truth)
            diff = relative_error(higher, M_true[tests])
            print(
                f"  truth check, order {SELF_CHECK_ORDER[name]} vs {TRUE_ORDER}: max relative difference "
                f"{diff[: len(bulk)].max():.1e} (bulk points), {diff[len(bulk) :].max():.1e} (near points)"
            )
        if name in GH_CHECK:
            n = GH_CHECK[name]
            check = reference_M(reference_setup(cell, values, q, n), flat[bulk])
            print(
                f"  truth check, Gauss-Hermite n = {n} at bulk points: max relative difference "
                f"{np.max(relative_error(check, M_true[bulk])):.1e}"
            )

    # gatefield's accuracy: on the test points and over the whole grid.
    M_gf = gatefield_M(cell, values, q, flat)
    err_gf = relative_error(M_gf, M_true)
    target_bulk, target_near = err_gf[bulk].max(), err_gf[near].max()

    # Calibrate the Gauss-Hermite degree on the same points.
    print(f"  {'GH degree':>9s} {'nodes':>9s} {'bulk err':>9s} {'near err':>9s} {'s / lam':>8s}")
    print(f"  {'gatefield':>9s} {'':9s} {target_bulk:9.1e} {target_near:9.1e}")
    matched = {"bulk": None, "near": None}
    per_lam = {}
    for n in degrees:
        coeffs = reference_setup(cell, values, q, n)
        M_ref, seconds = timed(lambda coeffs=coeffs: reference_M(coeffs, flat[tests]))
        per_lam[n] = seconds / len(tests)
        e = relative_error(M_ref, M_true[tests])
        eb, en = e[: len(bulk)].max(), e[len(bulk) :].max()
        print(f"  {n:9d} {n**K:9d} {eb:9.1e} {en:9.1e} {per_lam[n]:8.4f}")
        if matched["bulk"] is None and eb <= target_bulk:
            matched["bulk"] = n
        if matched["near"] is None and en <= target_near:
            matched["near"] = n
        if matched["bulk"] is not None and matched["near"] is not None:
            break
    n_main = matched["bulk"] or degrees[min(len(degrees) - 1, 3)]
    if matched["bulk"] is None:
        print(
            f"  no Gauss-Hermite degree up to {max(degrees)} matches gatefield on the bulk points; "
            f"the reference is timed at n = {n_main} (LESS accurate: the ratio is a lower bound)"
        )

    # Time both, interleaved; the reference loop on a random subset of the grid.
    budget = 2.0 if quick else 8.0  # seconds for one reference loop
    subset_size = int(np.clip(budget / per_lam[n_main], 16, 2048))
    subset = rng.choice(flat.size, subset_size, replace=False)
    reps = 1 if quick else 3
    t_gf = {"sites": [], "values": []}

    def run_gatefield():
        sites, t_sites = timed(lambda: gatefield_sites(cell, values, q))
        _, t_values = timed(lambda: support_values(sites, lam))
        t_gf["sites"].append(t_sites)
        t_gf["values"].append(t_values)

    t_ref = {"setup": [], "loop": []}
    sub_M = {}

    def run_reference():
        coeffs, t_setup = timed(lambda: reference_setup(cell, values, q, n_main))
        sub_M["M"], t_loop = timed(lambda: reference_M(coeffs, flat[subset]))
        t_ref["setup"].append(t_setup)
        t_ref["loop"].append(t_loop)

    totals = interleaved({"gatefield": run_gatefield, "reference": run_reference}, reps)
    sites_s, values_s = statistics.median(t_gf["sites"]), statistics.median(t_gf["values"])
    setup_s, loop_s = statistics.median(t_ref["setup"]), statistics.median(t_ref["loop"])
    ref_total = setup_s + loop_s * flat.size / subset_size
    err_ref_sub = relative_error(sub_M["M"], M_true[subset])

    def quantiles(e):
        return " / ".join(f"{v:.0e}" for v in np.quantile(e, [0.5, 0.9, 0.99]))

    print(
        f"  timing: {reps} interleaved repetition(s), medians; reference loop timed on {subset_size} "
        f"random grid points, extrapolated x{flat.size / subset_size:.0f}"
    )
    print(f"  {'method':34s} {'seconds':>10s}  error median / 90% / 99% (same {subset_size} points)")
    print(f"  {'gatefield site moments':34s} {sites_s:10.3f}")
    print(f"  {'gatefield support_values (grid)':34s} {values_s:10.3f}")
    print(f"  {'gatefield total':34s} {totals['gatefield']:10.3f}  {quantiles(err_gf[subset])}")
    print(f"  {f'reference n={n_main} setup (lambdify+eval)':34s} {setup_s:10.3f}")
    print(f"  {'reference loop, extrapolated':34s} {loop_s * flat.size / subset_size:10.1f}")
    print(f"  {'reference total, extrapolated':34s} {ref_total:10.1f}  {quantiles(err_ref_sub)}")
    print(
        f"  ratio reference / gatefield: {ref_total / totals['gatefield']:.0f}x "
        f"(Gauss-Hermite n = {n_main}, matched on bulk points: {matched['bulk'] is not None})"
    )
    if matched["near"] is not None and matched["near"] != n_main:
        n = matched["near"]
        near_total = per_lam[n] * flat.size
        print(
            f"  matched on near points too at n = {n}: {per_lam[n]:.3f} s / lam (from the calibration), "
            f"about {near_total:.0f} s for the grid, {near_total / totals['gatefield']:.0f}x"
        )
    elif matched["near"] is None:
        print(f"  near points: no degree up to {max(degrees)} matches gatefield ({target_near:.0e})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="GRU only, small Gauss-Hermite degrees, one repetition (smoke test)",
    )
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=None)
    args = parser.parse_args(argv)
    cases = args.cases or (["gru"] if args.quick else ["gru", "lstm"])
    print(f"M(lam) on a {GRID} x {GRID} grid, Re lam in {list(RE)}, Im lam in {list(IM)}")
    if args.quick:
        print("(--quick: smoke test; degrees capped, no truth checks)")
    for name in cases:
        run_case(name, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
