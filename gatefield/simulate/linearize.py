"""The finite-N Jacobian of a network, from the cell's linear pencil.

With per-unit coefficients ``A = dF/ds`` (m x m), ``B = dF/deta`` (m x K),
``C_a = dv_a/ds`` and ``E_ab = dv_a/deta_b`` (non-zero only for b before a),
``Jac = A + B (I - J E)^(-1) J C`` (``docs/theory/3-pencil.md``).
"""

from __future__ import annotations

import numpy as np

from .network import Network, _evaluate, _state, rhs

__all__ = ["jacobian", "finite_difference_jacobian", "pencil_values"]


def pencil_values(net: Network, values: dict) -> tuple:
    """Per-unit pencil coefficients as nested lists of arrays over units."""
    m, K = net.m, net.K
    P = net.compiled.pencil(values)
    A = [[P[k * m + l] for l in range(m)] for k in range(m)]
    o = m * m
    B = [[P[o + k * K + a] for a in range(K)] for k in range(m)]
    o += m * K
    C = [[P[o + a * m + k] for k in range(m)] for a in range(K)]
    o += K * m
    E = [[P[o + a * K + b] for b in range(K)] for a in range(K)]
    return A, B, C, E


def jacobian(net: Network, s) -> np.ndarray:
    """The finite-N Jacobian of ``s -> F(s, eta(s))`` at state ``s``.

    Parameters
    ----------
    net : Network
    s : array, shape (m, N)

    Returns
    -------
    numpy.ndarray, shape (N m, N m)
        Component-major: entry ``[k N + i, l N + j]`` is
        ``d F_k(unit i) / d s_l(unit j)``. For a continuous-time cell this is
        the Jacobian of the vector field ``ds/dt``.

    Notes
    -----
    From the linear pencil (``docs/theory/3-pencil.md``), with per-unit coefficients
    ``A = dF/ds`` (m x m), ``B = dF/deta`` (m x K), ``C_a = dv_a/ds`` and
    ``E_ab = dv_a/deta_b`` (non-zero only for b before a)::

        Jac = A + B (I - J E)^(-1) J C

    computed without an inverse: since ``E`` is strictly lower triangular in
    node order, ``X_a = d eta_a / d s`` (N x N m) follows node by node,

        X_a = J_a (diag(C_a) + sum_{b<a} diag(E_ab) X_b)

    and ``Jac = blockdiag(A) + sum_a diag(B_a) X_a``. A node with no
    dependence on earlier nodes costs only a column scaling of ``J_a``; each
    other node costs one N x N by N x N m product.
    """
    s = _state(net, s)
    N, m, K = net.N, net.m, net.K
    _, values = _evaluate(net, s)
    A, B, C, E = pencil_values(net, values)
    units = np.arange(N)
    nonzero_E = [[b < a and bool(np.any(E[a][b] != 0)) for b in range(K)] for a in range(K)]
    # Last node that still needs X_b, so X_b can be freed after it.
    last_use = [max([a for a in range(K) if nonzero_E[a][b]], default=-1) for b in range(K)]
    jac = np.zeros((N * m, N * m))
    X: list = [None] * K
    for a, J in enumerate(net.couplings):
        dense = None
        for b in range(a):
            if nonzero_E[a][b]:
                term = E[a][b][:, None] * X[b]
                dense = term if dense is None else dense + term
            if last_use[b] == a:
                X[b] = None
        if dense is None:
            # diag(C_a) only: J_a diag(C_ak) scales the columns of J_a.
            Xa = np.empty((N, N * m))
            for k in range(m):
                Xa[:, k * N : (k + 1) * N] = J * C[a][k][None, :]
        else:
            for k in range(m):
                dense[units, k * N + units] += C[a][k]
            Xa = J @ dense
            del dense
        for k in range(m):
            if np.any(B[k][a] != 0):
                jac[k * N : (k + 1) * N] += B[k][a][:, None] * Xa
        if last_use[a] > a:
            X[a] = Xa
    for k in range(m):
        for l in range(m):
            jac[k * N + units, l * N + units] += A[k][l]
    return jac


def finite_difference_jacobian(net: Network, s, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of :func:`rhs` by central differences, same layout as
    :func:`jacobian`.

    A reference for tests: it costs 2 N m evaluations of :func:`rhs`.

    Notes
    -----
    Column ``l N + j`` is ``(F(s + eps e_lj) - F(s - eps e_lj)) / (2 eps)``,
    accurate to ``O(eps^2)`` truncation plus ``O(machine eps / eps)``
    round-off.
    """
    s = _state(net, s)
    n = net.m * net.N
    flat = s.reshape(-1)
    out = np.empty((n, n))
    for col in range(n):
        up, down = flat.copy(), flat.copy()
        up[col] += eps
        down[col] -= eps
        out[:, col] = (rhs(net, up.reshape(s.shape)) - rhs(net, down.reshape(s.shape))).reshape(-1)
    return out / (2 * eps)
