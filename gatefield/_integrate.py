"""The package's time integrators, in one place.

- :func:`heun`: Heun's method (explicit trapezoidal rule, second order) on a
  grid where the driving field is known at the grid points: the DMFT's single
  unit and its tangent, so that the tangent is the exact linearization of the
  scheme the sample paths follow;
- :func:`rk4`: the classical fixed-step Runge-Kutta method, for QR Lyapunov
  exponents of finite networks (state and tangent vectors together);
- :func:`adaptive`: explicit Runge-Kutta 4(5) (Dormand-Prince) with error
  control through :func:`scipy.integrate.solve_ivp`, for trajectories.

States are tuples of arrays; a vector field returns a tuple of the same shape.
"""

from __future__ import annotations

import numpy as np
import scipy.integrate

__all__ = ["heun", "rk4", "adaptive", "ADAPTIVE"]

#: Settings of :func:`adaptive`: rtol 1e-6 keeps trajectory errors well below
#: the O(1/sqrt(N)) finite-size effects simulations are compared against;
#: atol 1e-9 resolves states decaying towards a zero fixed point.
ADAPTIVE = {"method": "RK45", "rtol": 1e-6, "atol": 1e-9}


def _step(y, h, k):
    return tuple(yi + h * ki for yi, ki in zip(y, k))


def heun(f, y: tuple, t: int, dt: float, k0: tuple | None = None) -> tuple:
    """One Heun step of ``dy/dt = f(y, t)`` from grid point ``t`` to ``t + 1``
    (``k0``: ``f(y, t)`` if already computed)."""
    k0 = f(y, t) if k0 is None else k0
    k1 = f(_step(y, dt, k0), t + 1)
    return tuple(yi + 0.5 * dt * (a + b) for yi, a, b in zip(y, k0, k1))


def rk4(f, y: tuple, dt: float) -> tuple:
    """One classical Runge-Kutta step of ``dy/dt = f(y)``."""
    k1 = f(y)
    k2 = f(_step(y, 0.5 * dt, k1))
    k3 = f(_step(y, 0.5 * dt, k2))
    k4 = f(_step(y, dt, k3))
    return tuple(yi + dt / 6 * (a + 2 * b + 2 * c + d) for yi, a, b, c, d in zip(y, k1, k2, k3, k4))


def adaptive(f, y0: np.ndarray, t_end: float, t_eval=None):
    """``scipy.integrate.solve_ivp`` of ``dy/dt = f(t, y)`` (flat ``y``) from 0 to
    ``t_end`` with :data:`ADAPTIVE`; returns the solver's result."""
    return scipy.integrate.solve_ivp(f, (0.0, t_end), y0, t_eval=t_eval, **ADAPTIVE)
