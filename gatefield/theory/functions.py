"""Elementwise functions that cells may use, as SymPy functions.

``sigmoid``, ``softplus`` and ``relu`` are not built into SymPy; they are
defined here with their derivatives and LaTeX forms so that derivations and
printing treat them as single functions. Their numpy counterparts live in
:mod:`gatefield.numerics.codegen`.
"""

import sympy

__all__ = ["sigmoid", "softplus", "relu", "FUNCTIONS"]


def _call_latex(name: str, printer, arg, exp) -> str:
    """``name(arg)`` in LaTeX, raised to ``exp`` if given."""
    body = rf"{name}\left({printer._print(arg)}\right)"
    return body if exp is None else f"{body}^{{{exp}}}"


class sigmoid(sympy.Function):
    r"""Logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})`, with
    :math:`\sigma' = \sigma (1 - \sigma)`."""

    nargs = 1

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))

    def _latex(self, printer, exp=None):
        return _call_latex(r"\sigma", printer, self.args[0], exp)


class softplus(sympy.Function):
    r"""Softplus :math:`\log(1 + e^{x})`, whose derivative is :math:`\sigma(x)`."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sympy.log(1 + sympy.exp(x))

    def _latex(self, printer, exp=None):
        return _call_latex(r"\operatorname{softplus}", printer, self.args[0], exp)


class relu(sympy.Function):
    r"""Rectifier :math:`\max(x, 0)`; its derivative is the Heaviside step
    (taken as 1/2 at 0)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sympy.Heaviside(self.args[0], sympy.S.Half)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        return _call_latex(r"\operatorname{relu}", printer, self.args[0], exp)


#: The functions a cell may call, by the name used in cell files.
FUNCTIONS = {
    "sigmoid": sigmoid,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "log": sympy.log,
    "erf": sympy.erf,
    "softplus": softplus,
    "relu": relu,
    "abs": sympy.Abs,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
}
