"""Shared tolerances, independent reference computations and test cells.

Every tolerance the theory/numerics tests use is defined here with the
reason for its size (STYLE.md example 7). The reference routines below use
only scipy and numpy directly, never gatefield's quadrature, so that they are
an independent route to the same numbers.
"""

from __future__ import annotations

import numpy as np
import sympy
from scipy import integrate

from gatefield.theory.functions import sigmoid
from gatefield.theory.spec import CellBuilder

# -- tolerances ---------------------------------------------------------------------

#: Relative accuracy of gatefield's quadrature (``node_rule`` with the default
#: 8 Legendre nodes per panel): the module documents a worst case of 2.5e-10
#: against scipy.integrate.quad over tanh^2 / sigmoid^2 integrands with gains
#: 0.3-500; 1e-9 leaves a factor 4 of margin.
QUAD_RTOL = 1e-9

#: Mean-field roots are refined by Brent's method (to 1e-13) on the accurate
#: rule, so a root is off by the quadrature error of ``Phi`` divided by the
#: slope of ``Phi(q) - q`` there. For the roots tested here that slope was
#: measured at 0.49-0.94 in magnitude, so 2.5e-10 / 0.49 = 5e-10 at worst;
#: observed deviations are below 1e-10.
ROOT_RTOL = 1e-9

#: ``trace_support`` bisects each ray to 1e-10 relative; on a rotationally
#: symmetric support the angular sampling costs nothing, so the traced radius
#: is exact to 1e-10. 1e-8 leaves a factor 100.
RADIUS_RTOL = 1e-8

#: Stability margins at the zero fixed point: the radius is a closed form up
#: to the bisection (1e-10) and quadrature with a single node (exact); 1e-6 is
#: four orders of magnitude above both.
STABILITY_ATOL = 1e-6

#: A support radius computed from sites whose moments are quadratures at
#: q > 0: quadrature (1e-9) plus bisection (1e-10) and the angular sampling of
#: 256 rays (zero on a disc); 1e-7 allows a factor 100 on the quadrature.
SUPPORT_RTOL = 1e-7

#: Monte Carlo checks pass when the difference is within this many standard
#: errors (estimated from the sample itself): a two-sided 4-sigma window fails
#: by chance with probability 6e-5 per comparison, and seeds are fixed.
MC_SIGMAS = 4.0

#: Identities evaluated with the same float arithmetic in a different order
#: (a few hundred ulps of O(1) numbers).
EXACT_RTOL = 1e-12

# -- independent references -----------------------------------------------------------

#: Half-width of the reference integration range in standard deviations:
#: the Gaussian mass beyond 12 sd is 3.6e-33, far below double precision.
REF_SDS = 12.0


def gauss_expect(f, q: float, points=()) -> float:
    """``E[f(eta)]``, ``eta ~ N(0, q)``, by adaptive ``scipy.integrate.quad``.

    ``points`` are switch points of ``f`` (in eta units) handed to quad as
    breakpoints so that steep gates are resolved. Requested accuracy 1e-13
    relative / 1e-14 absolute, well below ``QUAD_RTOL``.
    """
    sd = np.sqrt(q)
    lim = REF_SDS * sd
    inside = [p for p in points if -lim < p < lim]

    def density(e):
        return f(e) * np.exp(-0.5 * e * e / q) / np.sqrt(2.0 * np.pi * q)

    value, _ = integrate.quad(density, -lim, lim, points=inside or None, limit=500, epsabs=1e-14, epsrel=1e-13)
    return value


def mc_mean(samples: np.ndarray) -> tuple:
    """Sample mean and its standard error ``std / sqrt(n)``, along the last axis."""
    n = samples.shape[-1]
    return samples.mean(axis=-1), samples.std(axis=-1, ddof=1) / np.sqrt(n)


def assert_within_sigmas(value, mean, se, sigmas: float = MC_SIGMAS, floor: float = 0.0):
    """Assert ``|value - mean| <= sigmas * se + floor`` elementwise.

    ``floor`` covers entries whose sample has zero spread (exact zeros): it
    must be stated by the caller.
    """
    value, mean, se = np.broadcast_arrays(np.asarray(value), np.asarray(mean), np.asarray(se))
    bad = np.abs(value - mean) > sigmas * se + floor
    assert not np.any(bad), f"outside {sigmas} standard errors: value={value[bad]}, mean={mean[bad]}, se={se[bad]}"


def assert_sym_zero(expr) -> None:
    """Assert that a SymPy expression (or matrix) simplifies to exactly zero."""
    if isinstance(expr, sympy.MatrixBase):
        for k, entry in enumerate(expr):
            assert sympy.simplify(entry) == 0, f"entry {k}: {entry} does not simplify to 0"
    else:
        assert sympy.simplify(expr) == 0, f"{expr} does not simplify to 0"


def sym(name: str) -> sympy.Symbol:
    """A real symbol, as the spec layer declares every cell quantity."""
    return sympy.Symbol(name, real=True)


# -- test cells -------------------------------------------------------------------------


def ginibre_cell():
    """``h' = g * (J @ h)``: the Jacobian is g times a Ginibre matrix."""
    b = CellBuilder("ginibre", "discrete")
    h = b.state("h")
    g = b.parameter("g", 1.0)
    b.update(h, g * b.couple("J", h))
    return b.build()


def product_cell():
    """``h' = a * (J2 @ (b * (J1 @ h)))``: the Jacobian is a b J2 J1, a
    product of two independent Ginibre matrices (two nested nodes)."""
    b = CellBuilder("product", "discrete")
    h = b.state("h")
    a = b.parameter("a", 1.0)
    bb = b.parameter("b", 1.0)
    inner = b.couple("J1", h)
    b.update(h, a * b.couple("J2", bb * inner))
    return b.build()


def sigmoid_cell(g: float = 1.0, beta: float = 0.0):
    """``h' = sigmoid(g * (J @ h) + beta)``: mean field
    ``q = E[sigmoid(g sqrt(q) x + beta)^2]``."""
    b = CellBuilder("sigmoid_map", "discrete")
    h = b.state("h")
    gs = b.parameter("g", g)
    beta_s = b.parameter("beta", beta)
    b.update(h, sigmoid(gs * b.couple("J", h) + beta_s))
    return b.build()


def implicit_cell():
    """``h' = tanh(g * (J @ h) + w * h)``: the fixed point ``h = tanh(g eta + w h)``
    has no closed form in h."""
    b = CellBuilder("implicit", "discrete")
    h = b.state("h")
    g = b.parameter("g", 1.5)
    w = b.parameter("w", 0.5)
    b.update(h, sympy.tanh(g * b.couple("J", h) + w * h))
    return b.build()
