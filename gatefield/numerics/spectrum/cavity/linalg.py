"""Small-matrix algebra over (point, site) batches.

Per-site matrices are stored as arrays of shape ``(rows, cols, P, n)``: P
points, n sites. Products of these tiny matrices are written out entry by
entry, so that every numpy call works on long contiguous vectors (several
times faster than numpy's batched matmul and inverse on 2 x 2 or 3 x 3
matrices).
"""

from __future__ import annotations

import numpy as np


def _mm(A, B):
    """Matrix product over the two leading axes."""
    out = np.empty((A.shape[0], B.shape[1]) + np.broadcast_shapes(A.shape[2:], B.shape[2:]), dtype=np.result_type(A, B))
    for i in range(A.shape[0]):
        acc = A[i, 0][None] * B[0]
        for j in range(1, A.shape[1]):
            acc += A[i, j][None] * B[j]
        out[i] = acc
    return out


def _mm_hermitian(A, B):
    """``A @ B`` for a product known to be Hermitian: the upper triangle is
    computed and the lower one mirrored."""
    K = A.shape[0]
    shape = np.broadcast_shapes(A.shape[2:], B.shape[2:])
    out = np.empty((K, K) + shape, dtype=np.result_type(A, B))
    for i in range(K):
        for j in range(i, K):
            acc = A[i, 0] * B[0, j]
            for k in range(1, A.shape[1]):
                acc += A[i, k] * B[k, j]
            out[i, j] = acc
            if j > i:
                out[j, i] = np.conj(acc)
    return out


def _h(A):
    """Conjugate transpose over the two leading axes."""
    return np.conj(np.swapaxes(A, 0, 1))


def _eye(K):
    return np.eye(K)[:, :, None, None]


def _trace_product(A, B):
    """``tr(A B)`` over the leading axes."""
    return sum(A[i, j] * B[j, i] for i in range(A.shape[0]) for j in range(A.shape[1]))


def _abs2(A):
    """``|A|^2`` entrywise, without the square root of ``np.abs``."""
    return A.real * A.real + A.imag * A.imag


def _diag(A):
    return np.stack([A[i, i] for i in range(A.shape[0])])


def _inv(S):
    """Inverse of Hermitian positive-definite matrices with eigenvalues >= 1
    (``I + Y^H Y``): Gauss-Jordan elimination needs no pivoting there."""
    K = S.shape[0]
    if K == 1:
        return 1.0 / S
    if K == 2:
        det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
        return np.stack([np.stack([S[1, 1], -S[0, 1]]), np.stack([-S[1, 0], S[0, 0]])]) / det
    M = S.copy()
    inv = np.broadcast_to(_eye(K), S.shape).astype(S.dtype)
    for i in range(K):
        pivot = 1.0 / M[i, i]
        M[i] *= pivot[None]
        inv[i] *= pivot[None]
        for j in range(K):
            if j != i:
                f = M[j, i].copy()
                M[j] -= f[None] * M[i]
                inv[j] -= f[None] * inv[i]
    return inv


def _resolvents(A, lams):
    """``(lam - A)^(-1)``: A is (m, m, 1, n), lams (P,); out (m, m, P, n)."""
    m = A.shape[0]
    lam = lams[:, None]
    if m == 1:
        return (1.0 / (lam - A[0, 0]))[None, None]
    if m == 2:
        a, b, c, d = A[0, 0], A[0, 1], A[1, 0], A[1, 1]
        det = (lam - a) * (lam - d) - b * c
        return np.stack(
            [np.stack([(lam - d) / det, b / det + 0j * lam]), np.stack([c / det + 0j * lam, (lam - a) / det])]
        )
    shifted = lam[..., None, None] * np.eye(m) - np.moveaxis(A, (0, 1), (-2, -1))
    return np.moveaxis(np.linalg.inv(shifted), (-2, -1), (0, 1))
