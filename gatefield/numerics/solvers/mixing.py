"""Damped and Anderson-accelerated fixed-point steps, shared by the DMFT solvers."""

from __future__ import annotations

import numpy as np

__all__ = ["Anderson"]


class Anderson:
    """Anderson (type II) mixing of a fixed-point iteration ``x -> T(x)``.

    With residuals ``f_k = T(x_k) - x_k`` and the differences ``dX``, ``dF``
    of the last ``depth`` iterates and residuals,
    ``gamma = argmin |f_k - dF gamma|^2 + ridge |gamma|^2`` (the ridge
    relative to the largest squared residual difference) and
    ``x_{k+1} = x_k + b f_k - (dX + b dF) gamma`` with ``b`` the damping
    (Walker and Ni 2011). ``depth = 0`` is the plain damped step. A mixed step
    that is not finite, or that ``valid`` rejects, is replaced by the damped
    step and the history is cleared.
    """

    def __init__(self, depth: int, ridge: float):
        self.depth = depth
        self.ridge = ridge
        self.history: list = []

    def step(self, x: np.ndarray, f: np.ndarray, damping: float, valid=None) -> np.ndarray:
        damped = x + damping * f
        if self.depth == 0:
            return damped
        history = self.history
        history.append((x.ravel().copy(), f.ravel().copy()))
        del history[: -(self.depth + 1)]
        if len(history) < 2:
            return damped
        dX = np.stack([history[k + 1][0] - history[k][0] for k in range(len(history) - 1)], axis=1)
        dF = np.stack([history[k + 1][1] - history[k][1] for k in range(len(history) - 1)], axis=1)
        gram = dF.T @ dF
        ridge = self.ridge * max(float(np.max(np.diag(gram))), 1e-300)
        gamma = np.linalg.solve(gram + ridge * np.eye(len(gram)), dF.T @ f.ravel())
        mixed = (x.ravel() + damping * f.ravel() - (dX + damping * dF) @ gamma).reshape(x.shape)
        if not np.all(np.isfinite(mixed)) or (valid is not None and not valid(mixed)):
            history.clear()
            return damped
        return mixed
