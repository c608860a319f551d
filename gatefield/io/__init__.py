"""Reading and writing: cell files (parsed, never evaluated), LaTeX documents
and report directories written atomically."""

from .cellfile import load_cell_file, parse_cell
from .latex import cell_latex, compile_latex, latex_document

__all__ = ["load_cell_file", "parse_cell", "cell_latex", "latex_document", "compile_latex"]
