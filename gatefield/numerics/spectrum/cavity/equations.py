"""The reduced cavity equations at eps = 0 (``docs/theory/5-cavity.md#reduction``).

Per site, the Woodbury identity collapses the ``2k x 2k`` Hermitized block
to ``K x K`` Hermitian positive-definite inverses of ``X = -(C (lam - A)^(-1)
B + E)``; the unknowns are ``x = (a, b)`` in ``R^(2K)``, ``a, b >= 0``
(``u = -i a``, ``w = -i b``)::

    a = diag E_P[ X (I + D_a X^H D_b X)^(-1) D_a X^H ]
    b = diag E_P[ X^H (I + D_b X D_a X^H)^(-1) D_b X ]
    g = E_P[tr (lam - A)^(-1)] + E_P[ tr Z (I + D_a X^H D_b X)^(-1) D_a X^H D_b V ]

with ``Z = (lam - A)^(-1) B`` and ``V = C (lam - A)^(-1)``. :class:`Equations`
evaluates the map, its Jacobian and the derivatives the density needs.
"""

from __future__ import annotations

import numpy as np

from ....errors import SolverError
from ..views import PencilView
from .batches import Derivatives, Evaluation, PairEvaluation, PointData
from .linalg import _abs2, _diag, _eye, _h, _inv, _mm, _mm_hermitian, _resolvents, _trace_product
from .pair import _pair_evaluate, _pair_jacobian, _pair_resolvent, _pair_scalars

__all__ = ["Equations", "INERT"]

#: A node whose column of ``B`` and ``E`` is below this (times the largest
#: entry) at every site is inert: its ``b`` and its share of ``M`` vanish and
#: its ``a`` feeds nothing back (a GRU's update gate at a fixed point, where
#: ``dF/deta_z = z (1 - z) (h_tilde - h) = 0``; at a simulated fixed point it
#: is the residual, ~1e-11). Its share of ``M`` is below 1e-14 (squared), far
#: below the solver's tolerance, while keeping it makes the Newton system
#: nearly singular in that node's unknowns.
INERT = 1e-7


class Equations:
    """Site data laid out for the solver, inert nodes removed.

    ``active`` lists the nodes kept (``K`` of them).
    """

    def __init__(self, pencils: PencilView):
        self.pencils = pencils
        self.w = np.asarray(pencils.weights, dtype=float)
        B, E = pencils.B, pencils.E
        scale = max(float(np.max(np.abs(B), initial=0.0)), float(np.max(np.abs(E), initial=0.0)), 1e-300)
        column = np.maximum(np.max(np.abs(B), axis=(0, 1)), np.max(np.abs(E), axis=(0, 1)))
        self.active = np.flatnonzero(column > INERT * scale)
        self.K = len(self.active)
        self.m = pencils.m

        def layout(M):
            return np.moveaxis(M, 0, -1)[:, :, None, :]

        self.A = layout(pencils.A)
        self.B = layout(pencils.B[:, :, self.active])
        self.C = layout(pencils.C)
        self.E = layout(pencils.E[:, :, self.active])

    def mean(self, T):
        """``E_P`` over the site axis (last).

        Complex arrays are reduced as real and imaginary parts: numpy hands a
        complex ``T @ w`` with more than a few rows to a threaded ``zgemv``
        that stalls on a loaded machine, two real products do not."""
        if np.iscomplexobj(T):
            return T.real @ self.w + 1j * (T.imag @ self.w)
        return T @ self.w

    def prepare(self, lams) -> PointData:
        """What deciding the support needs at every point of ``lams``."""
        lams = np.asarray(lams, dtype=complex)
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                R = _resolvents(self.A, lams)
        except np.linalg.LinAlgError:
            R = np.full((self.m, self.m, len(lams), 1), np.nan)
        if not np.all(np.isfinite(R)):
            bad = lams[~np.all(np.isfinite(R), axis=(0, 1, 3))]
            raise SolverError(
                f"lam = {bad[0]} is an eigenvalue of a site's A (an atom of the spectrum "
                "or a point of the site distribution); move it off that value"
            )
        V_all = _mm(self.C, R)
        X_rows = -(_mm(V_all, self.B) + self.E)
        return PointData(
            R=R,
            V_all=V_all,
            X_rows=X_rows,
            X=X_rows[self.active],
            g0=self.mean(sum(R[i, i] for i in range(self.m))),
        )

    def extend(self, prep: PointData, derivative: bool = False) -> PointData:
        """``prep`` with ``Xh``, ``Z``, ``V`` (and ``dX`` for the density, and
        the K = 2 scalars): computed once per point, inside the support only."""
        Z = _mm(prep.R, self.B)
        V = prep.V_all[self.active]
        dX = _mm(V, Z) if derivative or self.K == 2 else None
        pair = _pair_scalars(prep.X) if self.K == 2 else None
        return prep.with_(Xh=_h(prep.X), Z=Z, V=V, dX=dX, pair=pair)

    def support_matrix(self, prep: PointData):
        """``M = E |X|^2`` on the active nodes: (P, K, K)."""
        return np.moveaxis(self.mean(_abs2(prep.X)), -1, 0)

    def evaluate(self, prep: PointData, x, general: bool = False) -> tuple:
        """``Phi(x)`` at every point (x is (P, 2K)), and the intermediates
        that :meth:`jacobian`, :meth:`derivatives` and :meth:`resolvent_value`
        reuse (``prep`` needs ``X`` and ``Xh``).

        With ``Q = X^H D_b X`` and ``F_a = (I + D_a Q)^(-1) D_a =
        D_a^(1/2) (I + D_a^(1/2) Q D_a^(1/2))^(-1) D_a^(1/2)``::

            Gamma_a = X F_a X^H,   Gamma_b = X^H F_b X = Q - Q F_a Q   (Woodbury)
            a' = E diag Gamma_a,   b' = E diag Gamma_b

        With two active nodes (``prep.pair`` set) the closed forms of
        :mod:`.pair` are used unless ``general``; their intermediates serve
        :meth:`jacobian` only.
        """
        if prep.pair is not None and not general:
            return _pair_evaluate(self.mean, prep.pair, x)
        K = self.K
        X, Xh = prep.X, prep.Xh
        a = np.maximum(x[:, :K], 0.0).T  # (K, P)
        b = np.maximum(x[:, K:], 0.0).T
        sa = np.sqrt(a)
        rows_sa, cols_sa = sa[:, None, :, None], sa[None, :, :, None]
        Q = _mm_hermitian(Xh, b[:, None, :, None] * X)
        Fa = rows_sa * _inv(_eye(K) + rows_sa * Q * cols_sa) * cols_sa
        FaQ = _mm(Fa, Q)
        Gb = Q - _mm_hermitian(_h(FaQ), Q)
        FaXh = _mm(Fa, Xh)
        Ga = _mm_hermitian(X, FaXh)
        phi = np.concatenate([self.mean(_diag(Ga).real), self.mean(_diag(Gb).real)]).T
        return phi, Evaluation(a=a, b=b, X=X, Xh=Xh, Q=Q, Fa=Fa, FaQ=FaQ, FaXh=FaXh, Ga=Ga, Gb=Gb)

    def resolvent_value(self, prep: PointData, parts) -> np.ndarray:
        """``g = E tr (lam - A)^(-1) + E tr Z F_a X^H D_b V`` at the points
        of ``parts`` (``prep`` from :meth:`extend`)."""
        if isinstance(parts, PairEvaluation):
            return _pair_resolvent(self.mean, prep, parts)
        bV = parts.b[:, None, :, None] * prep.V
        return prep.g0 + self.mean(_trace_product(prep.Z, _mm(parts.FaXh, bV)))

    def jacobian(self, parts) -> np.ndarray:
        """``d Phi / d x``: (P, 2K, 2K).

        With ``Gamma_a = X F_a X^H``, ``Gamma_b = X^H F_b X``::

            d a'_j / d a_c = E |(X (I + D_a Q)^(-1))_jc|^2,   d a'_j / d b_c = -E |Gamma_a,jc|^2
            d b'_j / d b_c = E |(X^H (I + D_b P)^(-1))_jc|^2, d b'_j / d a_c = -E |Gamma_b,jc|^2

        ``Q = X^H D_b X``, ``P = X D_a X^H`` (from ``d(I + D Q)^(-1) D =
        (I + D Q)^(-1) dD (I + Q D)^(-1)`` and ``dF = -F dQ F``), and
        ``(I + D_a Q)^(-1) = I - F_a Q``, ``X^H (I + D_b P)^(-1) = X^H -
        Gamma_b D_a X^H``.
        """
        if isinstance(parts, PairEvaluation):
            return _pair_jacobian(self.mean, parts)
        K = self.K
        a, X, Xh, FaQ, Ga, Gb = parts.a, parts.X, parts.Xh, parts.FaQ, parts.Ga, parts.Gb
        La = X - _mm(X, FaQ)
        Lb = Xh - _mm(Gb, a[:, None, :, None] * Xh)
        J = np.empty((X.shape[2], 2 * K, 2 * K))
        J[:, :K, :K] = np.moveaxis(self.mean(_abs2(La)), -1, 0)
        J[:, :K, K:] = -np.moveaxis(self.mean(_abs2(Ga)), -1, 0)
        J[:, K:, K:] = np.moveaxis(self.mean(_abs2(Lb)), -1, 0)
        J[:, K:, :K] = -np.moveaxis(self.mean(_abs2(Gb)), -1, 0)
        return J

    def derivatives(self, prep: PointData, parts) -> Derivatives:
        """What implicit differentiation in ``conj(lam)`` needs, at fixed x.

        Only ``X^H`` depends on ``conj(lam)``, with ``X' = dX/dlam =
        C (lam - A)^(-2) B``::

            da'/d conj(lam) = E diag X F_a X'^H (I - D_b Gamma_a)
            db'/d conj(lam) = E diag (I - Gamma_b D_a) X'^H F_b X
            dg/d conj(lam)  = E tr Z F_a X'^H D_b (I - Gamma_a D_b) V
            dg/da_c = E [(I + Q D_a)^(-1) X^H D_b V Z (I + D_a Q)^(-1)]_cc
            dg/db_c = E [(I - Gamma_a D_b) V Z F_a X^H]_cc

        with ``F_b X = D_b X (I + D_a Q)^(-1)``. For K = 2 the closed forms
        of :mod:`.pair`.
        """
        if isinstance(parts, PairEvaluation):
            return _pair_resolvent(self.mean, prep, parts, derivative=True)[1]
        g = self.resolvent_value(prep, parts)
        X, Xh, Fa, FaQ, FaXh, Ga, Gb, a, b = (
            parts.X,
            parts.Xh,
            parts.Fa,
            parts.FaQ,
            parts.FaXh,
            parts.Ga,
            parts.Gb,
            parts.a,
            parts.b,
        )
        I = _eye(self.K)
        Z, V = prep.Z, prep.V
        rows_b = b[:, None, :, None]
        VZ = _mm(V, Z)
        right = I - FaQ  # (I + D_a Q)^(-1)
        left = _h(right)  # (I + Q D_a)^(-1)
        grad_a = self.mean(_diag(_mm(_mm(left, Xh), _mm(rows_b * VZ, right))))
        IGD = I - Ga * b[None, :, :, None]  # I - Gamma_a D_b
        grad_b = self.mean(_diag(_mm(_mm(IGD, VZ), FaXh)))
        dXh = _h(prep.dX)
        IDG = _h(IGD)  # I - D_b Gamma_a
        IGDa = I - Gb * a[None, :, :, None]  # I - Gamma_b D_a
        FbX = rows_b * _mm(X, right)
        dphi_a = self.mean(_diag(_mm(_mm(X, Fa), _mm(dXh, IDG))))
        dphi_b = self.mean(_diag(_mm(_mm(IGDa, dXh), FbX)))
        core = _mm(_mm(Fa, dXh), rows_b * _mm(IGD, V))
        dg = self.mean(_trace_product(Z, core))
        return Derivatives(
            g=g,
            dg=dg,
            grad=np.concatenate([grad_a, grad_b]).T,
            dphi=np.concatenate([dphi_a, dphi_b]).T,
        )

    def inert_a(self, prep: PointData, parts: Evaluation) -> np.ndarray:
        """``a`` of every node (P, K_all): ``E (X F_a X^H)_cc`` with the full
        rows of ``X`` (inert nodes' ``a`` feeds nothing back)."""
        rows = prep.X_rows
        return self.mean(_diag(_mm(rows, _mm(parts.Fa, _h(rows)))).real).T
