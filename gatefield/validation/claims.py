"""The founding papers' spectral claims, as data.

Each :class:`Figure` is a claim and a list of panels; a panel varies one
parameter of a built-in cell and plots one spectral quantity on one route:

- **fixed-point** route: the theory curve comes from the mean-field fixed
  point alone; the finite-N points from networks relaxed to a fixed point;
- **plug-in** route (chaotic states): the prediction needs one simulated
  snapshot per network, so theory and simulation are both drawn at the
  simulated parameter values (theory: mean over the seeds' snapshots).

Quantities: ``slow_fraction`` (share of eigenvalues within :data:`DELTA` of
the slow point) and ``spectral_radius``: the largest ``|eigenvalue|`` at the
figure's N, predicted with its band by
:func:`~gatefield.numerics.spectrum.edge_prediction` (the bulk's edge and the
units' own eigenvalues on whiskers), beside the bulk's radius. :func:`gatefield.validation.runner.make_figure`
computes a figure; ``gatefield figure NAME`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Panel", "Figure", "FIGURES", "DELTA", "LABELS"]

#: Radius about the slow point within which a mode counts as slow.
DELTA = 0.1
#: What each quantity's axis says.
LABELS = {
    "slow_fraction": f"share of eigenvalues within {DELTA} of the slow point",
    "spectral_radius": "largest |eigenvalue| at N",
}


@dataclass(frozen=True)
class Panel:
    """One panel: ``quantity`` of ``cell`` against parameter ``vary``.

    Attributes
    ----------
    series : tuple of (label, overrides)
        Each series is a theory curve (and its points), the overrides added
        to ``base``.
    theory_values, sim_values : tuples
        Where the theory curve is evaluated (fixed-point route) and where
        networks are simulated.
    equations : {"full", "reduced"}
        Fixed-point route: how finite-N fixed points are found
        (:func:`gatefield.simulate.find_fixed_point`): "reduced" solves the
        cell's gate-free fixed-point map, which reaches the GRU's fixed
        points that relaxation under a steep update gate does not.
    continuation : float or None
        Fixed-point route: find the fixed point at this value by relaxation,
        then follow that branch to the simulated values on either side by
        Newton's method in steps of ``CONTINUATION_STEP`` (for fixed points
        that no relaxation reaches; start where relaxation finds the branch
        the mean field describes, not the zero fixed point). Where a finite-N
        branch folds, relaxation from the last state finds a neighbouring
        non-zero fixed point; reaching the zero one ends the branch, and
        values beyond get the fixed point plain relaxation finds there.
    limit : bool
        Also draw the step-gate (large-gain) atom weight at the slow point.
    """

    title: str
    cell: str
    base: dict
    vary: str
    quantity: str
    route: str
    theory_values: tuple
    sim_values: tuple
    series: tuple = (("", {}),)
    equations: str = "full"
    limit: bool = False
    continuation: float | None = None


@dataclass(frozen=True)
class Figure:
    name: str
    claim: str
    panels: tuple


def _geom(a, b, n):
    return tuple(float(v) for v in np.geomspace(a, b, n))


def _lin(a, b, n):
    return tuple(float(v) for v in np.linspace(a, b, n))


GRU_FP = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}
LSTM_FP = {"g_g": 1.0, "beta_g": 1.0}

FIGURES: dict = {
    f.name: f
    for f in (
        Figure(
            "gru-update-slow-modes",
            "the GRU update gate piles up slow modes (eigenvalues near 1) as its gain grows; in the "
            "large-gain limit the closed units form an atom at 1",
            (
                Panel(
                    "fixed point (g_h=1.6, alpha_r=2, beta_h=0.4)",
                    "gru",
                    GRU_FP,
                    "alpha_z",
                    "slow_fraction",
                    "fixed-point",
                    _geom(0.5, 24, 14),
                    (1.0, 2.0, 4.0, 8.0, 16.0),
                    equations="reduced",
                    limit=True,
                ),
                Panel(
                    "chaotic state (g_h=3), plug-in",
                    "gru",
                    {"g_h": 3.0},
                    "alpha_z",
                    "slow_fraction",
                    "plug-in",
                    (),
                    (1.0, 2.0, 4.0, 8.0, 16.0),
                ),
            ),
        ),
        Figure(
            "gru-marginal-stability",
            "a large update-gate gain pins the edge of the spectrum at the slow point 1 (marginal "
            "stability) for candidate gains in a window, and not outside it",
            (
                Panel(
                    "fixed point of largest q",
                    "gru",
                    {},
                    "g_h",
                    "spectral_radius",
                    "fixed-point",
                    _lin(1.0, 4.0, 25),
                    (1.5, 3.0, 3.25, 3.5),
                    series=(("alpha_z = 1", {"alpha_z": 1.0}), ("alpha_z = 16", {"alpha_z": 16.0})),
                    equations="reduced",
                    continuation=3.0,
                ),
            ),
        ),
        Figure(
            "gru-reset-radius",
            "the GRU reset gate sets the spectral radius",
            (
                Panel(
                    "fixed point of largest q (g_h=2.5)",
                    "gru",
                    {"g_h": 2.5},
                    "beta_r",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 17),
                    (-2.0, -1.5, -1.0, -0.75),
                    equations="reduced",
                ),
                Panel(
                    "chaotic state (g_h=3), plug-in",
                    "gru",
                    {"g_h": 3.0},
                    "beta_r",
                    "spectral_radius",
                    "plug-in",
                    (),
                    (-1.0, 0.0, 1.0, 2.0, 3.0),
                ),
            ),
        ),
        Figure(
            "lstm-forget-slow-modes",
            "the LSTM forget gate piles up slow modes (eigenvalues near 1) as its bias grows",
            (
                Panel(
                    "fixed point (g_g=1, beta_g=1)",
                    "lstm",
                    LSTM_FP,
                    "beta_f",
                    "slow_fraction",
                    "fixed-point",
                    _lin(0.0, 5.0, 11),
                    (0.0, 1.0, 2.0, 3.0, 4.0),
                    limit=True,
                ),
                Panel(
                    "chaotic state (g_g=3), plug-in",
                    "lstm",
                    {"g_g": 3.0},
                    "beta_f",
                    "slow_fraction",
                    "plug-in",
                    (),
                    (0.0, 1.0, 2.0, 3.0, 4.0),
                ),
            ),
        ),
        Figure(
            "lstm-io-radius",
            "the LSTM input and output gates set the spectral radius",
            (
                Panel(
                    "fixed point (g_g=1, beta_g=1): input gate",
                    "lstm",
                    LSTM_FP,
                    "beta_i",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 9),
                    (-2.0, 0.0, 2.0),
                ),
                Panel(
                    "fixed point (g_g=1, beta_g=1): output gate",
                    "lstm",
                    LSTM_FP,
                    "beta_o",
                    "spectral_radius",
                    "fixed-point",
                    _lin(-2.0, 2.0, 9),
                    (-2.0, 0.0, 2.0),
                ),
                Panel(
                    "chaotic state (g_g=3), plug-in: input and output gates",
                    "lstm",
                    {"g_g": 3.0},
                    "bias",
                    "spectral_radius",
                    "plug-in",
                    (),
                    (-2.0, 0.0, 2.0),
                    series=(("beta_i", {"vary": "beta_i"}), ("beta_o", {"vary": "beta_o"})),
                ),
            ),
        ),
    )
}

# The fixed-point landscape's claims (Kac-Rice complexity, phase diagram),
# computed by gatefield.validation.landscape rather than by panels.
from .landscape import LANDSCAPE  # noqa: E402

FIGURES.update(LANDSCAPE)
