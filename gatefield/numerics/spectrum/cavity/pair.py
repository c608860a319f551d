"""Closed forms of the reduced cavity equations for two active nodes.

With K = 2 every quantity Newton's method needs is a closed form in the
per-site scalars ``|X_jk|^2``, ``c_j = conj(X_j1) X_j2``, ``e_k = X_1k
conj(X_2k)`` and ``|det X|^2``, computed once per point: with ``Q = X^H D_b
X``, ``P = X D_a X^H`` (``det Q = b1 b2 |det X|^2``, ``det P = a1 a2 |det
X|^2``) and ``det = det(I + D_a Q) = 1 + a1 Q11 + a2 Q22 + a1 a2 det Q``,

    Gamma_a = P (I + D_b P)^(-1):  diag (P11 + b2 det P, P22 + b1 det P) / det,  off-diagonal P12 / det
    Gamma_b = Q (I + D_a Q)^(-1):  diag (Q11 + a2 det Q, Q22 + a1 det Q) / det,  off-diagonal Q12 / det

and the Jacobian's ``|(X (I + D_a Q)^(-1))_jc|^2`` and ``|(X^H (I + D_b
P)^(-1))_jc|^2`` follow from the adjugates of the 2 x 2 matrices
(``docs/theory/5-cavity.md#reduction``). Everything is real arithmetic on
``(points, sites)`` arrays: several times fewer operations than the general
2 x 2 complex products.
"""

from __future__ import annotations

import numpy as np

from .batches import Derivatives, PairEvaluation
from .linalg import _abs2

_PAIR_ROWS = 13


def _pair_scalars(X) -> np.ndarray:
    """(13, P, n) real: ``|X_jk|^2`` (11, 12, 21, 22), ``c_1, c_2`` and
    ``e_1, e_2`` (real and imaginary parts each) and ``|det X|^2``."""
    x11, x12, x21, x22 = X[0, 0], X[0, 1], X[1, 0], X[1, 1]
    c1, c2 = np.conj(x11) * x12, np.conj(x21) * x22
    e1, e2 = x11 * np.conj(x21), x12 * np.conj(x22)
    return np.stack(
        [
            _abs2(x11),
            _abs2(x12),
            _abs2(x21),
            _abs2(x22),
            c1.real,
            c1.imag,
            c2.real,
            c2.imag,
            e1.real,
            e1.imag,
            e2.real,
            e2.imag,
            _abs2(x11 * x22 - x12 * x21),
        ]
    )


def _pair_evaluate(mean, pair, x) -> tuple:
    """``Phi(x)`` for K = 2 (see the module docstring) and the state the
    Jacobian reuses."""
    a1, a2, b1, b2 = (np.maximum(x[:, i], 0.0)[:, None] for i in range(4))
    p11, p12, p21, p22, D = pair[0], pair[1], pair[2], pair[3], pair[12]
    Q11, Q22 = b1 * p11 + b2 * p21, b1 * p12 + b2 * p22
    P11, P22 = a1 * p11 + a2 * p12, a1 * p21 + a2 * p22
    aaD, bbD = (a1 * a2) * D, (b1 * b2) * D
    state = np.empty((9,) + D.shape)  # Gamma_a11, a22, Gamma_b11, b22, 1 / det, Q11, Q22, P11, P22
    idet = np.divide(1.0, 1.0 + a1 * Q11 + a2 * Q22 + b1 * b2 * aaD, out=state[4])
    np.multiply(P11 + b2 * aaD, idet, out=state[0])
    np.multiply(P22 + b1 * aaD, idet, out=state[1])
    np.multiply(Q11 + a2 * bbD, idet, out=state[2])
    np.multiply(Q22 + a1 * bbD, idet, out=state[3])
    state[5], state[6], state[7], state[8] = Q11, Q22, P11, P22
    phi = mean(state[:4]).T
    return phi, PairEvaluation(pair=pair, x=np.stack([a1[:, 0], a2[:, 0], b1[:, 0], b2[:, 0]]), state=state)


def _pair_jacobian(mean, parts) -> np.ndarray:
    """``d Phi / d x`` for K = 2: the entries of :meth:`.equations.Equations.jacobian` in
    closed form."""
    a1, a2, b1, b2 = (v[:, None] for v in parts.x)
    p11, p12, p21, p22, cr1, ci1, cr2, ci2, er1, ei1, er2, ei2, _ = parts.pair
    Ga11, Ga22, Gb11, Gb22, idet, Q11, Q22, P11, P22 = parts.state
    Qr, Qi = b1 * cr1 + b2 * cr2, b1 * ci1 + b2 * ci2  # Q12
    Pr, Pi = a1 * er1 + a2 * er2, a1 * ei1 + a2 * ei2  # P12
    q2, pq2 = Qr * Qr + Qi * Qi, Pr * Pr + Pi * Pi
    r1, r2 = cr1 * Qr + ci1 * Qi, cr2 * Qr + ci2 * Qi  # Re conj(c_j) Q12
    s1, s2 = er1 * Pr + ei1 * Pi, er2 * Pr + ei2 * Pi  # Re conj(e_j) P12
    i2 = idet * idet
    S11, S22 = 1.0 + a1 * Q11, 1.0 + a2 * Q22
    T11, T22 = 1.0 + b1 * P11, 1.0 + b2 * P22
    A1, A2, B1, B2 = (a1 * a1) * q2, (a2 * a2) * q2, (b1 * b1) * pq2, (b2 * b2) * pq2
    u1, u2 = (2.0 * a1) * S11, (2.0 * a2) * S22
    v1, v2 = (2.0 * b1) * T11, (2.0 * b2) * T22
    S11, S22, T11, T22 = S11 * S11, S22 * S22, T11 * T11, T22 * T22
    entries = np.empty((14,) + i2.shape)
    for k, value in enumerate(
        (
            p11 * S22 + p12 * A2 - u2 * r1,
            p11 * A1 + p12 * S11 - u1 * r1,  # det^2 |La_1c|^2
            p21 * S22 + p22 * A2 - u2 * r2,
            p21 * A1 + p22 * S11 - u1 * r2,  # det^2 |La_2c|^2
            p11 * T22 + p21 * B2 - v2 * s1,
            p11 * B1 + p21 * T11 - v1 * s1,  # det^2 |Lb_1c|^2
            p12 * T22 + p22 * B2 - v2 * s2,
            p12 * B1 + p22 * T11 - v1 * s2,  # det^2 |Lb_2c|^2
            Ga11,
            pq2,
            Ga22,
            Gb11,
            q2,
            Gb22,
        )
    ):
        np.multiply(value, value if k in (8, 10, 11, 13) else i2, out=entries[k])
    E = np.moveaxis(mean(entries), -1, 0)  # (P, 14)
    J = np.empty((E.shape[0], 4, 4))
    J[:, :2, :2] = E[:, 0:4].reshape(-1, 2, 2)
    J[:, 2:, 2:] = E[:, 4:8].reshape(-1, 2, 2)
    J[:, :2, 2:] = -E[:, [8, 9, 9, 10]].reshape(-1, 2, 2)
    J[:, 2:, :2] = -E[:, [11, 12, 12, 13]].reshape(-1, 2, 2)
    return J


def _pair_resolvent(mean, prep, parts, derivative=False):
    """For K = 2 at a solution: ``g`` and, with ``derivative``, what
    :meth:`.equations.Equations.derivatives` returns, in closed form.

    With ``X' = dX/dlam`` (``prep.dX``) and ``Y = X^H D_b X'``,
    ``g = E tr(lam - A)^(-1) + E h`` with ``h = tr F_a Y = N / det``,
    ``N = a1 S22 Y11 + a2 S11 Y22 - a1 a2 (Q12 Y21 + Q21 Y12)``,
    ``S_jj = 1 + a_j Q_jj`` (``tr Z F_a X^H D_b V`` of :meth:`evaluate`,
    since ``V Z = X'``). Its partial derivatives in ``x`` follow from
    ``Q``, ``Y`` and ``det`` being linear in ``b``; those in ``conj(lam)``
    at fixed ``x`` from ``conj(X)`` moving by ``conj(X')`` alone (``X`` and
    ``X'`` are analytic in ``lam``), ``Q21`` moving apart from ``conj(Q12)``.
    ``Phi`` depends on ``X`` only through ``|X_jk|^2`` and ``|det X|^2``,
    which gives ``dPhi/d conj(lam)``.
    """
    a1, a2, b1, b2 = (v[:, None] for v in parts.x)
    p11, p12, p21, p22, cr1, ci1, cr2, ci2, _, _, _, _, D = parts.pair
    Ga11, Ga22, Gb11, Gb22, idet, Q11, Q22, _, _ = parts.state
    X, W = prep.X, prep.dX
    cX = np.conj(X)
    c1, c2 = cr1 + 1j * ci1, cr2 + 1j * ci2
    Q12 = b1 * c1 + b2 * c2
    Q21 = np.conj(Q12)
    Y1 = [[cX[0, k] * W[0, l] for l in range(2)] for k in range(2)]  # Y^(1)_kl = conj(X_1k) X'_1l
    Y2 = [[cX[1, k] * W[1, l] for l in range(2)] for k in range(2)]
    Y = [[b1 * Y1[k][l] + b2 * Y2[k][l] for l in range(2)] for k in range(2)]
    S11, S22 = 1.0 + a1 * Q11, 1.0 + a2 * Q22
    aa = a1 * a2
    cross = Q12 * Y[1][0] + Q21 * Y[0][1]
    h = (a1 * S22 * Y[0][0] + a2 * S11 * Y[1][1] - aa * cross) * idet
    g = prep.g0 + mean(h)
    if not derivative:
        return g
    detQ = (b1 * b2) * D
    grad = [
        (S22 * Y[0][0] + a2 * Q11 * Y[1][1] - a2 * cross - h * (Q11 + a2 * detQ)) * idet,
        (a1 * Q22 * Y[0][0] + S11 * Y[1][1] - a1 * cross - h * (Q22 + a1 * detQ)) * idet,
    ]
    for pj1, pj2, cj, Yj, other in ((p11, p12, c1, Y1, b2), (p21, p22, c2, Y2, b1)):
        dN = (
            aa * pj2 * Y[0][0]
            + a1 * S22 * Yj[0][0]
            + aa * pj1 * Y[1][1]
            + a2 * S11 * Yj[1][1]
            - aa * (cj * Y[1][0] + Q12 * Yj[1][0] + np.conj(cj) * Y[0][1] + Q21 * Yj[0][1])
        )
        grad.append((dN - h * (a1 * pj1 + a2 * pj2 + aa * other * D)) * idet)
    # d / d conj(lam) at fixed x
    cW = np.conj(W)
    dp = X * cW  # d|X_jk|^2
    detX = X[0, 0] * X[1, 1] - X[0, 1] * X[1, 0]
    ddetX = W[0, 0] * X[1, 1] + X[0, 0] * W[1, 1] - W[0, 1] * X[1, 0] - X[0, 1] * W[1, 0]
    dD = detX * np.conj(ddetX)
    dQ11, dQ22 = b1 * dp[0, 0] + b2 * dp[1, 0], b1 * dp[0, 1] + b2 * dp[1, 1]
    dQ12 = b1 * cW[0, 0] * X[0, 1] + b2 * cW[1, 0] * X[1, 1]
    dQ21 = b1 * cW[0, 1] * X[0, 0] + b2 * cW[1, 1] * X[1, 0]
    dY = [[b1 * cW[0, k] * W[0, l] + b2 * cW[1, k] * W[1, l] for l in range(2)] for k in range(2)]
    abD = aa * (b1 * b2) * dD
    ddet = a1 * dQ11 + a2 * dQ22 + abD
    dN = (
        aa * dQ22 * Y[0][0]
        + a1 * S22 * dY[0][0]
        + aa * dQ11 * Y[1][1]
        + a2 * S11 * dY[1][1]
        - aa * (dQ12 * Y[1][0] + Q12 * dY[1][0] + dQ21 * Y[0][1] + Q21 * dY[0][1])
    )
    dh = (dN - h * ddet) * idet
    aaD, bbD = aa * dD, (b1 * b2) * dD
    dphi = np.stack(
        [
            (a1 * dp[0, 0] + a2 * dp[0, 1] + b2 * aaD - Ga11 * ddet) * idet,
            (a1 * dp[1, 0] + a2 * dp[1, 1] + b1 * aaD - Ga22 * ddet) * idet,
            (b1 * dp[0, 0] + b2 * dp[1, 0] + a2 * bbD - Gb11 * ddet) * idet,
            (b1 * dp[0, 1] + b2 * dp[1, 1] + a1 * bbD - Gb22 * ddet) * idet,
        ]
    )
    return g, Derivatives(g=g, dg=mean(dh), grad=mean(np.stack(grad)).T, dphi=mean(dphi).T)
