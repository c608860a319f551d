"""Built-in cells, written with the public spec API exactly as a user would.

Conventions shared by all built-ins (see the README):

- couplings are unit-variance, ``J_x`` entries iid N(0, 1/N); every gain is an
  explicit parameter (``g_*`` for candidate gains, ``alpha_*`` for gate gains);
- a gate is ``sigmoid(alpha * (J @ h) + beta)``: ``beta`` is its bias, and a
  large positive bias opens the gate;
- discrete-time updates give the next state, continuous-time ones its time
  derivative.
"""

from __future__ import annotations

from sympy import tanh

from ..theory.functions import sigmoid
from ..theory.spec import Cell, CellBuilder


def _summary(factory) -> str:
    """The first line of a factory's docstring: the cell's description."""
    return (factory.__doc__ or "").split("\n")[0]


__all__ = ["vanilla", "rate", "gru", "gru_torch", "cgru", "gated", "lstm", "minimal_rnn", "BUILTINS"]


def _gate(b: CellBuilder, name: str, coupling: str, argument, alpha=1.0, beta=0.0):
    """``name = sigmoid(alpha_name * (coupling @ argument) + beta_name)``."""
    a = b.parameter(f"alpha_{name}", alpha)
    c = b.parameter(f"beta_{name}", beta)
    return b.define(name, sigmoid(a * b.couple(coupling, argument) + c))


def vanilla() -> Cell:
    """Vanilla random map ``h' = tanh(g * (J @ h) + beta)``.

    The zero fixed point (beta = 0) is stable for g < 1; for g > 1 the
    non-zero order parameter solves ``q = E[tanh(g sqrt(q) xi)^2]``
    (docs/theory/9-checks.md).
    """
    b = CellBuilder("vanilla", "discrete", description=_summary(vanilla))
    h = b.state("h")
    g, beta = b.parameter("g", 2.0), b.parameter("beta", 0.0)
    b.update(h, tanh(g * b.couple("J", h) + beta))
    return b.build()


def rate() -> Cell:
    """Rate network ``dx/dt = -x + g * (J @ tanh(x))``.

    Sompolinsky, Crisanti and Sommers (1988): the zero fixed point loses
    stability at g = 1, beyond which the network is chaotic.
    """
    b = CellBuilder("rate", "continuous", description=_summary(rate))
    x = b.state("x")
    g = b.parameter("g", 2.0)
    b.update(x, -x + g * b.couple("J", tanh(x)))
    return b.build()


def gru() -> Cell:
    """GRU with the reset gate applied before the product (Cho et al. 2014, v3).

    ``z = sigmoid(alpha_z (J_z @ h) + beta_z)``,
    ``r = sigmoid(alpha_r (J_r @ h) + beta_r)``,
    ``h_tilde = tanh(g_h (J_h @ (r h)) + beta_h)``,
    ``h' = (1 - z) h + z h_tilde``.

    ``z`` is the fraction of the candidate taken in each step (the convention
    of Krishnamurthy, Can and Schwab 2022): a closed update gate (z -> 0)
    freezes the unit and piles up slow modes near 1.
    """
    b = CellBuilder(
        "gru",
        "discrete",
        description="GRU, reset before the product (Cho et al. 2014 v3); h' = (1-z) h + z h_tilde",
    )
    h = b.state("h")
    z = _gate(b, "z", "J_z", h)
    r = _gate(b, "r", "J_r", h)
    g_h, beta_h = b.parameter("g_h", 3.0), b.parameter("beta_h", 0.0)
    h_tilde = b.define("h_tilde", tanh(g_h * b.couple("J_h", r * h) + beta_h))
    b.update(h, (1 - z) * h + z * h_tilde)
    return b.build()


def gru_torch() -> Cell:
    """GRU in the PyTorch/cuDNN convention: reset after the product, z and 1-z swapped.

    ``n = tanh(beta_h + r (g_h (J_h @ h) + beta_hn))``,
    ``h' = z h + (1 - z) n``: here an *open* update gate (z -> 1) freezes the
    unit. ``beta_h`` and ``beta_hn`` are PyTorch's ``b_in`` and ``b_hn``.
    """
    b = CellBuilder(
        "gru_torch",
        "discrete",
        description="GRU, PyTorch/cuDNN convention: reset after the product; h' = z h + (1-z) n",
    )
    h = b.state("h")
    z = _gate(b, "z", "J_z", h)
    r = _gate(b, "r", "J_r", h)
    g_h = b.parameter("g_h", 3.0)
    beta_h, beta_hn = b.parameter("beta_h", 0.0), b.parameter("beta_hn", 0.0)
    n = b.define("n", tanh(beta_h + r * (g_h * b.couple("J_h", h) + beta_hn)))
    b.update(h, z * h + (1 - z) * n)
    return b.build()


def cgru() -> Cell:
    """Continuous-time GRU ``dh/dt = z (-h + tanh(g_h (J_h @ (r h)) + beta_h))``.

    Gates as in :func:`gru`. Its Jacobian is that of the discrete GRU minus
    the identity, so slow modes sit near 0.
    """
    b = CellBuilder("cgru", "continuous", description="continuous-time GRU; dh/dt = z (-h + h_tilde)")
    h = b.state("h")
    z = _gate(b, "z", "J_z", h)
    r = _gate(b, "r", "J_r", h)
    g_h, beta_h = b.parameter("g_h", 3.0), b.parameter("beta_h", 0.0)
    h_tilde = b.define("h_tilde", tanh(g_h * b.couple("J_h", r * h) + beta_h))
    b.update(h, z * (-h + h_tilde))
    return b.build()


def gated() -> Cell:
    """Continuous-time gated network with dynamical gates (Can, Krishnamurthy and Schwab 2020).

    ``dh/dt = sigma_z * (-h + g_h (J_h @ (sigma_r * tanh(h))))``,
    ``tau_z dz/dt = -z + J_z @ tanh(h)``,
    ``tau_r dr/dt = -r + J_r @ tanh(h)``,
    ``sigma_z = sigmoid(alpha_z z + beta_z)``, ``sigma_r = sigmoid(alpha_r r + beta_r)``.

    The gates follow the shared convention (a large positive bias opens a
    gate) with the gate variables ``z``, ``r`` low-pass filtering their
    inputs over the times ``tau_z``, ``tau_r`` (both must be positive; the
    defaults, 1, are the leak time of ``h``). Gates and candidate read
    ``phi(h) = tanh(h)`` through the couplings, as in the paper's
    Eqs. (1)-(3) (Phys. Rev. X 10, 021041). A closed update gate
    (``sigma_z -> 0``) freezes ``h``; ``sigma_z = 1``, ``sigma_r = 1`` is the
    rate network ``dh/dt = -h + g_h J_h @ tanh(h)`` (:func:`rate`).

    Limit ``tau_z, tau_r -> 0``: ``z = J_z @ tanh(h)``, ``r = J_r @ tanh(h)``
    and the cell becomes the continuous-time GRU in rate (pre-activation)
    form ``dh/dt = sigmoid(alpha_z (J_z @ tanh(h)) + beta_z) * (-h + g_h
    (J_h @ (sigmoid(alpha_r (J_r @ tanh(h)) + beta_r) * tanh(h))))``. That
    is *not* :func:`cgru`, the activity form, whose gates read ``J @ h`` and
    whose candidate is ``tanh(g_h (J_h @ (r h)) + beta_h)``; without gates
    the two are the two usual ways of writing the same rate network
    (``x = J @ tanh(h)`` versus ``h``), but with state-dependent gates no
    change of variables maps one onto the other.
    """
    b = CellBuilder(
        "gated",
        "continuous",
        description="continuous-time gated network with dynamical gates (Can, Krishnamurthy, "
        "Schwab 2020); dh/dt = sigma_z (-h + g_h J_h (sigma_r tanh h))",
    )
    h = b.state("h")
    z = b.state("z")
    r = b.state("r")
    alpha_z, beta_z = b.parameter("alpha_z", 1.0), b.parameter("beta_z", 0.0)
    alpha_r, beta_r = b.parameter("alpha_r", 1.0), b.parameter("beta_r", 0.0)
    g_h = b.parameter("g_h", 3.0)
    tau_z, tau_r = b.parameter("tau_z", 1.0), b.parameter("tau_r", 1.0)
    sigma_z = b.define("sigma_z", sigmoid(alpha_z * z + beta_z))
    sigma_r = b.define("sigma_r", sigmoid(alpha_r * r + beta_r))
    b.update(h, sigma_z * (-h + g_h * b.couple("J_h", sigma_r * tanh(h))))
    b.update(z, (-z + b.couple("J_z", tanh(h))) / tau_z)
    b.update(r, (-r + b.couple("J_r", tanh(h))) / tau_r)
    return b.build()


def lstm() -> Cell:
    """LSTM with state ``(c, h)``.

    ``f, i, o = sigmoid(alpha_x (J_x @ h) + beta_x)`` for x in f, i, o;
    ``g = tanh(g_g (J_g @ h) + beta_g)``;
    ``c' = f c + i g``, ``h' = o tanh(c')``.
    A large forget bias ``beta_f`` keeps memory and piles up slow modes near 1.
    """
    b = CellBuilder("lstm", "discrete", description="LSTM; c' = f c + i g, h' = o tanh(c')")
    c = b.state("c")
    h = b.state("h")
    f = _gate(b, "f", "J_f", h)
    i = _gate(b, "i", "J_i", h)
    o = _gate(b, "o", "J_o", h)
    g_g, beta_g = b.parameter("g_g", 3.0), b.parameter("beta_g", 0.0)
    g = b.define("g", tanh(g_g * b.couple("J_g", h) + beta_g))
    c_new = b.define("c_new", f * c + i * g)
    b.update(c, c_new)
    b.update(h, o * tanh(c_new))
    return b.build()


def minimal_rnn() -> Cell:
    """minimalRNN (Chen, Pennington and Schoenholz 2018) without external input.

    ``z = tanh(g_z (J_z @ h) + beta_z)`` stands in for the input embedding,
    ``u = sigmoid(alpha_u (J_u @ h) + beta_u)``, ``h' = u h + (1 - u) z``.
    An open gate (u -> 1) keeps the state.
    """
    b = CellBuilder("minimal_rnn", "discrete", description="minimalRNN; h' = u h + (1-u) z")
    h = b.state("h")
    g_z, beta_z = b.parameter("g_z", 2.0), b.parameter("beta_z", 0.0)
    z = b.define("z", tanh(g_z * b.couple("J_z", h) + beta_z))
    u = _gate(b, "u", "J_u", h)
    b.update(h, u * h + (1 - u) * z)
    return b.build()


#: Built-in cells by name.
BUILTINS = {
    "vanilla": vanilla,
    "rate": rate,
    "gru": gru,
    "gru_torch": gru_torch,
    "cgru": cgru,
    "gated": gated,
    "lstm": lstm,
    "minimal_rnn": minimal_rnn,
}
