"""Symbolic layer: cell specs and pure derivations (SymPy only, no numpy)."""

from .derive import (
    LAM,
    FixedPoint,
    MeanFieldEquations,
    Pencil,
    SupportMatrix,
    fixed_point,
    jacobian_pencil,
    mean_field_equations,
    order_parameter,
    support_matrix,
)
from .functions import FUNCTIONS, relu, sigmoid, softplus
from .spec import Cell, CellBuilder, Coupling

__all__ = [
    "Cell",
    "CellBuilder",
    "Coupling",
    "FUNCTIONS",
    "sigmoid",
    "softplus",
    "relu",
    "FixedPoint",
    "MeanFieldEquations",
    "Pencil",
    "SupportMatrix",
    "LAM",
    "fixed_point",
    "mean_field_equations",
    "jacobian_pencil",
    "support_matrix",
    "order_parameter",
]
