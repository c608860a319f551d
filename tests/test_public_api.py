"""The public surface: what ``import gatefield`` gives, and that every misuse of
it is a GatefieldError whose message names the fix (never a KeyError,
AttributeError or TypeError from deep inside)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gatefield as gf
from gatefield.errors import GatefieldError, UnsupportedCellError

PUBLIC = {
    "load_cell", "Cell", "CellBuilder", "mean_field_equations", "jacobian_pencil", "support_matrix",
    "compile_cell", "problems", "solvers", "solve", "sites", "trace_support", "density", "share_inside",
    "simulate", "validate", "GatefieldError", "SpecError", "SolverError",
}  # fmt: skip


def test_the_public_surface_is_small_and_documented():
    assert set(gf.__all__) == PUBLIC
    for name in gf.__all__:
        doc = getattr(gf, name).__doc__
        assert doc and len(doc.strip()) > 20, f"gatefield.{name} has no docstring"


def test_import_neither_loads_pyplot_nor_switches_the_backend():
    # A fresh interpreter with an explicit non-Agg backend: importing and using
    # gatefield (a figure included) must leave it as the user set it.
    code = (
        "import matplotlib; matplotlib.use('svg'); import sys, gatefield, gatefield.plot;"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported';"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def gru_sites():
    return gf.sites.from_fixed_point(gf.load_cell("gru"), {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4})


def test_the_quickstart_pipeline_runs(gru_sites):
    support = gf.trace_support(gru_sites)
    assert support.stable and 0 < support.spectral_radius < 1
    assert gf.density(gru_sites, 0.5 + 0.25j) > 0
    assert 0 < gf.share_inside(gru_sites, 0.5 + 0.25j, 0.1) < 1
    assert gru_sites.route == "fixed-point" and gru_sites.label == "solution 0 of 1"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: gf.density(gf.load_cell("gru"), 0.5j), "expected a SiteDistribution"),
        (lambda s: gf.trace_support(s.pencils), "expected a SiteDistribution"),
        (lambda s: gf.share_inside("gru", 0.0, 0.1), "expected a SiteDistribution"),
        (lambda s: gf.share_inside(s, 0.0, -1.0), "radius"),
        (lambda s: gf.density(s, 0.3, method="spline"), "density method"),
        (lambda s: gf.density(s, "x"), "complex numbers"),
        (lambda s: gf.sites.from_fixed_point("gru"), "expected a Cell"),
        (
            lambda s: gf.sites.from_fixed_point(gf.load_cell("gru"), q={"eta_z": 0.1, "eta_r": 0.1, "eta_h": 0.1}),
            "keyed by coupling name",
        ),
        (lambda s: gf.sites.from_fixed_point(gf.load_cell("gru"), q={"J_z": 0.1}), "missing J_r"),
        (lambda s: gf.sites.from_fixed_point(gf.load_cell("gru"), q={"J_x": 0.1}), "not a coupling"),
        (lambda s: gf.sites.from_fixed_point(gf.load_cell("gru"), solution=5), "out of range"),
        (lambda s: gf.sites.from_fixed_point(gf.load_cell("gru"), {"g_x": 1.0}), "no parameter 'g_x'"),
        (lambda s: gf.solve("MeanField"), "needs a problem"),
        (
            lambda s: gf.solve(gf.problems.MeanField(gf.load_cell("gru")), gf.solvers.PathSampling()),
            "PathSampling solves DMFT problems",
        ),
        (lambda s: gf.problems.MeanField("gru"), "needs a Cell"),
        (lambda s: gf.solvers.AllRoots(q_max=-1.0), "q_max"),
        (lambda s: gf.solvers.PathSampling(samples=1), "samples"),
        (lambda s: gf.solvers.PathSampling(start="medium"), "start"),
        (lambda s: gf.sites.from_dmft(s), "sampling DMFT solution"),
        (lambda s: gf.simulate.make_network(gf.load_cell("gru"), 1, 0), "N = 2"),
        (lambda s: gf.validate(gf.load_cell("gru"), seeds=0), "seeds"),
    ],
)
def test_misuse_is_one_gatefield_error_naming_the_fix(gru_sites, call, match):
    with pytest.raises(GatefieldError, match=match):
        call(gru_sites)


def test_a_cell_without_the_closure_is_refused_when_the_problem_is_built():
    with pytest.raises(UnsupportedCellError, match="solve the DMFT problem"):
        gf.problems.GaussianClosureDMFT(gf.load_cell("lstm"))


def test_a_failed_solve_raises_with_the_fix_unless_told_not_to():
    cell = gf.load_cell("vanilla")
    problem = gf.problems.MeanField(cell, {"beta": 0.5})
    with pytest.raises(gf.SolverError, match="try a larger q_max"):
        gf.solve(problem, gf.solvers.AllRoots(q_max=1e-6))
    result = gf.solve(problem, gf.solvers.AllRoots(q_max=1e-6), throw=False)
    assert not result.ok and result.status.value == "no solution" and result.roots == ()


def test_solutions_carry_estimates_not_parallel_dicts():
    cell = gf.load_cell("vanilla")
    result = gf.solve(
        gf.problems.Annealed(cell, {"g": 2.0}), gf.solvers.PopulationDynamics(samples=500, steps=40, burn_in=20)
    )
    estimate = result.moments["E[h^2]"]
    assert isinstance(estimate, gf.numerics.Estimate)
    assert np.isfinite(estimate.mean) and estimate.stderr > 0
    assert not hasattr(result, "moment_errors")
