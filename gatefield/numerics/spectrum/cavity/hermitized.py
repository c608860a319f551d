"""The literal Hermitized cavity equations at eps > 0: the reference route.

``docs/theory/5-cavity.md``: per site a ``2k x 2k`` block ``H_i`` whose
inverse gives the new ``(u, w)`` and ``g``. Slower than the reduced
equations at eps = 0, and kept as an independent check of that reduction.
"""

from __future__ import annotations

import numpy as np

from ..views import PencilView


def _hermitized_map(sites: PencilView, lam: complex, eps: float, u, w):
    """One application of the literal equations: the 2k x 2k block
    ``H_i`` of every site, ``G_i = H_i^(-1)``, and the new ``(u, w)`` and ``g``."""
    n, m, K = sites.n, sites.m, sites.K
    k = m + K
    R = np.concatenate([sites.C, sites.E], axis=2)  # (n, K, k): rows R_a
    Lam = np.zeros((n, k, k), dtype=complex)
    Lam[:, :m, :m] = lam * np.eye(m) - sites.A
    Lam[:, :m, m:] = -sites.B
    Lam[:, m:, m:] = np.eye(K)
    H = np.zeros((n, 2 * k, 2 * k), dtype=complex)
    H[:, :k, :k] = 1j * eps * np.eye(k)
    H[:, m + np.arange(K), m + np.arange(K)] -= u
    H[:, :k, k:] = -Lam
    H[:, k:, :k] = -np.conj(np.swapaxes(Lam, 1, 2))
    H[:, k:, k:] = 1j * eps * np.eye(k) - np.einsum("nak,a,nal->nkl", R, w, R)
    G = np.linalg.inv(H)
    wt = sites.weights
    w_new = np.einsum("na,n->a", G[:, m + np.arange(K), m + np.arange(K)], wt)
    u_new = np.einsum("nak,nkl,nal,n->a", R, G[:, k:, k:], R, wt)
    g = -np.einsum("nii,n->", G[:, k : k + m, :m], wt)
    return u_new, w_new, g


def _hermitized_solve(sites: PencilView, lam: complex, eps: float, tol: float, max_iter: int, start=None):
    """Newton's method on the literal equations (holomorphic in ``(u, w)``, so
    the Jacobian is taken by complex finite differences), continued in eps
    from 0.1 down by factors of 10."""
    K = sites.K
    z = np.concatenate(start) if start is not None else -1j * np.ones(2 * K)
    levels = [eps] if eps >= 0.1 else list(np.geomspace(0.1, eps, int(np.ceil(np.log10(0.1 / eps))) + 1))
    total = 0
    for level in levels:
        for _ in range(max_iter):
            u_new, w_new, g = _hermitized_map(sites, lam, level, z[:K], z[K:])
            F = np.concatenate([u_new, w_new]) - z
            total += 1
            size = np.max(np.abs(z), initial=0.0)
            res = float(np.max(np.abs(F))) / max(size, 1e-300) if size > 0 else float(np.max(np.abs(F)))
            if res <= tol:
                break
            delta = 1e-7 * max(size, 1e-3)
            J = np.empty((2 * K, 2 * K), dtype=complex)
            for j in range(2 * K):
                zj = z.copy()
                zj[j] += delta
                uj, wj, _ = _hermitized_map(sites, lam, level, zj[:K], zj[K:])
                J[:, j] = (np.concatenate([uj, wj]) - zj - F) / delta
            z = z - np.linalg.lstsq(J, F, rcond=None)[0]
    return z[:K], z[K:], complex(g), bool(res <= tol), total, float(res)
