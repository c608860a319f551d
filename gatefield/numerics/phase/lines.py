"""The lines of a phase diagram: contours of its maps, the complexity onset
bisected inside a grid cell, and tricritical points on the zero fixed
point's stability line (used by :mod:`.diagram`)."""

from __future__ import annotations

import numpy as np

from ._points import Engine

#: Bisection steps of the onset inside one grid cell (to the cell / 32).
ONSET_STEPS = 5
#: Regula falsi steps locating a tricritical point on one segment of the
#: zero-stability line (each one evaluation of the map's normal form).
TRICRITICAL_STEPS = 4
#: Error of the cheap rule's Sigma near an onset (measured on the GRU at
#: alpha_r = 0: 1.46e-5 against 2.09e-5 at g_h = 2.1; at alpha_r = 1 a
#: spurious -7.6e-7 at 2.025, inside the continuous onset at 2): a smaller
#: non-positive Sigma at the lower end sends the bisection to the full rule.
CHEAP_SIGMA_ERROR = 1e-5
#: Bisection steps with the full rule at a continuous onset, over the whole
#: grid cell (to 1/64 of it; each a polish,
#: 30-300 ms for the GRU; the full rule keeps a saddle down to Sigma ~ 1e-6,
#: the GRU's at alpha_r = 0 to g_h = 2.04, and loses it at 2.02).
ACCURATE_STEPS = 6
#: How far (in grid cells) beyond the cell's empty corner an extrapolated
#: continuous onset is trusted: the cheap rule loses the saddle up to about
#: 0.07 in g_h above the onset, one cell of the 40 x 40 GRU grid (0.064).
CUBIC_SLACK = 1.25
#: Moving a zero-line vertex onto mu = 1 (secant in the first parameter):
#: first step, most steps, |mu - 1| accepted (the slope's own finite-difference
#: error is about 1e-7), and the farthest move (relative) that is trusted.
LINE_STEP = 1e-3
LINE_SECANT = 6
LINE_TOL = 1e-6
LINE_REACH = 0.05


def _contours(z, axes, level: float) -> list:
    import contourpy

    z = np.ma.masked_invalid(np.asarray(z, float).T)  # contourpy: z[y, x]
    if z.count() < 4:
        return []
    gen = contourpy.contour_generator(axes[0], axes[1], z, line_type="Separate")
    lines: list = list(gen.lines(level))  # type: ignore[arg-type]  # line_type="Separate": a list of arrays
    return [[[float(a), float(b)] for a, b in line] for line in lines if len(line) > 1]


def _lines(maps: dict, axes) -> dict:
    branches = []
    top = int(np.nanmax(maps["nonzero_roots"])) if np.any(np.isfinite(maps["nonzero_roots"])) else 0
    for level in range(top):
        branches += _contours(maps["nonzero_roots"], axes, level + 0.5)
    return {
        "zero_stability": _contours(maps["zero_margin"], axes, 0.0),
        "mean_field_branches": branches,
        "chaos": _contours(np.where(np.isfinite(maps["best_margin"]), maps["best_margin"], -1.0), axes, 0.0),
    }


def _tricritical(engine: Engine, polys: list, names) -> tuple:
    """The transition's kind at each vertex of the zero-stability line, and
    the points where it changes (module docstring, step 5)."""

    def at(x, y) -> tuple:
        return engine.bifurcation({**engine.base, names[0]: float(x), names[1]: float(y)})

    def c2_at(xy) -> tuple:
        """``(mu, c2)`` on the line mu = 1 itself: the contour's vertex is
        linear interpolation of the margin and lies off it by O(cell^2); a
        secant in the first parameter moves it on (kept if it converges)."""
        x0, y = float(xy[0]), float(xy[1])
        mu0, c20 = at(x0, y)
        if not np.isfinite(mu0):
            return mu0, c20
        xa, fa = x0, mu0 - 1.0
        xb = x0 + LINE_STEP * max(1.0, abs(x0))
        mu, c2 = at(xb, y)
        fb = mu - 1.0
        for _ in range(LINE_SECANT):
            if not (np.isfinite(fb) and fb != fa):
                break
            xa, fa, xb = xb, fb, xb - fb * (xb - xa) / (fb - fa)
            mu, c2 = at(xb, y)
            fb = mu - 1.0
            if abs(fb) < LINE_TOL:
                break
        if np.isfinite(fb) and abs(fb) < LINE_TOL and abs(xb - x0) < LINE_REACH * max(1.0, abs(x0)):
            xy[0] = xb
            return mu, c2
        return mu0, c20

    rows, points = [], []
    for poly in polys:
        verts = [np.asarray(v, float) for v in poly]
        values = [c2_at(v) for v in verts]
        for v, (mu, c2) in zip(verts, values):
            if np.isfinite(c2):
                kind = "continuous" if c2 < 0 else "discontinuous"
                rows.append({names[0]: float(v[0]), names[1]: float(v[1]), "mu": mu, "c2": c2, "kind": kind})
        for k in range(len(verts) - 1):
            (_, ca), (_, cb) = values[k], values[k + 1]
            if not (np.isfinite(ca) and np.isfinite(cb)) or (ca < 0) == (cb < 0):
                continue
            a, b = verts[k], verts[k + 1]
            for _ in range(TRICRITICAL_STEPS):
                m = a + (b - a) * ca / (ca - cb)
                _, cm = c2_at(m)
                if not np.isfinite(cm) or cm == 0:
                    break
                if (cm < 0) == (ca < 0):
                    a, ca = m, cm
                else:
                    b, cb = m, cm
            m = a + (b - a) * ca / (ca - cb)
            points.append([float(m[0]), float(m[1])])
    return rows, points


def _positive(sigma: float) -> bool:
    return bool(np.isfinite(sigma) and sigma > 0)


def _bisect(engine: Engine, params: dict, name: str, a: float, b: float, starts) -> float:
    """The onset between ``a`` (Sigma > 0, saddles ``starts``) and ``b``.

    Bisection on the sign of the best saddle (cheap rule). Where the saddle
    branch ends below the onset (no saddle at the lower end: a continuous
    onset, ``q* -> 0``) or its ``Sigma`` is within :data:`CHEAP_SIGMA_ERROR`
    of 0, ``Sigma`` may vanish like ``(p - p*)^3`` and fall below the cheap
    rule's error before ``p*`` (the GRU at ``alpha_r = 0`` bisected to 2.07
    against 2). There the bisection is repeated with the full rule from the
    cell's positive end (:data:`ACCURATE_STEPS`); if the branch still ends (the
    continuous case), ``Sigma^(1/3)``, linear in ``p`` near ``p*``, is
    extrapolated to zero through two positive points near the onset,
    otherwise the full rule's bracket is bisected; the result is kept when
    it lands in the cell or within :data:`CUBIC_SLACK` cells beyond its
    empty corner (the cheap rule's "no saddle" there is not ``Sigma <= 0``).
    """
    cell = (min(a, b), max(a, b))
    a0, starts0, ended = a, starts, False
    for _ in range(ONSET_STEPS):
        mid = 0.5 * (a + b)
        sigma, packed = engine.sigma_at({**params, name: mid}, starts)
        if _positive(sigma):
            a, starts = mid, packed
        else:  # no saddle, or one whose Sigma is within the cheap rule's error of 0
            b, ended = mid, not (np.isfinite(sigma) and abs(sigma) > CHEAP_SIGMA_ERROR)
    if not ended:
        return 0.5 * (a + b)
    # the continuous case: the full rule from the grid cell's positive end (the
    # cheap rule's last positive point, where its Sigma is all error, is no start:
    # the GRU's at alpha_r = 0, g_h = 2.0725 did not polish)
    positive = []
    hi, lo, starts = a0, (cell[0] if a0 > b else cell[1]), starts0
    sigma, packed = engine.sigma_at({**params, name: hi}, starts, accurate=True)
    if not _positive(sigma):
        return 0.5 * (a + b)
    positive.append((hi, sigma))
    # the cell's lower end had no saddle (or |Sigma| within the cheap rule's error)
    starts, branch_ends = packed, True
    for _ in range(ACCURATE_STEPS):
        mid = 0.5 * (hi + lo)
        sigma, packed = engine.sigma_at({**params, name: mid}, starts, accurate=True)
        if _positive(sigma):
            hi, starts = mid, packed
            positive.append((mid, sigma))
        else:
            lo, branch_ends = mid, not np.isfinite(sigma)
    if not branch_ends or len(positive) < 2:  # a sign change of a continuing branch: bisected
        return 0.5 * (hi + lo)
    # the nearest point and one about 4x farther from the bracket's lower end
    # (bisection halves the distance each step): close points would divide a
    # rule error in Sigma^(1/3) by their small separation
    (p1, s1), (p2, s2) = positive[-1], positive[-3] if len(positive) >= 3 else positive[-2]
    r1, r2 = np.cbrt(s1), np.cbrt(s2)
    if r1 == r2:
        return 0.5 * (hi + lo)
    root = p1 - r1 * (p2 - p1) / (r2 - r1)
    # The cell's lower corner has "no saddle" on the cheap rule, not Sigma <= 0: the
    # onset may lie up to a cell beyond it (the GRU at alpha_r = 0 on the 40 x 40
    # grid: no cheap saddle at g_h = 2.0385, onset 2). Farther is distrusted.
    width = cell[1] - cell[0]
    reach = (cell[0] - CUBIC_SLACK * width, cell[1]) if a0 > lo else (cell[0], cell[1] + CUBIC_SLACK * width)
    if reach[0] <= root <= reach[1]:
        return float(root)
    return 0.5 * (hi + lo)
