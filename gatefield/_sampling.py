"""Random streams and sampling statistics shared by theory solvers and simulations.

Seeds are given per purpose (couplings, initial states, paths, ...); each
purpose mixes in its own stream tag, so that the same integer used for two
purposes still gives independent draws.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import GatefieldError

__all__ = ["rng", "STREAMS", "batch_means", "initial_states", "correlated_nodes"]

#: Entropy tags of the random streams, by purpose.
STREAMS = {
    "state": 0x5EED,  # initial states of networks and populations
    "dmft": 0xD3F7,  # DMFT sample paths
    "tangent-dmft": 0x1A9D,  # the tangent DMFT's fields
    "tangent": 0x7A9E,  # QR tangent vectors
    "nodes": 0xA77E,  # annealed node draws
    "weights": 0x0A7E,  # untied weights
}


def rng(seed: int, stream: str) -> np.random.Generator:
    """The generator of ``stream`` for ``seed``."""
    return np.random.default_rng([seed, STREAMS[stream]])


def batch_means(series, blocks: int) -> tuple:
    """Mean and batch-means standard error of a time series along its last axis.

    The series is cut into ``blocks`` equal contiguous blocks (a remainder at
    the start is dropped); the error is ``std(block means) / sqrt(blocks)``.
    Honest when a block is much longer than the correlation time of the
    series; it underestimates the error otherwise.
    """
    x = np.asarray(series, dtype=float)
    T = x.shape[-1]
    per = T // blocks
    if per < 1:
        raise GatefieldError(
            f"a window of {T} steps cannot be cut into {blocks} blocks; measure longer or use fewer blocks"
        )
    x = x[..., T - per * blocks :]
    b = x.reshape(*x.shape[:-1], blocks, per).mean(axis=-1)
    return x.mean(axis=-1), b.std(axis=-1, ddof=1) / math.sqrt(blocks)


def initial_states(
    generator: np.random.Generator, shape: tuple, scale: float, replicas: int, correlation: float
) -> np.ndarray:
    """Initial states, shape ``(replicas, *shape)``, iid N(0, scale^2) entries.

    The second replica is ``c0 s1 + sqrt(1 - c0^2) s'`` with ``s'``
    independent, so the two start with correlation ``c0`` per component.
    """
    s1 = scale * generator.standard_normal(shape)
    if replicas == 1:
        return s1[None]
    other = scale * generator.standard_normal(shape)
    return np.stack([s1, correlation * s1 + math.sqrt(1.0 - correlation**2) * other])


def correlated_nodes(v: np.ndarray, generator: np.random.Generator, size: int) -> np.ndarray:
    """Node values of ``R`` replicas, ``(R, size)``, for arguments ``v`` ``(R, P)``.

    Jointly Gaussian per unit, iid over units, with covariance
    ``G = v v^T / P`` (the population second moments of the arguments), by
    the symmetric square root of ``G`` (valid also when the replicas
    coincide and ``G`` is singular).
    """
    R, P = v.shape
    # einsum rather than matmul: these products are tiny in R, and a
    # multithreaded BLAS call on a busy machine costs more than the work.
    G = np.einsum("rp,sp->rs", v, v) / P
    w, U = np.linalg.eigh(G)
    root = U * np.sqrt(np.maximum(w, 0.0))
    return np.einsum("rs,sp->rp", root, generator.standard_normal((R, size)))
