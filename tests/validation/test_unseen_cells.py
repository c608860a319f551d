"""Cells the theory was not tuned on (issue 10's acceptance), at N = 2000
over 3 seeds: under 1% of the eigenvalues outside the predicted support
(bulk and whiskers, a whisker's eigenvalue within its finite-N reach) on
average, every seed within validate's own outside tolerance (1.34% at N =
2000), and each seed's largest |eigenvalue| inside its predicted 99% band.

Measured at 88dbcf0 (outside share per seed; largest |eigenvalue|):

- gru_torch (PyTorch's convention), g_h = 1.6, alpha_r = 2, beta_h = 0.4,
  alpha_z = 2: 0.00%, 0.00%, 0.50%; 0.958, 0.980, 0.952 in [0.928, 0.980];
- MGU (tests/data/mgu.toml), alpha_f = 2, g_h = 1.5, beta_h = 0.5: 0.30%,
  1.20%, 0.40%; 0.985, 0.971, 0.975 in [0.947, 0.990] (seed 1's excess is
  bulk-edge spill at |lambda| 0.90-0.997, not on the whisker);
- UGRNN (tests/data/ugrnn.toml, its defaults): 0.85%, 0.90%, 0.10%; 0.997,
  0.999, 0.996 in [0.979, 1.053];
- LSTM, beta_f = 3, g_g = 1, beta_g = 1 (measured at 7540b19, with the 98%
  band, which the 99% band contains): 0.32%, 0.45%, 0.35%; 0.992, 0.993,
  0.992 in [0.988, 1.031].

Minutes per cell (the LSTM's 4000 x 4000 Jacobian: about 5 minutes a seed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gatefield as gf
from gatefield.numerics.spectrum import edge_prediction, inside_support
from gatefield.simulate import find_fixed_point, initial_state, make_network
from gatefield.validation.spectra import eigenvalues
from gatefield.validation.tolerances import outside_tolerance

DATA = Path(__file__).resolve().parents[1] / "data"
N = 2000
SEEDS = 3
CASES = {
    "gru_torch": ("gru_torch", {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4, "alpha_z": 2.0}),
    "mgu": (str(DATA / "mgu.toml"), {"alpha_f": 2.0, "g_h": 1.5, "beta_h": 0.5}),
    "ugrnn": (str(DATA / "ugrnn.toml"), {}),
    "lstm": ("lstm", {"beta_f": 3.0, "g_g": 1.0, "beta_g": 1.0}),
}


@pytest.mark.long
@pytest.mark.parametrize("name", list(CASES))
def test_unseen_cell_support_and_edge(name):
    source, params = CASES[name]
    cell = gf.load_cell(source)
    result = gf.solve(gf.problems.MeanField(cell, params))
    sites = gf.sites.from_fixed_point(result, solution=len(result.roots) - 1)
    assert sites.support.stable
    edge = edge_prediction(sites, N, 0.99)
    outside, largest = [], []
    for seed in range(SEEDS):
        net = make_network(cell, N, seed, result.parameters)
        s0 = initial_state(net, seed)
        fp = find_fixed_point(net, s0)
        if not fp.converged:  # slow modes make relaxation crawl: solve the fixed-point map
            fp = find_fixed_point(net, s0, equations="reduced")
        assert fp.converged, f"seed {seed}: no fixed point"
        eig = eigenvalues(net, fp.state)
        outside.append(float(np.mean(~inside_support(sites, eig, N))))
        largest.append(float(np.max(np.abs(eig))))
    assert np.mean(outside) < 0.01, outside
    assert max(outside) <= outside_tolerance(N), outside
    assert all(edge.contains(x) for x in largest), (largest, edge)
