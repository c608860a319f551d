"""The share of a finite network's eigenvalues past the predicted support
(gatefield.numerics.spectrum.spill), against closed forms and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import ginibre_cell

import gatefield as gf
from gatefield.numerics.spectrum import edge_spill, inside_support
from gatefield.simulate import find_fixed_point, initial_state, make_network
from gatefield.validation import eigenvalues
from gatefield.validation.tolerances import SIGMAS, outside_tolerance

GRU_STABLE = {"g_h": 1.6, "alpha_r": 2.0, "beta_h": 0.4}


def _sites(cell, parameters=None):
    return gf.sites.from_fixed_point(gf.solve(gf.problems.MeanField(cell, parameters)), solution=-1)


@pytest.mark.parametrize("g", [0.5, 0.9])
def test_a_uniform_disc_spills_like_ginibre(g):
    # g times a Ginibre matrix: uniform density 1/(pi g^2) on the disc of
    # radius g, so oint sqrt(rho) ds = 2 sqrt(pi) whatever g: shape 1 and
    # the spill 1/sqrt(2 pi N). The boundary is a 96-gon (perimeter short by
    # (pi/96)^2/6 = 1.8e-4) and the density is read 1e-3 r inside.
    spill = edge_spill(_sites(ginibre_cell(), {"g": g}), 1000)
    assert spill.shape == pytest.approx(1.0, rel=1e-3)
    assert spill.expected == pytest.approx(1 / math.sqrt(2 * math.pi * 1000), rel=1e-3)
    # Every unit is the same (the zero fixed point): a network's law cannot move the edge.
    assert spill.shift == 0.0
    assert spill.stderr == pytest.approx(math.sqrt(spill.expected / 1000), rel=1e-12)


def test_a_plug_in_support_does_not_move():
    spill = edge_spill(_sites(gf.load_cell("gru"), GRU_STABLE), 400, draws=0)
    assert spill.shift == 0.0 and spill.expected > 0


def test_networks_spill_as_predicted():
    # The GRU at a stable non-zero fixed point, whose units differ (the edge
    # moves with a network's own law): 8 networks of 400.
    # Each network's share outside must lie within the validation's
    # tolerance, and their mean within 3 standard errors of the prediction
    # (stderr / sqrt(8): the networks are independent).
    cell, N, nets = gf.load_cell("gru"), 400, 8
    sites = _sites(cell, GRU_STABLE)
    spill = edge_spill(sites, N)
    assert spill.shift > 0
    shares = []
    for seed in range(nets):
        net = make_network(cell, N, seed, GRU_STABLE)
        found = find_fixed_point(net, initial_state(net, seed))
        assert found.converged
        shares.append(float(np.mean(~inside_support(sites, eigenvalues(net, found.state), N))))
    assert max(shares) <= outside_tolerance(N, spill), shares
    assert abs(np.mean(shares) - spill.expected) <= SIGMAS * spill.stderr / math.sqrt(nets), shares
