"""Site distributions: the one type every spectral quantity is a function of.

The spectrum of the Jacobian at large N depends on the network only through
the *site distribution* P: the law of one unit's pencil coefficients
``(A, B, C, E)`` (``docs/theory/4-support.md#site-distribution``). Where P
comes from is its *route*, recorded in a frozen :class:`Provenance`:

- ``fixed-point``: the Gaussian node law of a mean-field solution (theory
  alone), :func:`from_fixed_point`;
- ``plug-in``: the units of one simulated snapshot (labelled as such in every
  output), :func:`from_snapshot`;
- ``dmft``: the sample paths of a dynamical mean-field solution at one time
  (theory alone), :func:`from_dmft`.

A :class:`SiteDistribution` computes its two views lazily, once: the full
pencils (:attr:`SiteDistribution.pencils`) and the support moments
(:attr:`SiteDistribution.moments`), and caches its traced support.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from ...errors import GatefieldError
from ...theory.spec import Cell
from ..codegen import CompiledCell, compile_cell
from ..quadrature import DEFAULT, Quadrature
from .views import (
    MomentView,
    PencilView,
    SiteRule,
    check_samples,
    moments_at_fixed_point,
    moments_from_samples,
    pencils_at_fixed_point,
    pencils_from_samples,
)

__all__ = [
    "ROUTES",
    "Provenance",
    "SiteDistribution",
    "SiteRule",
    "from_fixed_point",
    "from_samples",
    "from_snapshot",
    "from_dmft",
]

#: The routes a site distribution can come from.
ROUTES = ("fixed-point", "plug-in", "dmft")


@dataclass(frozen=True)
class Provenance:
    """Where a site distribution came from.

    Attributes
    ----------
    route : {"fixed-point", "plug-in", "dmft"}
    solution, solutions : int or None
        Fixed point: the index of the mean-field solution used and how many
        there were (None when the order parameters were given directly).
    N, seed : int or None
        Plug-in: the simulated network's size and coupling seed.
    status : str or None
        DMFT: the solve's status.
    """

    route: str
    solution: int | None = None
    solutions: int | None = None
    N: int | None = None
    seed: int | None = None
    status: str | None = None

    def __post_init__(self):
        if self.route not in ROUTES:
            raise GatefieldError(f"unknown route {self.route!r}; use one of {', '.join(ROUTES)}")

    @property
    def label(self) -> str:
        """A short description for outputs."""
        if self.route == "fixed-point":
            if self.solution is None:
                return "fixed point at given order parameters"
            return f"solution {self.solution} of {self.solutions}"
        if self.route == "plug-in":
            where = [f"N = {self.N}"] if self.N is not None else []
            where += [f"seed {self.seed}"] if self.seed is not None else []
            return ", ".join(["plug-in"] + where)
        return f"dmft, {self.status}" if self.status else "dmft"


@dataclass(frozen=True, eq=False)
class SiteDistribution:
    """A site distribution P of one cell at one parameter set.

    Build one with :func:`from_fixed_point`, :func:`from_snapshot`,
    :func:`from_dmft` or :func:`from_samples`.

    Attributes
    ----------
    compiled : CompiledCell
        The cell's generated functions (``compiled.cell`` is the cell).
    values : dict
        Every parameter value by name.
    provenance : Provenance
    order_parameters : dict
        By coupling name: the node variances ``q_a`` (fixed point) or the
        sampled ``<v_a^2>`` (plug-in, dmft).
    variances : dict or None
        Fixed point: the node variances by node name (the Gaussian law).
    samples : tuple or None
        Plug-in and dmft: ``(states (m, S), nodes (K, S))``.
    rule : SiteRule
        Fixed point: how the Gaussian law is discretized into full pencils.
    quadrature : Quadrature
        Fixed point: the graded rule of the support moments.
    """

    compiled: CompiledCell = field(repr=False)
    values: dict
    provenance: Provenance
    order_parameters: dict
    variances: dict | None = field(default=None, repr=False)
    samples: tuple | None = field(default=None, repr=False)
    rule: SiteRule = field(default_factory=SiteRule)
    quadrature: Quadrature = DEFAULT

    @property
    def cell(self) -> Cell:
        return self.compiled.cell

    @property
    def time(self) -> str:
        return self.compiled.cell.time

    @property
    def m(self) -> int:
        return len(self.compiled.states)

    @property
    def K(self) -> int:
        return len(self.compiled.nodes)

    @property
    def route(self) -> str:
        return self.provenance.route

    @property
    def label(self) -> str:
        return self.provenance.label

    @cached_property
    def pencils(self) -> PencilView:
        """Every site's full pencil (computed once, on first use)."""
        if self.samples is not None:
            return pencils_from_samples(self.compiled, self.values, *self.samples)
        assert self.variances is not None  # a fixed point: the Gaussian law
        return pencils_at_fixed_point(self.compiled, self.values, self.variances, self.rule)

    @cached_property
    def moments(self) -> MomentView:
        """Every site's support moments (computed once, on first use)."""
        if self.samples is not None:
            return moments_from_samples(self.compiled, self.values, *self.samples)
        assert self.variances is not None  # a fixed point: the Gaussian law
        return moments_at_fixed_point(self.compiled, self.values, self.variances, self.quadrature)

    @cached_property
    def support(self):
        """The predicted support with the default resolution
        (:func:`~gatefield.numerics.spectrum.support.trace_support`)."""
        from .support import trace_support

        return trace_support(self)

    def resolving_whiskers(self, quantile: int = 128, others: int = 8, max_sites: int = 1 << 15):
        """The same distribution, discretized to resolve the real whiskers of
        the units' own eigenvalues (a sampled distribution is returned as it is).

        A contour that crosses a whisker (a circle about a gate's slow point)
        makes the share an indicator of the gate's node, which a Gauss rule
        (a few heavy points) resolves only to a point's weight: the 16-point
        rule put the GRU share within 0.1 of 1 at ``alpha_z = 16`` at 0.408
        against 0.384. The nodes that move the units' own eigenvalues
        (:func:`~gatefield.theory.gates.whisker_nodes`: ``eta_z`` of a GRU,
        ``eta_f`` of an LSTM) get an equal-weight quantile rule of at most
        ``quantile`` points each (share error at most ``1 / (2 quantile)``; the
        GRU share above moves by 1e-4 from 128 to 512 points), the other nodes
        ``others`` Gauss points, within ``max_sites`` sites (each share holds
        about 20k (point, site) pairs in memory at once, so time grows
        linearly in the sites).
        """
        if self.samples is not None:
            return self
        cached = self.__dict__.get("_whiskers")
        if cached is not None:
            return cached
        from ...theory.gates import whisker_nodes

        compiled = self.compiled
        coupling = dict(zip(compiled.nodes, compiled.couplings))
        moving = whisker_nodes(self.cell)
        budget = max_sites / others ** (len(compiled.nodes) - len(moving))
        per_node = max(others, min(quantile, int(budget ** (1.0 / max(len(moving), 1)))))
        points = {coupling[name]: others for name in compiled.nodes if name not in moving}
        resolved = self.with_rule(SiteRule(points=points, quantile={coupling[name]: per_node for name in moving}))
        self.__dict__["_whiskers"] = resolved  # computed once per distribution
        return resolved

    def with_rule(self, rule: SiteRule) -> SiteDistribution:
        """The same distribution discretized with another :class:`SiteRule`."""
        if self.samples is not None:
            raise GatefieldError(
                "a sampled site distribution has one site per sample; a SiteRule applies "
                "to fixed-point distributions only"
            )
        return replace(self, rule=rule)


def _compiled(cell) -> CompiledCell:
    if isinstance(cell, CompiledCell):
        return cell
    if not isinstance(cell, Cell):
        raise GatefieldError(f"expected a Cell (from gatefield.load_cell), got {type(cell).__name__}")
    return compile_cell(cell)


def from_fixed_point(
    source,
    parameters: dict | None = None,
    *,
    q: dict | None = None,
    solution: int = -1,
    rule: SiteRule | None = None,
    quadrature: Quadrature = DEFAULT,
) -> SiteDistribution:
    """The site distribution at a mean-field fixed point (theory alone).

    Parameters
    ----------
    source : Cell or MeanFieldSolution
        A cell (its mean-field equations are solved here, unless ``q`` is
        given) or a solved mean field (``gatefield.solve(MeanField(...))``).
    parameters : dict, optional
        Overrides of the cell's defaults (a cell source only).
    q : dict, optional
        Order parameters by coupling name (``{"J_z": 0.4, ...}``): the node
        variances to use, instead of a mean-field solution.
    solution : int
        Which mean-field solution (index into the solutions, sorted by
        increasing total order parameter; default the last, of largest q).
    rule : SiteRule, optional
        The discretization of the full pencils.
    quadrature : Quadrature
        The graded rule of the support moments.
    """
    from ..solvers.roots import MeanFieldSolution

    if isinstance(source, MeanFieldSolution):
        if parameters is not None or q is not None:
            raise GatefieldError("give parameters or q with a cell, not with a solved mean field")
        compiled = compile_cell(source.problem.cell)
        values = dict(source.parameters)
        result = source
    else:
        compiled = _compiled(source)
        values = compiled.cell.resolve(parameters)
        result = None
    if q is not None:
        variances = compiled.node_keyed(q, "q")
        for node, value in variances.items():
            if not (np.isfinite(float(value)) and float(value) >= 0):
                raise GatefieldError(f"q must be finite and non-negative; got {value!r} for {node}")
        provenance = Provenance("fixed-point")
        order = dict(q)
    else:
        if result is None:
            from ..problems import MeanField
            from ..solve import solve

            result = solve(MeanField(compiled.cell, values))
        n = len(result.roots)
        if n == 0:
            raise GatefieldError(
                f"the mean-field equations of {compiled.cell.name} have no solution here; use the plug-in "
                "or dmft route for a time-dependent state"
            )
        if isinstance(solution, bool) or not isinstance(solution, (int, np.integer)) or not -n <= solution < n:
            raise GatefieldError(
                f"solution index {solution!r} is out of range: the mean-field solve found {n} solution(s), "
                f"so use 0..{n - 1}"
            )
        index = int(solution) % n
        order = dict(result.roots[index].order_parameters)
        variances = compiled.node_keyed(order)
        provenance = Provenance("fixed-point", solution=index, solutions=n)
    return SiteDistribution(
        compiled,
        values,
        provenance,
        order,
        variances={k: float(v) for k, v in variances.items()},
        rule=rule or SiteRule(),
        quadrature=quadrature,
    )


def from_samples(cell, parameters: dict | None, states, nodes, provenance: Provenance | None = None):
    """One site per sample: ``states (m, S)`` and ``nodes (K, S)`` of the same
    units (route "plug-in" unless ``provenance`` says otherwise)."""
    compiled = _compiled(cell)
    values = compiled.cell.resolve(parameters)
    states, nodes = check_samples(compiled, states, nodes)
    env = dict(values)
    env.update(zip(compiled.states, states))
    env.update(zip(compiled.nodes, nodes))
    v = compiled.arguments(env)
    order = {c: float(np.mean(np.asarray(v[a]) ** 2)) for a, c in enumerate(compiled.couplings)}
    return SiteDistribution(compiled, values, provenance or Provenance("plug-in"), order, samples=(states, nodes))


def from_snapshot(snapshot) -> SiteDistribution:
    """The **plug-in** route: the units of one simulated network at one time.

    ``snapshot`` is a :class:`gatefield.simulate.Snapshot` (a network, its
    state and node values).
    """
    net = snapshot.network
    provenance = Provenance("plug-in", N=net.N, seed=net.coupling_seed)
    return from_samples(net.cell, net.parameters, snapshot.state, snapshot.nodes, provenance)


def from_dmft(result) -> SiteDistribution:
    """The ``dmft`` route: the DMFT sample paths at one time (theory alone).

    ``result`` is a solved sampling DMFT (``gatefield.solve(DMFT(...))``).
    """
    if getattr(result, "samples", None) is None:
        raise GatefieldError(
            "from_dmft needs a sampling DMFT solution (its sample paths are the sites); the Fourier "
            "solution has none, so solve the DMFT problem with PathSampling"
        )
    states, nodes = result.samples
    provenance = Provenance("dmft", status=str(result.status.value))
    return from_samples(result.problem.cell, result.parameters, states, nodes, provenance)
