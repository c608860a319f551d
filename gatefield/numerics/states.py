"""The per-unit fixed point ``s*(eta)`` at given node values, numerically.

Closed-form states come from the generated solution
(:func:`gatefield.theory.fixed_point`); states SymPy could not solve are found
point by point by Newton's method on the residual.
"""

from __future__ import annotations

import numpy as np

from ..errors import SolverError
from .codegen import CompiledCell

__all__ = ["fixed_states"]


def _singular(compiled: CompiledCell) -> str:
    cell = compiled.cell
    hint = (
        'a continuous-time update needs a decay term, e.g. h = "-h + tanh(g * (J @ h))"'
        if cell.time == "continuous"
        else "make each update depend on its own state"
    )
    return (
        f"cell '{cell.name}' has no well-defined per-unit fixed point: the Jacobian of its update in "
        f"its own state ({', '.join(compiled.states)}) is singular; {hint}, or study the time-dependent "
        "state with 'gatefield dmft'"
    )


def fixed_states(compiled: CompiledCell, env: dict, iterations: int = 60) -> dict:
    """States ``s*(eta)`` at the node values in ``env``, by state name.

    Numeric states start from the state reached by iterating the map from
    ``s = 0`` (discrete time) or from ``s = 0`` (continuous time), then take
    up to ``iterations`` Newton steps (stopping at a step below 1e-13).
    """
    shape = np.broadcast_shapes(*(np.shape(env[n]) for n in compiled.nodes))
    env = dict(env)
    for name in compiled.states:
        env.setdefault(name, np.zeros(shape))
    if compiled.numeric_states:
        s = np.zeros((len(compiled.states),) + shape)
        for k, name in enumerate(compiled.states):
            env[name] = s[k]
        if compiled.cell.time == "discrete":
            for _ in range(iterations):
                s = np.array(compiled.update(env))
                for k, name in enumerate(compiled.states):
                    env[name] = s[k]
        m = len(compiled.states)
        for _ in range(iterations):
            out = compiled.residual(env)
            r = np.moveaxis(np.array(out[:m]), 0, -1)
            jac = np.moveaxis(np.array(out[m:]).reshape((m, m) + shape), (0, 1), (-2, -1))
            with np.errstate(all="ignore"):
                try:
                    delta = np.linalg.solve(jac, r[..., None])[..., 0]
                except np.linalg.LinAlgError:
                    raise SolverError(_singular(compiled)) from None
            delta = np.nan_to_num(delta)
            s = s - np.moveaxis(delta, -1, 0)
            for k, name in enumerate(compiled.states):
                env[name] = s[k]
            if np.max(np.abs(delta), initial=0.0) < 1e-13:
                break
    if compiled.fixed_state is not None:
        for name, value in zip(compiled.solved_states, compiled.fixed_state(env)):
            env[name] = value
    return {name: np.broadcast_to(env[name], shape) for name in compiled.states}
