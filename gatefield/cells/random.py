"""Random valid cells from a seed: a family of cells nobody wrote by hand.

:func:`random_cell_text` draws a cell from the grammar below and writes it as
a TOML cell file (:mod:`gatefield.io.cellfile`), so that every random cell is
also a file a user can read, edit and pass to any command;
:func:`random_cell` parses that text into a :class:`~gatefield.theory.spec.Cell`
whose parameter defaults are the drawn values. The draw is a function of the
seed alone (``numpy.random.default_rng(seed)``).

Grammar
-------
Names: ``S`` a state, ``G`` a gate (a definition), ``c`` the candidate::

    cell       := TIME, FAMILY, PHI, gates, candidate, updates
    TIME       := discrete | continuous                      (1/2 each)
    gate G     := G = sigmoid(alpha_G * (J_G @ READ) + beta_G)
    READ       := h | G' * h                                 (G' a gate drawn before G)
    PHI        := tanh | erf | sin | relu                     (weights 4 : 2 : 1.5 : 2.5)
    candidate  := c = PHI(g_c * (J_c @ READ) + beta_c)       (reset gate r, if any, in READ)
                | c = PHI(beta_c + r * (g_c * (J_c @ h)))    (reset after the product)

    FAMILY one-state (state h; gates: update u and reset r, each present or not):
      discrete     h = (1 - u) * h + u * c                   (h = c without u)
      continuous   h = u * (-h + c)                          (h = -h + c without u)
      continuous, rate form (with prob. 1/3): the candidate is
                   c = g_c * (J_c @ (r * PHI(h))) + beta_c   (r * dropped without r)

    FAMILY memory (states m, h; gates: forget f, input i and output o, f always):
      discrete     m_new = f * m + (1 - f) * c   or   f * m + i * c   (LSTM-like)
                   m = m_new;   h = o * tanh(m_new)   (h = tanh(m_new) without o)
      continuous   m = f * (-m + c)   or   -(1 - f) * m + i * c
                   h = -h + o * tanh(m)              (-h + tanh(m) without o)

    FAMILY gate-state (states h, z; the update gate's input is a state):
      z  = (1 - k_z) * z + k_z * (J_z @ READ)       (continuous: (-z + J_z @ READ) / tau_z)
      u  = sigmoid(alpha_u * z + beta_u)
      h  as in one-state, with this u

In the LSTM-like memory every product reads ``h`` (``READ := h``).

Families are drawn with probabilities 1/2 (one-state), 1/4 (memory) and 1/4
(gate-state). The candidate reads ``h`` (the output in the memory family).
Every gate a cell declares is used. Whatever the draw, the fixed point
eliminates in closed form (each residual is affine in its state, divided
only by a gate or ``1 - f``, which never vanish), so gatefield's mean field
applies to all of them.

Cost
----
The LSTM-like fixed point ``h = tanh(i c / (1 - f))`` (times ``o``) depends
on three nodes jointly. When its products read different arguments (``h``
and ``i * h``, say) the mean field has two or three distinct order
parameters, each a three-node integral inside a multi-start root search:
five cells of an earlier draw took 245-266 s each for the mean field alone
on 2 loaded cores (against 3 s for the built-in LSTM, whose products all
read ``h``). Hence ``READ := h`` there; every other family keeps gated reads.

Parameter draws
---------------
Drawn so that a useful share have a stable fixed point and others are
chaotic: the candidate gain ``g_c`` is log-uniform on [0.6, 4] (the
ungated transition of a ``tanh`` map is at 1; gates that read a shrunken
state move it up), ``relu`` gains uniform on [0.5, 1.3] (below ``sqrt(2)``,
where a rectified map's ``q = g^2 q / 2 + ...`` stays finite: relu is the
only unbounded ``PHI``, and its bias is positive so the fixed point is not
zero). Gate gains ``alpha`` are log-uniform on [0.5, 6] (steep enough that
some gates nearly shut, not so steep that every cell is a step gate), gate
biases uniform on [-1.5, 2] (a positive bias opens a gate; most random gates
are half open), candidate biases 0 with probability 0.3 and otherwise uniform
on [-1, 1]. ``k_z`` (the gate state's discrete step) is uniform on [0.3, 1],
``tau_z`` log-uniform on [0.5, 2]. Values are rounded to 3 decimals so that
the TOML text is the cell exactly.
"""

from __future__ import annotations

import numpy as np

from ..io.cellfile import parse_cell
from ..theory.spec import Cell

__all__ = ["random_cell", "random_cell_text", "PHIS", "FAMILIES"]

#: Candidate nonlinearities and their weights: all bounded except relu (its gain is capped).
PHIS = {"tanh": 4.0, "erf": 2.0, "sin": 1.5, "relu": 2.5}
#: Cell families and their probabilities (see the module docstring).
FAMILIES = {"one-state": 0.5, "memory": 0.25, "gate-state": 0.25}

#: Decimals kept of every drawn value (the TOML text then is the cell exactly).
DECIMALS = 3


class _Draw:
    """The seed's generator and the cell's parameters, in drawing order."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.parameters: dict = {}

    def coin(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, weights: dict) -> str:
        names = list(weights)
        p = np.array([weights[n] for n in names], dtype=float)
        return names[int(self.rng.choice(len(names), p=p / p.sum()))]

    def uniform(self, name: str, low: float, high: float) -> str:
        return self._keep(name, self.rng.uniform(low, high))

    def log_uniform(self, name: str, low: float, high: float) -> str:
        return self._keep(name, np.exp(self.rng.uniform(np.log(low), np.log(high))))

    def _keep(self, name: str, value: float) -> str:
        self.parameters[name] = round(float(value), DECIMALS)
        return name


def _read(d: _Draw, gates_before: list) -> str:
    """``h`` or, with probability 1/2 when a gate precedes, ``G * h``."""
    if gates_before and d.coin(0.5):
        return f"({gates_before[int(d.rng.integers(len(gates_before)))]} * h)"
    return "h"


def _gates(d: _Draw, names: list, equations: dict, gated_reads: bool = True) -> None:
    """``G = sigmoid(alpha_G * (J_G @ READ) + beta_G)`` for each name, in a random order
    (``READ = h`` for all when not ``gated_reads``)."""
    order = [names[k] for k in d.rng.permutation(len(names))]
    for k, g in enumerate(order):
        read = _read(d, order[:k] if gated_reads else [])
        alpha, beta = d.log_uniform(f"alpha_{g}", 0.5, 6.0), d.uniform(f"beta_{g}", -1.5, 2.0)
        equations[g] = f"sigmoid({alpha} * (J_{g} @ {read}) + {beta})"


def _candidate(d: _Draw, phi: str, gates: list, reset: str | None, rate: bool = False) -> str:
    """The candidate's expression (see ``candidate`` in the module docstring)."""
    if phi == "relu":
        g = d.uniform("g_c", 0.5, 1.3)
        beta = d.uniform("beta_c", 0.1, 1.0)
    else:
        g = d.log_uniform("g_c", 0.6, 4.0)
        beta = "0" if d.coin(0.3) else d.uniform("beta_c", -1.0, 1.0)
    bias = "" if beta == "0" else f" + {beta}"
    if rate:
        read = f"({reset} * {phi}(h))" if reset else f"{phi}(h)"
        return f"{g} * (J_c @ {read}){bias}"
    if reset and d.coin(0.5):  # reset after the product (the PyTorch GRU's place)
        return f"{phi}({beta} + {reset} * ({g} * (J_c @ h)))" if bias else f"{phi}({reset} * ({g} * (J_c @ h)))"
    read = f"({reset} * h)" if reset else _read(d, gates)
    return f"{phi}({g} * (J_c @ {read}){bias})"


def _one_state(d: _Draw, time: str, phi: str, equations: dict) -> tuple:
    update, reset = d.coin(0.7), d.coin(0.5)
    gates = [g for g, on in (("u", update), ("r", reset)) if on]
    _gates(d, gates, equations)
    rate = time == "continuous" and d.coin(1 / 3)
    equations["c"] = _candidate(d, phi, gates, "r" if reset else None, rate)
    _mix(time, "u" if update else None, equations)
    kind = "rate-form " if rate else ""
    return ["h"], gates, f"one state h, {kind}candidate c"


def _mix(time: str, u: str | None, equations: dict) -> None:
    """The one-state update of ``h`` towards ``c``, through the update gate ``u`` if any."""
    if time == "discrete":
        equations["h"] = f"(1 - {u}) * h + {u} * c" if u else "c"
    else:
        equations["h"] = f"{u} * (-h + c)" if u else "-h + c"


def _memory(d: _Draw, time: str, phi: str, equations: dict) -> tuple:
    lstm, output = d.coin(0.5), d.coin(0.6)
    gates = ["f"] + (["i"] if lstm else []) + (["o"] if output else [])
    # LSTM-like: every product reads h (see "Cost" in the module docstring).
    _gates(d, gates, equations, gated_reads=not lstm)
    equations["c"] = _candidate(d, phi, [] if lstm else gates, None)
    out = "o * tanh({})" if output else "tanh({})"
    if time == "discrete":
        equations["m_new"] = "f * m + i * c" if lstm else "f * m + (1 - f) * c"
        equations["m"] = "m_new"
        equations["h"] = out.format("m_new")
    else:
        equations["m"] = "-(1 - f) * m + i * c" if lstm else "f * (-m + c)"
        equations["h"] = "-h + " + out.format("m")
    kind = "LSTM-like memory m" if lstm else "convex memory m"
    return ["m", "h"], gates, f"{kind}, output h, candidate c"


def _gate_state(d: _Draw, time: str, phi: str, equations: dict) -> tuple:
    reset = d.coin(0.5)
    if reset:
        _gates(d, ["r"], equations)
    read = _read(d, ["r"] if reset else [])
    if time == "discrete":
        k = d.uniform("k_z", 0.3, 1.0)
        equations["z"] = f"(1 - {k}) * z + {k} * (J_z @ {read})"
    else:
        tau = d.log_uniform("tau_z", 0.5, 2.0)
        equations["z"] = f"(-z + (J_z @ {read})) / {tau}"
    alpha, beta = d.log_uniform("alpha_u", 0.5, 6.0), d.uniform("beta_u", -1.5, 2.0)
    equations["u"] = f"sigmoid({alpha} * z + {beta})"
    gates = (["r"] if reset else []) + ["u"]
    equations["c"] = _candidate(d, phi, ["r"] if reset else [], "r" if reset else None)
    _mix(time, "u", equations)
    return ["h", "z"], gates, "state h and gate state z (u's input), candidate c"


_FAMILY_BUILDERS = {"one-state": _one_state, "memory": _memory, "gate-state": _gate_state}


def random_cell_text(seed: int) -> str:
    """The TOML text of the random cell drawn from ``seed``.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the text is a function of it alone.

    Returns
    -------
    str
        A cell file (format in :mod:`gatefield.io.cellfile`) whose
        ``[parameters]`` are the drawn values and whose description says
        what was drawn. Parameter names are symbols in the equations, so
        ``--set`` and ``validate(cell, {...})`` can change them.
    """
    d = _Draw(seed)
    time = "discrete" if d.coin(0.5) else "continuous"
    family = d.choice(FAMILIES)
    phi = d.choice(PHIS)
    equations: dict = {}
    states, gates, shape = _FAMILY_BUILDERS[family](d, time, phi, equations)
    name = f"rand{seed:04d}_{time[0]}_{''.join(states)}_{phi}_{''.join(gates) or 'ungated'}"
    description = (
        f"random cell, seed {seed}: {time} time, {family} family ({shape}); "
        f"{phi} candidate; gates {', '.join(gates) if gates else 'none'}"
    )
    lines = [
        f"# Drawn by gatefield.cells.random from seed {seed}.",
        "[cell]",
        f'name = "{name}"',
        f'time = "{time}"',
        "state = [" + ", ".join(f'"{s}"' for s in states) + "]",
        f'description = "{description}"',
        "",
        "[parameters]",
        *(f"{k} = {v!r}" for k, v in d.parameters.items()),
        "",
        "[equations]",
        *(f'{lhs} = "{rhs}"' for lhs, rhs in equations.items()),
    ]
    return "\n".join(lines) + "\n"


def random_cell(seed: int) -> Cell:
    """The random cell drawn from ``seed``, parsed from :func:`random_cell_text`.

    Its defaults (``cell.defaults``) are the drawn parameters.
    """
    return parse_cell(random_cell_text(seed), source=f"<random cell {seed}>")
