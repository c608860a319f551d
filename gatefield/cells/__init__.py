"""Built-in cells, and loading a cell by name or from a TOML file."""

from pathlib import Path

from ..errors import SpecError
from ..io.cellfile import load_cell_file
from ..theory.spec import Cell
from .builtins import BUILTINS, cgru, gru, gru_torch, lstm, minimal_rnn, rate, vanilla

__all__ = ["BUILTINS", "load_cell", "vanilla", "rate", "gru", "gru_torch", "cgru", "lstm", "minimal_rnn"]


def load_cell(cell) -> Cell:
    """A cell from a built-in name, a path to a TOML cell file, or a Cell.

    Raises
    ------
    SpecError
        If the name is neither a built-in nor an existing file, or the file
        is malformed.
    """
    if isinstance(cell, Cell):
        return cell
    name = str(cell)
    if name in BUILTINS:
        return BUILTINS[name]()
    if Path(name).exists() or name.endswith(".toml"):
        return load_cell_file(name)
    raise SpecError(f"unknown cell '{name}': use a built-in ({', '.join(BUILTINS)}) or a path to a TOML cell file")
