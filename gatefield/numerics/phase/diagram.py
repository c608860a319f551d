"""Phase diagrams over two parameters by continuation.

Every grid point gets the non-zero mean-field roots, the zero fixed point,
a cheap stability margin of each (:meth:`.Engine.margin`) and the annealed
complexity. A fresh search at one point costs seconds (``AllRoots`` about
1 s, the Kac-Rice saddle search 1-15 s), a polish from a neighbour's
solution milliseconds, so the grid is swept with continuation:

1. forward over the rows (the first parameter fastest), each point polishing
   the roots and saddles of its left and lower neighbours; a fresh search
   only on a coarse sub-grid (``fresh`` points per axis) and where a
   neighbour has nothing to continue from;
2. backward, each point trying the solutions of its right and upper
   neighbours where those have more (a branch born inside the grid and
   found downstream is carried back to where it starts);
3. the complexity onset ``Sigma = 0`` by bisection inside each grid cell
   whose two corners differ in the sign of the best saddle;
4. the full support trace (edge gap, slow-mode share) only at a few points
   next to a change of the stability verdict;
5. along the zero fixed point's stability line, the normal form of the
   mean-field map about ``q = 0`` (:meth:`.Engine.bifurcation`): where the
   branch leaving ``q = 0`` is born continuously (supercritical) or
   discontinuously (subcritical), and the tricritical points between.

With ``jobs > 1`` the rows are split into contiguous blocks solved in
separate processes; the rows on either side of a block boundary then
exchange their solutions once more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ... import _checks
from ...errors import GatefieldError
from ...theory.spec import Cell
from ._points import Engine, Point
from .lines import ONSET_STEPS, _bisect, _lines, _positive, _tricritical
from .maps import MAPS, _maps, _slow_maps

__all__ = ["REGIONS", "MAPS", "PhaseDiagram", "phase_diagram"]

#: Region labels by code (``PhaseDiagram.region``), checked in this order of precedence:
#: no stable fixed point (the mean-field proxy of chaos), exponentially many
#: fixed points beside a stable one, a stable zero fixed point, a stable non-zero one.
REGIONS = {
    0: "stable zero FP",
    1: "stable non-zero FP",
    2: "exponentially many FPs, stable",
    3: "chaos (no stable FP)",
}
#: Largest grid a phase diagram solves (a polish per point and pass).
MAX_POINTS = 40_000


@dataclass(frozen=True)
class PhaseDiagram:
    """Regions and lines of a cell over two parameters.

    Attributes
    ----------
    cell : str
    names, axes : tuples
        The two parameters and their values; maps have shape
        ``(len(axes[0]), len(axes[1]))``.
    parameters : dict
        The other parameters' overrides.
    maps : dict
        Name -> array (:data:`MAPS`).
    lines : dict
        Name -> list of polylines ``[[x, y], ...]`` in ``names`` order:
        ``zero_stability`` (zero fixed point's margin = 0),
        ``mean_field_branches`` (the number of non-zero roots changes: a
        saddle-node or a branch leaving q = 0), ``chaos`` (best margin = 0:
        a stable fixed point ceases to exist), ``complexity_onset`` (the
        onsets bisected along the first parameter, in order of the second).
    onset : list of [x, y]
        The complexity onset located by bisection in each cell with a sign
        change (``ONSET_STEPS`` halvings), along either parameter.
    edges : list of dict
        The full support trace at points next to a stability change.
    bifurcation : list of dict
        At each vertex of the ``zero_stability`` line where ``q = 0`` is a
        root: the mean-field map's slope ``mu`` and quadratic coefficient
        ``c2`` about ``q = 0`` and the kind of transition ("continuous"
        for ``c2 < 0``, "discontinuous" for ``c2 > 0``).
    tricritical : list of [x, y]
        Where ``c2`` changes sign along the ``zero_stability`` line
        (regula falsi on the line's segment, :data:`TRICRITICAL_STEPS`).
    checks : list of dict
        Dynamical spot checks (:func:`~.checks.chaos_checks`) and finite-N
        points (:func:`~.checks.finite_n_points`), when asked for.
    settings : dict
        Fresh sub-grid, jobs, timings and notes (e.g. why no complexity).
    """

    cell: str
    names: tuple
    axes: tuple
    parameters: dict
    maps: dict
    lines: dict
    onset: list
    edges: list
    checks: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    bifurcation: list = field(default_factory=list)
    tricritical: list = field(default_factory=list)

    @property
    def shape(self) -> tuple:
        return tuple(len(a) for a in self.axes)

    def label(self, i: int, j: int) -> str:
        return REGIONS[int(self.maps["region"][i, j])]

    def params_at(self, i: int, j: int) -> dict:
        return {**self.parameters, self.names[0]: float(self.axes[0][i]), self.names[1]: float(self.axes[1][j])}

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "parameters": list(self.names),
            "axes": [list(map(float, a)) for a in self.axes],
            "overrides": self.parameters,
            "shape": list(self.shape),
            "regions": {str(k): v for k, v in REGIONS.items()},
            "maps": {k: np.asarray(v, float).tolist() for k, v in self.maps.items()},
            "lines": self.lines,
            "onset": self.onset,
            "edges": self.edges,
            "bifurcation": self.bifurcation,
            "tricritical": self.tricritical,
            "checks": self.checks,
            "settings": self.settings,
        }


# -- the sweep ------------------------------------------------------------------


def _fresh_indices(n: int, fresh: int) -> set:
    return set(np.unique(np.round(np.linspace(0, n - 1, max(min(fresh, n), 1))).astype(int)).tolist())


def _solve_block(cell, base, names, axes, rows, fresh, complexity, counter=None) -> dict:
    """Points of the rows ``rows`` (forward then backward pass), keyed ``(i, j)``."""
    engine = Engine(cell, base, complexity=complexity)
    n1 = len(axes[0])
    fresh_i = _fresh_indices(n1, fresh)
    fresh_j = _fresh_indices(len(axes[1]), fresh) | {rows[0]}
    pts: dict = {}
    for j in rows:
        for i in range(n1):
            params = {**base, names[0]: float(axes[0][i]), names[1]: float(axes[1][j])}
            p = Point(params)
            near = [pts[k] for k in ((i - 1, j), (i, j - 1)) if k in pts]
            roots = [x for n in near for x in n.roots]
            saddles = [x for n in near for x in n.packed]
            sigmas = [n.sigma_saddle for n in near if np.isfinite(n.sigma_saddle)]
            p.fresh = (i in fresh_i and j in fresh_j) or not near
            engine.mean_field(p, roots, p.fresh)
            engine.stability(p)
            engine.saddles(p, saddles, p.fresh, sigmas)
            pts[(i, j)] = p
            if counter is not None:
                with counter.get_lock():
                    counter.value += 1
    for j in reversed(rows):
        for i in reversed(range(n1)):
            _backward(engine, pts, i, j)
    return pts


def _backward(engine: Engine, pts: dict, i: int, j: int, keys=None) -> None:
    """Retry point ``(i, j)`` from neighbours that have more roots or saddles."""
    p = pts[(i, j)]
    for k in keys or ((i + 1, j), (i, j + 1)):
        n = pts.get(k)
        if n is None:
            continue
        if len(n.roots) > len(p.roots):
            engine.mean_field(p, list(p.roots) + list(n.roots), fresh=False)
            engine.stability(p)
        if len(n.packed) > len(p.packed):
            engine.saddles(p, list(p.packed) + list(n.packed), fresh=False)


#: What forked workers read (set before the pool forks, so that the cell and
#: its generated code are inherited rather than pickled).
_JOB: dict = {}


def _engine() -> Engine:
    if "engine" not in _JOB:
        _JOB["engine"] = Engine(_JOB["cell"], _JOB["base"], complexity=_JOB["complexity"])
    return _JOB["engine"]


def _block_task(rows):
    job = _JOB
    return _solve_block(
        job["cell"], job["base"], job["names"], job["axes"], rows, job["fresh"], job["complexity"], job["counter"]
    )


def _onset_task(task):
    return _bisect(_engine(), *task)


def _edge_task(task):
    params, x = task
    try:
        return _engine().edge(params, x)
    except GatefieldError as err:
        return {"error": str(err)}


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C to the parent, which terminates the pool (no traceback per worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _map(func, tasks: list, jobs: int, progress=None) -> list:
    """``func`` over ``tasks`` in ``jobs`` forked processes (in order).

    A ``multiprocessing`` pool, whose exit terminates its workers: an
    interrupt or a ``--timeout`` in the parent stops the whole run at once
    instead of waiting for the workers' blocks to finish.
    """
    if jobs == 1 or len(tasks) < 2:
        return [func(t) for t in tasks]
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(min(jobs, len(tasks)), initializer=_quiet_worker) as pool:
        pending = pool.map_async(func, tasks, chunksize=1)
        counter = _JOB.get("counter")
        total = _JOB.get("total", 0)
        while not pending.ready():
            pending.wait(0.5)
            if progress is not None and counter is not None:
                progress(min(counter.value, total), total)
        return pending.get()


def phase_diagram(
    cell: Cell,
    vary: dict,
    parameters: dict | None = None,
    fresh: int = 3,
    jobs: int = 1,
    complexity: bool = True,
    edges: int = 4,
    progress=None,
    slow_delta: float | None = None,
) -> PhaseDiagram:
    """The phase diagram of ``cell`` over two parameters (module docstring).

    Parameters
    ----------
    vary : dict
        Two parameter names -> 1-D arrays of values (the first varies fastest).
    parameters : dict, optional
        Overrides of the other parameters.
    fresh : int
        Points per axis of the sub-grid where every solver searches afresh.
    jobs : int
        Processes (blocks of rows).
    complexity : bool
        Also the Kac-Rice complexity and its onset.
    edges : int
        Most points that get the full support trace.
    progress : callable(done, total), optional
    slow_delta : float, optional
        Also the maps of :data:`SLOW_MAPS`: the units' slow share within
        this distance of the slow point at every point (about 10 ms each),
        and marginal stability.

    Raises
    ------
    GatefieldError
        For a grid that is not two parameters of the cell, too large, or bad options.
    """
    if not isinstance(cell, Cell):
        raise GatefieldError(f"a phase diagram needs a Cell, got {type(cell).__name__}")
    if len(vary) != 2:
        raise GatefieldError(f"a phase diagram varies exactly two parameters, got {len(vary)}")
    names = tuple(vary)
    axes = tuple(np.asarray(vary[n], dtype=float).ravel() for n in names)
    if any(len(a) < 2 for a in axes):
        raise GatefieldError("each varied parameter needs at least 2 values for a phase diagram")
    if len(axes[0]) * len(axes[1]) > MAX_POINTS:
        raise GatefieldError(f"the grid has more than {MAX_POINTS} points; use fewer")
    fresh = _checks.count(fresh, "fresh", 1)
    jobs = _checks.count(jobs, "jobs", 1)
    edges = _checks.count(edges, "edges", 0)
    base = dict(parameters or {})
    cell.resolve({**base, **{n: float(a[0]) for n, a in zip(names, axes)}})  # names checked here
    start = time.perf_counter()
    progress = _on_change(progress)
    n1, n2 = len(axes[0]), len(axes[1])
    total = n1 * n2
    jobs = min(jobs, n2)
    blocks = [list(b) for b in np.array_split(np.arange(n2), jobs)]
    _JOB.clear()
    _JOB.update(cell=cell, base=base, names=names, axes=axes, fresh=fresh, complexity=complexity, total=total)
    if jobs == 1:
        _JOB["counter"] = _LocalCounter(progress, total)
        pts = _solve_block(cell, base, names, axes, blocks[0], fresh, complexity, _JOB["counter"])
    else:
        import multiprocessing as mp

        _JOB["counter"] = mp.get_context("fork").Value("i", 0)
        pts = {}
        for part in _map(_block_task, blocks, jobs, progress):
            pts.update(part)
    engine = Engine(cell, base, complexity=complexity)
    _JOB["engine"] = engine
    for b in blocks[1:]:  # stitch each block boundary, both ways
        lo, hi = b[0] - 1, b[0]
        for i in range(n1):
            _backward(engine, pts, i, hi, keys=((i, lo),))
            _backward(engine, pts, i, lo, keys=((i, hi),))
    sweep_s = time.perf_counter() - start
    maps = _maps(pts, n1, n2)
    bisected = _onset(pts, names, axes, jobs) if engine.complexity else []
    onset = sorted(([x, y] for x, y, _ in bisected), key=lambda xy: (xy[1], xy[0]))
    edge_rows = _edges(engine, pts, maps, names, axes, edges, jobs)
    if slow_delta is not None:
        maps.update(_slow_maps(engine, pts, maps, float(slow_delta)))
    _JOB.clear()
    lines = _lines(maps, axes)
    bifurcation, tricritical = _tricritical(engine, lines["zero_stability"], names)
    # along the first parameter, one onset per row: a line in the order of the second
    rows = sorted(([x, y] for x, y, axis in bisected if axis == 0), key=lambda xy: (xy[1], xy[0]))
    lines["complexity_onset"] = [rows] if len(rows) > 1 else []
    if progress is not None:
        progress(total, total)
    settings = {
        "fresh": fresh,
        "fresh_points": int(sum(p.fresh for p in pts.values())),
        "jobs": jobs,
        "complexity": engine.complexity,
        "complexity_note": engine.complexity_reason,
        "onset_steps": ONSET_STEPS,
        "seconds": {"sweep": sweep_s, "total": time.perf_counter() - start},
        "stability": "cheap ring test of rho(M) on the stability boundary and the units' own eigenvalues",
        "complexity_rule": "4 Gauss points per panel (relative error about 2.5e-5)",
    }
    if slow_delta is not None:
        settings["slow_delta"] = float(slow_delta)
    return PhaseDiagram(
        cell.name, names, axes, base, maps, lines, onset, edge_rows, [], settings, bifurcation, tricritical
    )


def _on_change(progress):
    """``progress`` called only when the count of finished points grows."""
    if progress is None:
        return None
    last = [-1]

    def tick(done, total):
        if done > last[0]:
            last[0] = done
            progress(done, total)

    return tick


class _LocalCounter:
    """The shared counter's interface in one process, reporting progress."""

    def __init__(self, progress, total):
        self.progress, self.total, self._value = progress, total, 0
        self._last = 0.0

    def get_lock(self):
        return _NoLock()

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = v
        now = time.perf_counter()
        if self.progress is not None and (now - self._last > 0.5 or v == self.total):
            self._last = now
            self.progress(v, self.total)


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# -- maps, regions, lines --------------------------------------------------------


def _onset(pts: dict, names, axes, jobs: int) -> list:
    """Bisection of ``sigma_saddle > 0`` inside every grid cell with a sign change."""
    n1, n2 = len(axes[0]), len(axes[1])
    tasks, where = [], []
    for (i, j), p in sorted(pts.items()):
        for axis, k in ((0, (i + 1, j)), (1, (i, j + 1))):
            if k[0] >= n1 or k[1] >= n2 or _positive(p.sigma_saddle) == _positive(pts[k].sigma_saddle):
                continue
            up, down = (p, pts[k]) if _positive(p.sigma_saddle) else (pts[k], p)
            name = names[axis]
            tasks.append((up.params, name, float(up.params[name]), float(down.params[name]), up.packed))
            where.append((up.params, name))
    out = []
    for (params, name), value in zip(where, _map(_onset_task, tasks, jobs)):
        at = {**params, name: value}
        out.append([at[names[0]], at[names[1]], names.index(name)])
    return out


def _edges(engine: Engine, pts: dict, maps: dict, names, axes, most: int, jobs: int) -> list:
    """The full trace at up to ``most`` points where the best margin changes sign."""
    if most == 0:
        return []
    n1, n2 = maps["best_margin"].shape
    stable = maps["best_margin"] > 0

    def boundary(i, j):
        around = ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1))
        return stable[i, j] and any(0 <= a < n1 and 0 <= b < n2 and not stable[a, b] for a, b in around)

    sites = [(i, j) for i in range(n1) for j in range(n2) if boundary(i, j)]
    if len(sites) > most:
        sites = [sites[k] for k in np.round(np.linspace(0, len(sites) - 1, most)).astype(int)]
    rows, tasks = [], []
    for i, j in sites:
        p = pts[(i, j)]
        candidates = list(zip(p.margins, p.roots))
        if p.zero:
            candidates.append((p.zero_margin, np.zeros(len(engine.compiled.integrals))))
        margin, x = max(candidates, key=lambda c: c[0])
        rows.append({names[0]: float(axes[0][i]), names[1]: float(axes[1][j]), "margin": margin})
        rows[-1]["order_parameters"] = engine.order_parameters(x)
        tasks.append((p.params, x))
    for row, found in zip(rows, _map(_edge_task, tasks, jobs)):
        row.update(found)
        row["agrees"] = bool(row.get("stable", row["margin"] > 0) == (row["margin"] > 0))
    return rows
