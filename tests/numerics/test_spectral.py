"""Slow modes, atoms, marginals and the log-potential (gatefield.numerics.spectrum)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from helpers import EXACT_RTOL, MC_SIGMAS, ginibre_cell, product_cell
from scipy.special import ndtr

import gatefield as gf
from gatefield import simulate
from gatefield.cells import cgru, gru, gru_torch, lstm, minimal_rnn, vanilla
from gatefield.errors import GatefieldError
from gatefield.numerics import compile_cell
from gatefield.numerics.spectrum import (
    accumulation_law,
    inside_support,
    log_potential,
    marginal_window,
    marginals,
    share_inside,
    site_atoms,
    slow_mode_fraction,
    slow_point,
    step_gate_atoms,
)
from gatefield.theory import CellBuilder
from gatefield.theory.functions import relu, sigmoid
from gatefield.theory.gates import binary_states, frozen_blocks, gates

#: The log-potential is a Gauss-Legendre path integral of g, which is
#: smooth on each panel (the support crossing is a panel boundary, found by
#: 40 bisections); measured error 1e-15 on Ginibre. 1e-9 leaves room for the
#: resolvent's own tolerance (1e-12 relative) times the path length.
POTENTIAL_ATOL = 1e-9
#: Contour counts on circles that stay off the support's edge converge
#: geometrically; 256 nodes give 1e-12 on Ginibre.
COUNT_ATOL = 1e-9


def single_site(cell, parameters=None):
    """The fixed-point sites at q = 0 on every coupling: one site."""
    return gf.sites.from_fixed_point(cell, parameters, q={c: 0.0 for c in compile_cell(cell).couplings})


def ginibre_potential(lam, g):
    r = abs(lam)
    return np.log(r) if r > g else np.log(g) - 0.5 + r * r / (2 * g * g)


def test_slow_point():
    assert slow_point("discrete") == 1.0 and slow_point("continuous") == 0.0
    with pytest.raises(GatefieldError, match="time must be 'discrete' or 'continuous'"):
        slow_point("weekly")


@pytest.mark.parametrize("lam", [0.3 + 0.2j, 1.0, 0.7j, 2.0 + 1.0j, -3.0])
def test_log_potential_ginibre(lam):
    sites = single_site(ginibre_cell(), {"g": 1.5})
    assert log_potential(sites, lam) == pytest.approx(ginibre_potential(lam, 1.5), abs=POTENTIAL_ATOL)


@pytest.mark.parametrize("lam", [0.4 + 0.3j, -0.2 + 0.6j, 1.5j])
def test_log_potential_product_of_two(lam):
    # Radial share F(r) = r on the unit disc, so Phi = |lam| - 1 inside and
    # log|lam| outside.
    sites = single_site(product_cell())
    r = abs(lam)
    expected = r - 1 if r < 1 else np.log(r)
    assert log_potential(sites, lam) == pytest.approx(expected, abs=POTENTIAL_ATOL)


def test_log_potential_matches_finite_n():
    # (1/N) log|det(lam - Jac)| at N = 1000, 3 seeds, for g * Ginibre: the
    # log-determinant's fluctuations are O(1/N) inside the bulk; the seed
    # scatter sets the tolerance.
    g, lam, N = 1.5, 0.4 + 0.5j, 1000
    sites = single_site(ginibre_cell(), {"g": g})
    values = []
    for seed in range(3):
        J = np.random.default_rng(seed).normal(0, g / np.sqrt(N), (N, N))
        values.append(np.linalg.slogdet(lam * np.eye(N) - J)[1] / N)
    se = np.std(values, ddof=1) / np.sqrt(len(values)) + 1.0 / N
    assert log_potential(sites, lam) == pytest.approx(np.mean(values), abs=MC_SIGMAS * se)


def test_log_potential_rejects_bad_height():
    sites = single_site(ginibre_cell(), {"g": 1.5})
    with pytest.raises(GatefieldError, match=r"lam \+ i\*height = .* is inside the support"):
        log_potential(sites, 0.1, height=0.5)
    with pytest.raises(GatefieldError, match="height must be a positive"):
        log_potential(sites, 0.1, height=-1.0)


def test_marginals_ginibre():
    # Uniform density 1/(pi g^2): p(r) = 2 r / g^2, p(theta) = 1 / (2 pi).
    g = 1.5
    sites = single_site(ginibre_cell(), {"g": g})
    m = marginals(sites, 0.0, g, radii=16, angles=16)
    np.testing.assert_allclose(m.radial, 2 * m.radii / g**2, rtol=1e-9)
    np.testing.assert_allclose(m.angular, np.full(16, 1 / (2 * np.pi)), rtol=1e-9)
    assert m.total == pytest.approx(1.0, abs=1e-9)
    assert m.atoms == ()


def test_slow_mode_fraction_and_accumulation_on_ginibre():
    # A disc of radius delta about 1 inside the support of radius 1.5 holds
    # delta^2 / 1.5^2: exponent 2 exactly.
    sites = single_site(ginibre_cell(), {"g": 1.5})
    np.testing.assert_allclose(slow_mode_fraction(sites, [0.3, 0.4]), [0.09 / 2.25, 0.16 / 2.25], atol=COUNT_ATOL)
    law = accumulation_law(sites, [0.05, 0.1, 0.2])
    assert law.exponent == pytest.approx(2.0, abs=1e-8)
    np.testing.assert_allclose(law.local_exponents, 2.0, atol=1e-8)
    with pytest.raises(GatefieldError, match="delta must be positive"):
        slow_mode_fraction(sites, [0.1, -1])


# -- gates and atoms ----------------------------------------------------------------


def test_frozen_blocks_of_builtins():
    described = {
        cell.name: [b.describe() for b in frozen_blocks(cell)]
        for cell in (gru(), gru_torch(), cgru(), lstm(), minimal_rnn(), vanilla())
    }
    assert described["gru"] == ["z = 0 freezes h (dF/ds = [1])"]
    assert described["cgru"] == ["z = 0 freezes h (dF/ds = [0])"]
    assert described["minimal_rnn"] == ["u = 1 freezes h (dF/ds = [1])"]
    assert "z = 1 freezes h (dF/ds = [1])" in described["gru_torch"]
    assert described["lstm"][:3] == [
        "o = 0 freezes h (dF/ds = [0])",
        "f = 0, i = 0 freezes c, h (dF/ds = [0, 0, 0, 0])",
        "f = 1, i = 0 freezes c (dF/ds = [1])",
    ]
    assert described["vanilla"] == []
    assert [g.name for g in gates(lstm())] == ["f", "i", "o"]


def test_binary_states_of_the_gru():
    states = {tuple(p.items()): (tuple(map(str, s)), e) for p, s, e in binary_states(gru())}
    assert states[(("z", 0),)] == (("h",), [1])
    assert states[(("z", 1),)] == ((), [])


def _gru_fixed_point(params):
    """The GRU's sites at its largest mean-field root."""
    result = gf.solve(gf.problems.MeanField(gru(), params))
    return gf.sites.from_fixed_point(result, solution=-1)


def test_step_gate_atoms_gru_and_lstm():
    # GRU: the unit is frozen (eigenvalue 1) where alpha_z eta_z + beta_z < 0.
    sites = _gru_fixed_point(dict(g_h=1.6, alpha_r=2.0, beta_h=0.4, alpha_z=4.0, beta_z=0.5))
    (atom,) = step_gate_atoms(sites)
    q = sites.variances["eta_z"]
    assert q == sites.order_parameters["J_z"]
    assert atom.location == 1.0
    assert atom.weight == pytest.approx(ndtr(-0.5 / (4.0 * np.sqrt(q))), rel=EXACT_RTOL)
    # LSTM with a shut-proof forget gate (beta_f = 30): i = 0 freezes c at 1
    # (weight P(i shut) / 2 = 1/4); o = 0 freezes h at 0 (1/4) and the frozen
    # c-block adds its h-eigenvalue 0 when o = 1 (1/8).
    # Any positive node variances will do (these are the order of a fixed
    # point's): beta_f = 30 against sd 0.5 leaves f shut with probability 1e-200.
    q = {"J_f": 0.25, "J_i": 0.25, "J_o": 0.25, "J_g": 0.25}
    sites = gf.sites.from_fixed_point(lstm(), dict(beta_f=30.0), q=q)
    atoms = {a.location: a.weight for a in step_gate_atoms(sites)}
    assert atoms == pytest.approx({1.0: 0.25, 0.0: 0.375}, rel=1e-12)


def hard_gate_gru():
    """A GRU whose update gate is a hard sigmoid ``clip(eta_z, 0, 1)``: it is
    exactly shut for eta_z < 0, freezing half the units."""
    b = CellBuilder("hard_gru", "discrete")
    h = b.state("h")
    g_h = b.parameter("g_h", 1.6)
    eta_z = b.couple("J_z", h)
    z = b.define("z", relu(eta_z) - relu(eta_z - 1))
    h_tilde = b.define("h_tilde", __import__("sympy").tanh(g_h * b.couple("J_h", h) + 0.4))
    b.update(h, (1 - z) * h + z * h_tilde)
    return b.build()


def test_site_atoms_of_a_hard_gate_are_counted():
    cell = hard_gate_gru()
    sites = gf.sites.from_fixed_point(gf.solve(gf.problems.MeanField(cell)), solution=-1)
    atoms = site_atoms(sites)
    assert len(atoms) == 1
    assert atoms[0].location == 1.0
    # eta_z is symmetric about 0: half the quadrature mass is shut. The
    # rule's weights sum to 1 to 1e-12.
    assert atoms[0].weight == pytest.approx(0.5, abs=1e-10)
    # The contour count around 1 includes the atom: it exceeds the atom's
    # weight only by the continuous part within the circle.
    inside = share_inside(sites, 1.0, 0.05)
    assert 0.5 - 1e-9 <= inside < 0.5 + 0.05
    # And the finite-N Jacobian at any state has exactly one eigenvalue 1 per
    # shut unit (its row is e_i).
    net = simulate.make_network(cell, 300, 0)
    state = simulate.initial_state(net, 0)
    eig = np.linalg.eigvals(simulate.jacobian(net, state))
    shut = int(
        np.sum(
            simulate.nodes(net, state)[cell.couplings.index(next(c for c in cell.couplings if c.matrix == "J_z"))] < 0
        )
    )
    assert int(np.sum(np.abs(eig - 1) < 1e-9)) == shut


def _gate_state_cell():
    """A continuous cell whose gate has its own state z, read by no node."""
    b = CellBuilder("gate_state", "continuous")
    h, z = b.state("h"), b.state("z")
    tau = b.parameter("tau_z", 0.77)
    b.update(z, (-z + b.couple("J_z", h)) / tau)
    u = b.define("u", sigmoid(1.4 * z + 1.4))
    c = b.define("c", sympy.tanh(1.3 * b.couple("J_c", h) - 0.9))
    b.update(h, u * (-h + c))
    return b.build()


def _fixed_point_eigenvalues(cell, N=300, seed=0):
    """Eigenvalues of the Jacobian at a simulated network's fixed point."""
    net = simulate.make_network(cell, N, seed)
    found = simulate.find_fixed_point(net, simulate.initial_state(net, seed))
    assert found.converged
    return np.linalg.eigvals(simulate.jacobian(net, found.state))


def test_site_atoms_of_a_mode_no_node_sees():
    # dh/dz = u'(z) (c - h) vanishes at a fixed point and no node reads z: the
    # Jacobian is block triangular and -1/tau_z is an exact eigenvalue of every
    # unit, an atom of weight 1/2, though no site's B or C vanishes.
    cell = _gate_state_cell()
    sites = gf.sites.from_fixed_point(gf.solve(gf.problems.MeanField(cell)), solution=0)
    atoms = site_atoms(sites)
    assert len(atoms) == 1
    assert atoms[0].location == pytest.approx(-1 / 0.77, rel=EXACT_RTOL)
    assert atoms[0].weight == pytest.approx(0.5, abs=1e-10)
    eig = _fixed_point_eigenvalues(cell)
    at_atom = np.abs(eig + 1 / 0.77) < 1e-8
    assert int(at_atom.sum()) == 300
    # Every one of those N eigenvalues counts as inside the support (its
    # bulk test is 0/0 there).
    assert inside_support(sites, eig[at_atom], 300).all()


def test_site_atoms_of_the_lstm_at_its_zero_fixed_point():
    # At h = c = 0 the output gate's drive o' tanh(c) vanishes, so the h rows
    # are o times the c rows: the Jacobian has rank N and 0 is an atom of
    # weight 1/2 (numpy finds exactly N zero eigenvalues).
    cell = lstm()
    sites = gf.sites.from_fixed_point(gf.solve(gf.problems.MeanField(cell)), solution=0)
    atoms = site_atoms(sites)
    assert [(a.location, round(a.weight, 10)) for a in atoms] == [(0j, 0.5)]
    net = simulate.make_network(cell, 200, 1)
    eig = np.linalg.eigvals(simulate.jacobian(net, np.zeros((cell.m, 200))))
    assert int(np.sum(np.abs(eig) < 1e-10)) == 200


def test_site_atoms_of_sigmoid_gates_are_empty():
    sites = _gru_fixed_point(dict(g_h=1.6, alpha_r=2.0, beta_h=0.4))
    assert site_atoms(sites) == ()


def test_marginal_window_finds_runs_of_touching():
    values = np.arange(7.0)
    gaps = np.array([0.2, 1e-4, 0.0, -5e-4, -0.1, np.nan, 0.0])
    assert marginal_window(values, gaps) == [(1.0, 3.0), (6.0, 6.0)]
    assert marginal_window(values, np.full(7, 0.5)) == []
    with pytest.raises(GatefieldError, match="values and gaps must be 1-D arrays of the same length"):
        marginal_window(values, gaps[:3])
