"""Random cells (:mod:`gatefield.cells.random`): the generator, and theory against simulation.

The generator's tests are exact (the text is a function of the seed; every
draw parses; the sample spans the grammar). The theory-against-simulation
tests run ``gatefield.validate`` at each cell's drawn parameters and require
every check to pass with validate's own tolerances
(:mod:`gatefield.validation.tolerances`); nothing here sets a tolerance.

- fast tier: a few cells at N = 200 (2 coupling draws), chosen among the
  first seeds as the ones cheap to validate (discrete time, one state; a
  fixed point and a chaotic state);
- ``long``: the first 40 seeds at N = 1000 (3 coupling draws), the sample of
  ``benchmarks/random_cells.py --cells 40 --seeds 3``. Known failures are
  ``xfail(strict=True)`` for their seed with the cause in the reason; the
  study's table is in ``docs/results.md#random-cells``.
"""

from __future__ import annotations

import pytest

import gatefield as gf
from gatefield.cells.random import FAMILIES, PHIS, random_cell, random_cell_text
from gatefield.io.cellfile import parse_cell
from gatefield.theory.derive import fixed_point

#: Seeds whose cells the grammar tests parse: 60 draws cover every family,
#: nonlinearity, time and state count (checked below) in about a second.
GRAMMAR_SEEDS = range(60)
#: The fast tier's size and cells (discrete time, one state: the cheapest to
#: validate). Seed 26: ungated tanh map, chaotic (plug-in route here); seed 35:
#: relu cell with a reset gate at a stable fixed point; seed 44: erf cell
#: with a reset gate at a stable fixed point, a known finite-N failure.
FAST_N = 200
FAST_SEEDS = (
    26,
    35,
    pytest.param(
        44,
        marks=pytest.mark.xfail(
            strict=True,
            reason="finite-N scatter of q not in the fixed-point checks: at N = 200 each network's own "
            "q[J_c] scatters by +-25% about the theory 0.0127 (0.010-0.018 over 6 draws) and its spectrum "
            "follows it (outside share 0-6.5%, largest |eigenvalue| 0.51-0.63); the 99% edge band "
            "(0.52-0.66) and the outside tolerance (4.2%) are for the theory's q. Passes neither at 2 "
            "nor at 6 draws.",
        ),
    ),
)
#: The long tier: the study's sample and size.
LONG_SEEDS = range(40)
LONG_N = 1000
#: Coupling draws per cell in the fast tier; with fewer than 3, q is held to
#: the sampling error of a mean of N squares (validate's q_tolerance), not to
#: a seed scatter.
DRAWS = 2
#: The long tier's draws: at N = 1000 a chaotic network's E[h^2] scatters by
#: about 2% between networks (random cell 25: 0.01 on 0.50), so the standard
#: error of 2 draws is itself too uncertain to hold the DMFT's moments to.
LONG_DRAWS = 3


def test_the_text_is_a_function_of_the_seed():
    assert random_cell_text(7) == random_cell_text(7)
    texts = {random_cell_text(seed) for seed in range(20)}
    assert len(texts) == 20


def test_every_draw_parses_with_its_drawn_defaults():
    for seed in GRAMMAR_SEEDS:
        text = random_cell_text(seed)
        cell = parse_cell(text)
        assert cell.name.startswith(f"rand{seed:04d}_")
        assert f"seed {seed}" in cell.description
        # [parameters] is the draw: every default is a number written in the text
        for name, value in cell.defaults.items():
            assert f"{name} = {value!r}" in text


def test_the_sample_spans_the_grammar():
    cells = [random_cell(seed) for seed in GRAMMAR_SEEDS]
    assert {c.time for c in cells} == {"discrete", "continuous"}
    assert {len(c.states) for c in cells} == {1, 2}
    # the states name the family: one-state, memory, gate-state
    assert {c.name.split("_")[2] for c in cells} == {"h", "mh", "hz"}
    assert len(FAMILIES) == len({"h", "mh", "hz"})
    assert {c.name.split("_")[3] for c in cells} == set(PHIS)
    assert len({c.name for c in cells}) == len(cells)


def test_every_fixed_point_eliminates_in_closed_form():
    """The module's promise: each residual is affine in its state and divided
    only by factors that never vanish, so no state is left to Newton."""
    for seed in range(20):
        assert fixed_point(random_cell(seed)).closed_form, random_cell_text(seed)


def _validate(seed: int, N: int, chaotic_route: str = "dmft", draws: int = DRAWS):
    report = gf.validate(random_cell(seed), N=N, seeds=draws, chaotic_route=chaotic_route)
    failed = [c for c in report.checks if not c.passed]
    detail = "; ".join(
        f"{c.quantity}: theory {c.theory:.4g}, sim {c.simulation:.4g}, tolerance {c.tolerance:.3g}" for c in failed
    )
    return report, detail


@pytest.mark.slow  # 3-10 s each on 2 idle cores (the project's 5 s line), 15-35 s on loaded ones
@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_fast_theory_against_simulation(seed):
    # At N = 200 a chaotic network's own one-time law still scatters about
    # the DMFT's (random cell 25: spectral radius 0.057 between networks),
    # so the fast tier checks the spectral theory given each network's state
    # (plug-in); the long tier predicts the state too (the DMFT route).
    report, detail = _validate(seed, FAST_N, chaotic_route="plug-in")
    assert report.checks, "validate made no check"
    assert report.passed, f"seed {seed} ({report.regime}): {detail}\n{random_cell_text(seed)}"


#: Known failures of the long sample, by seed: what fails, and the cause as
#: far as it is known (the study at N = 1000, 3 draws, 2026-12-04).
KNOWN_FAILURES: dict = {
    4: "continuous memory cell with a relu candidate, DMFT route: C(0) = E[h^2] 0.309 +- 0.005 (DMFT) against "
    "0.351 and 0.341 simulated. The memory does not settle: E[m^2] = 47.7 +- 4.5 in the DMFT's window "
    "(T = 100, burn-in 20) and 177 in a window of 400 (burn-in 200), a unit whose forget gate is nearly shut "
    "integrating its relu input; the longer window leaves E[h^2] at 0.304 +- 0.007, so the window is not "
    "the cause; cause not found.",
    6: "continuous tanh cell with an update gate, DMFT route: the moments agree but C_J_u(tau) differs from "
    "the simulation by 10.0% of C(0) rms over lags (tolerance 6.4%); cause not found.",
    32: "discrete memory cell, DMFT route: the largest |eigenvalue| predicted 1.139 (median of the band) "
    "against 1.082 simulated, outside the 99% band (half-width 0.084); the edge of a support traced from "
    "DMFT samples; cause not found.",
    34: "discrete gate-state cell, DMFT route: the cavity equations do not converge at 1 of 256 points on "
    "the slow-mode contour (residual 9.8), so the slow-mode share stops with a SolverError; cause not found "
    "(a suspect: a sampled site law has poles at its samples' own eigenvalues, where a smooth one has none).",
}


def _long_params() -> list:
    params = []
    for seed in LONG_SEEDS:
        marks = [pytest.mark.long]
        if seed in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[seed]))
        params.append(pytest.param(seed, marks=marks, id=f"seed{seed}"))
    return params


@pytest.mark.parametrize("seed", _long_params())
def test_long_theory_against_simulation(seed):
    report, detail = _validate(seed, LONG_N, draws=LONG_DRAWS)
    assert report.checks, "validate made no check"
    assert report.passed, f"seed {seed} ({report.regime}): {detail}\n{random_cell_text(seed)}"
