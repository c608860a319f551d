"""The annealed (untied-weights) mean field, by population dynamics.

With couplings drawn afresh at every step (the untied network of the
signal-propagation literature: Poole et al. 2016, Schoenholz et al. 2017,
Chen, Pennington and Schoenholz 2018 for gated cells), a unit's node inputs
at step t are, for N -> infinity, zero-mean Gaussians independent of the
unit's past, independent across couplings and steps, with the variances of
the current population (``docs/theory/6-dmft.md#annealed``). A population of
P samples of the unit (or of replica pairs) is advanced step by step, ``q``
re-estimated from the population at every step: the theory's Monte Carlo
solution, whose finite-P error is O(1/sqrt(P)) in every moment. In
distribution it is the untied network at N = P with its node values drawn
directly, which is why :func:`gatefield.simulate.untied` with literal fresh
matrices is the independent check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import _checks, _population, _sampling
from ...errors import GatefieldError
from ..codegen import compile_cell
from ..problems import Annealed
from ..solution import Solution, Status

__all__ = ["PopulationDynamics", "AnnealedSolution", "DEFAULT_BLOCKS"]

#: Default number of blocks of the measuring window for the standard errors
#: (batch means): 20 blocks estimate the scatter to about 1 / sqrt(2 * 19).
DEFAULT_BLOCKS = 20


@dataclass(frozen=True, kw_only=True)
class AnnealedSolution(Solution):
    """The annealed mean-field state of a discrete-time cell.

    Attributes
    ----------
    problem : Annealed
    parameters : dict
    moments : dict
        Time averages over the measuring window of population moments of
        replica 1, as ``Estimate`` (batch-means errors): ``"E[s]"``,
        ``"E[s^2]"`` for every state and definition, and ``"C_J(0)"`` =
        ``q_J`` = ``E[v_J^2]`` per coupling (the DMFT's keys).
    series : dict
        The per-step population moments over the whole run (see
        ``gatefield._population.advance``).
    overlap : dict
        Two replicas: state name -> the stationary two-input correlation
        ``c*`` as ``Estimate``; empty for one replica.
    samples, steps, burn_in, blocks : int

    ``status`` is ``SUCCESS`` when the halves of the measuring window agree
    within ``STATIONARY_SIGMAS`` combined errors for every moment, else
    ``NOT_STATIONARY``; ``residual`` is the largest disagreement, in
    combined standard errors.
    """

    problem: Annealed = field(repr=False, metadata={"json": False})
    parameters: dict
    moments: dict
    series: dict = field(repr=False, metadata={"json": False})
    overlap: dict
    samples: int
    steps: int
    burn_in: int
    blocks: int


@dataclass(frozen=True)
class PopulationDynamics:
    """Solve an :class:`~gatefield.numerics.problems.Annealed` problem by
    population dynamics.

    Attributes
    ----------
    samples : int
        Population size P (units, or replica pairs).
    steps, burn_in : int
        Measured steps and the steps before them.
    blocks : int
        Blocks of the measuring window for the batch-means errors.
    seed : int
        Seed of the node draws and the initial states.
    """

    samples: int = 20000
    steps: int = 400
    burn_in: int = 200
    blocks: int = DEFAULT_BLOCKS
    seed: int = 0

    problems = (Annealed,)

    def __post_init__(self):
        _checks.count(self.samples, "the number of samples", 2)
        _checks.count(self.steps, "the number of steps", 1)
        _checks.count(self.burn_in, "the number of burn-in steps", 0)
        _checks.count(self.blocks, "the number of blocks", 2)
        _checks.count(self.seed, "the seed", 0)
        if self.steps < self.blocks:
            raise GatefieldError(
                f"{self.steps} measured steps cannot be cut into {self.blocks} blocks; measure longer or use "
                "fewer blocks"
            )

    def run(self, problem: Annealed) -> AnnealedSolution:
        cell = problem.cell
        compiled = compile_cell(cell)
        P, R = self.samples, problem.replicas
        node_rng = _sampling.rng(self.seed, "nodes")
        s = _sampling.initial_states(
            _sampling.rng(self.seed, "state"),
            (cell.m, P),
            float(problem.scale),
            R,
            float(problem.initial_correlation),
        )
        series = _population.advance(
            compiled,
            problem.values,
            s,
            self.burn_in + self.steps,
            lambda v: _sampling.correlated_nodes(v, node_rng, P),
        )
        moments, overlap, worst = _population.window_moments(compiled, series, self.burn_in, self.blocks)
        stationary = worst <= _population.STATIONARY_SIGMAS
        return AnnealedSolution(
            problem=problem,
            parameters=dict(problem.values),
            moments=moments,
            series=series,
            overlap=overlap,
            samples=P,
            steps=self.steps,
            burn_in=self.burn_in,
            blocks=self.blocks,
            status=Status.SUCCESS if stationary else Status.NOT_STATIONARY,
            iterations=self.burn_in + self.steps,
            residual=worst,
            settings={
                "seed": self.seed,
                "scale": float(problem.scale),
                "replicas": R,
                "initial_correlation": float(problem.initial_correlation),
            },
            message=(
                ""
                if stationary
                else f"the annealed state of cell '{cell.name}' is still drifting after {self.burn_in} burn-in "
                f"steps ({worst:.3g} standard errors between the halves of the window); raise burn_in or steps"
            ),
        )
