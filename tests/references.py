"""Independent reference solutions the tests hold the package against.

Each is computed here with scipy and numpy alone (never gatefield's own
quadrature or solvers), so that agreement is evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from helpers import gauss_expect
from scipy import integrate, optimize

#: The bivariate expectations below use a tensor composite Gauss-Legendre
#: rule on ``[-RANGE, RANGE]^2`` in standard units (Gaussian mass beyond 7.5 sd:
#: 6e-14) with panels of ``PANEL_X / sd`` standard units: ``log cosh`` is
#: analytic in a strip of half-width ``pi / 2`` about the real axis of ``x``,
#: so panels of 0.4 in ``x`` with 6 points each converge geometrically (a
#: plain Gauss-Hermite rule does not: 160 points leave 8e-7 at Delta0 = 5.4).
RANGE = 7.5
PANEL_X = 0.4
PANEL_POINTS = 6


def _log_cosh(x):
    return np.logaddexp(x, -x) - math.log(2.0)


@dataclass(frozen=True)
class PotentialSolution:
    """The Sompolinsky-Crisanti-Sommers solution of ``dx/dt = -x + g J tanh(x)``.

    ``Delta'' = -dV/dDelta`` with ``V(Delta) = -Delta^2/2 + g^2 E[Phi(x)
    Phi(x')]``, ``Phi = log cosh`` and ``Cov(x, x') = Delta``, ``Var = Delta0``
    (Sompolinsky, Crisanti and Sommers 1988). The decaying solution starts at
    rest at ``Delta0`` and reaches ``0`` at rest: ``V(Delta0) = V(0)``, i.e.
    ``Delta0^2 / 2 = g^2 Var[log cosh x]``.

    Attributes
    ----------
    g, delta0 : float
    curvature : float
        ``-Delta''(0) = g^2 E[tanh(x)^2] - Delta0``.
    """

    g: float
    delta0: float
    curvature: float

    def _phi_phi(self, delta) -> np.ndarray:
        """``E[Phi(x) Phi(x')]`` at covariance ``delta`` (tensor composite Gauss-Legendre)."""
        sd = math.sqrt(self.delta0)
        panels = int(math.ceil(2 * RANGE * sd / PANEL_X))
        edges = np.linspace(-RANGE, RANGE, panels + 1)
        x, wl = np.polynomial.legendre.leggauss(PANEL_POINTS)
        half = 0.5 * np.diff(edges)[:, None]
        z = (0.5 * (edges[:-1] + edges[1:])[:, None] + half * x).ravel()
        w = (half * wl).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        rho = np.clip(np.atleast_1d(np.asarray(delta, dtype=float)) / self.delta0, -1.0, 1.0)
        a = _log_cosh(sd * z)
        out = []
        for r in rho:
            x2 = sd * (r * z[:, None] + math.sqrt(max(1.0 - r * r, 0.0)) * z[None, :])
            out.append(float(np.einsum("i,j,i,ij->", w, w, a, _log_cosh(x2))))
        return np.array(out)

    def potential_gap(self, delta) -> np.ndarray:
        """``V(Delta0) - V(Delta)``, the kinetic energy at ``Delta``."""
        delta = np.asarray(delta, dtype=float)
        D0 = self.delta0
        gap = self.g**2 * (self._phi_phi(D0) - self._phi_phi(delta)) - 0.5 * (D0 * D0 - delta * delta)
        return gap.reshape(delta.shape)

    def time_to(self, level: float) -> float:
        """The lag at which ``Delta(tau) = level``: ``int_level^Delta0 dD / sqrt(2 (V(Delta0) - V(D)))``."""
        D0 = self.delta0
        y_max = math.sqrt(D0 - level)

        def integrand(y):  # D = Delta0 - y^2 removes the inverse square root at the turning point
            if y == 0:
                return 2.0 / math.sqrt(2.0 * self.curvature)
            return 2.0 * y / math.sqrt(2.0 * float(self.potential_gap(D0 - y * y)))

        # The gap is a difference of O(1) numbers near the turning point (round-off
        # ~1e-16 of them), so 1e-10 is the accuracy quad can reach.
        value, _ = integrate.quad(integrand, 0.0, y_max, epsabs=1e-12, epsrel=1e-10, limit=200)
        return float(value)


def rate_potential_solution(g: float) -> PotentialSolution:
    """Solve the energy equation ``Delta0^2 / 2 = g^2 Var[log cosh x]`` by
    Brent's method (a positive root exists iff g > 1), each expectation by
    adaptive ``quad`` (:func:`helpers.gauss_expect`)."""
    if g <= 1.0:
        return PotentialSolution(g, 0.0, 0.0)

    def energy(D0):
        m1 = gauss_expect(_log_cosh, D0)
        m2 = gauss_expect(lambda x: _log_cosh(x) ** 2, D0)
        return 0.5 * D0 * D0 - g * g * (m2 - m1 * m1)

    hi = 1.0
    while energy(hi) < 0:
        hi *= 2.0
    lo = hi / 2.0
    while energy(lo) > 0 and lo > 1e-12:
        lo /= 2.0
    D0 = optimize.brentq(energy, lo, hi, xtol=1e-15, rtol=1e-15)
    curvature = g * g * gauss_expect(lambda x: np.tanh(x) ** 2, D0) - D0
    return PotentialSolution(g, float(D0), float(curvature))
