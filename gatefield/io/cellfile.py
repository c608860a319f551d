"""Cell files: a small TOML format for cells, parsed without running any code.

A cell file has three tables::

    [cell]
    name = "mgu"
    time = "discrete"        # or "continuous": right-hand sides are then time derivatives
    state = ["h"]
    description = "optional free text"   # optional

    [parameters]             # defaults
    alpha_f = 1.0
    beta_f = 0.0
    g_h = 2.0
    beta_h = 0.0

    [equations]              # in order
    f = "sigmoid(alpha_f * (J_f @ h) + beta_f)"
    h_tilde = "tanh(g_h * (J_h @ (f * h)) + beta_h)"
    h = "(1 - f) * h + f * h_tilde"

Equations are read in file order. An equation whose left side is a state is
that state's update (its next value, or its time derivative in continuous
time); any other left side is an elementwise definition that later equations
may use. ``J @ v`` is a product node: ``J`` is a new coupling matrix name
(each used once) and ``v`` an elementwise expression. The cell is assembled
through :class:`~gatefield.theory.spec.CellBuilder`, so a file and the Python
API are held to the same structural checks.

Safety
------
A cell file may come from a stranger, so reading one must neither run code
nor exhaust the machine:

* Each right-hand side is *parsed* by :func:`ast.parse` (which builds a syntax
  tree and executes nothing) and the tree is translated to SymPy by a walker
  that accepts a short whitelist of node types: numbers, names,
  ``+ - * / ** @``, unary ``+ -`` and calls of the functions in
  :data:`~gatefield.theory.functions.FUNCTIONS`. Everything else (attributes,
  subscripts, strings, lambdas, keyword arguments, ...) is refused. No string
  is ever handed to an evaluator, to SymPy's string parser or to
  :func:`compile`.
* SymPy simplifies as it builds, and a few of its simplifications can create
  astronomically large integers (``9**999999999``,
  ``exp(10**20 * log(2)) -> 2**(10**20)``) or expressions whose expansion is
  exponentially larger than the file (definitions that each use the previous
  one twice). The walker therefore bounds the text, the syntax tree, literal
  sizes and power exponents *before* each risky operation, and bounds every
  expanded result (tree size, depth, size of exact constants) after each
  operation, so that no operation ever receives an oversized input.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ..errors import SpecError
from ..theory.spec import TIMES, Cell, CellBuilder
from ._expressions import (
    MAX_EQUATIONS,
    MAX_FILE_BYTES,
    MAX_PARAMETERS,
    MAX_STATES,
    ExpressionReader,
)

__all__ = ["parse_cell", "load_cell_file"]

_TABLES = ("cell", "parameters", "equations")
_CELL_KEYS = ("name", "time", "state", "description")


def load_cell_file(path) -> Cell:
    """Read and parse a cell file.

    Parameters
    ----------
    path : str or os.PathLike
        The TOML cell file (UTF-8, at most 1 MB).

    Returns
    -------
    Cell

    Raises
    ------
    SpecError
        If the file is missing, not a regular file, unreadable, too large, not
        UTF-8, or not a valid cell (see :func:`parse_cell`).
    """
    try:
        path = Path(path)
    except TypeError:
        raise SpecError(f"a cell file path must be a string or path, got {type(path).__name__}") from None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"cell file {path} is not a regular file; give the path of a .toml file")
        if info.st_size > MAX_FILE_BYTES:
            raise SpecError(f"cell file {path} is larger than 1 MB; a cell file is a few lines of TOML")
        with open(path, "rb") as handle:
            # Read one byte past the limit: the file may have grown since stat.
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(f"cell file {path} does not exist; check the path") from None
    except PermissionError:
        raise SpecError(f"cell file {path} cannot be read (permission denied); check its permissions") from None
    except OSError as exc:
        raise SpecError(f"cell file {path} cannot be read ({exc.strerror or exc}); check the path") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"cell file {path} is larger than 1 MB; a cell file is a few lines of TOML")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"cell file {path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None
    return parse_cell(text, source=str(path))


def parse_cell(text: str, source: str = "<string>") -> Cell:
    """Parse the TOML text of a cell file into a :class:`Cell`.

    Parameters
    ----------
    text : str
        The file's contents (format in this module's docstring).
    source : str
        Where the text came from, used in error messages.

    Returns
    -------
    Cell

    Raises
    ------
    SpecError
        If the text is not valid TOML, a table or key is missing, unknown or of
        the wrong type, an expression uses a construct outside the whitelist or
        exceeds a size limit, or the cell fails a structural check of
        :class:`~gatefield.theory.spec.CellBuilder`. The message names the
        table, key or equation.

    Notes
    -----
    Right-hand sides are parsed into syntax trees and translated node by node;
    they are never evaluated as Python.
    """
    if not isinstance(text, str):
        raise SpecError(f"{source}: a cell file must be text, got {type(text).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"{source} is larger than 1 MB; a cell file is a few lines of TOML")
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
        raise SpecError(f"{source} is not valid TOML: {exc}; fix the syntax there") from None
    except RecursionError:
        raise SpecError(f"{source} is not valid TOML: arrays or tables are nested too deeply") from None
    return _CellReader(data, source).read()


# -- the reader ---------------------------------------------------------------------


class _CellReader(ExpressionReader):
    """Checks the TOML tables and feeds them to a :class:`CellBuilder`.

    Every expression is built twice in step: as written (definitions appear as
    their symbols; this is what the builder receives) and expanded
    (definitions substituted; this is what the builder will compute and what
    the size checks look at).
    """

    def __init__(self, data: dict, source: str):
        self.data = data
        self.source = source
        self.builder: CellBuilder | None = None
        self.known: dict = {}  # name -> (written symbol, expanded expression)
        self.kinds: dict = {}  # name -> "state", "parameter", "definition", "node", "coupling"
        self.measured: dict = {}  # id(expr) -> (expr, tree size, depth); expr kept alive
        self.where = ""
        self.pending: set = set()  # equations not read yet

    # -- tables ---------------------------------------------------------------

    def read(self) -> Cell:
        data, source = self.data, self.source
        unknown = [key for key in data if key not in _TABLES]
        if unknown:
            raise SpecError(
                f"{source}: unknown table or key '{unknown[0]}' at the top level; "
                f"a cell file has only the tables {', '.join(_TABLES)}"
            )
        self._read_cell(data.get("cell"))
        self._read_parameters(data.get("parameters", {}))
        self._read_equations(data.get("equations"))
        try:
            return self._builder().build()
        except SpecError as exc:
            raise SpecError(f"{source}: {exc}") from None

    def _builder(self) -> CellBuilder:
        assert self.builder is not None, "the [cell] table is read first"
        return self.builder

    def _read_cell(self, cell) -> None:
        source = self.source
        if cell is None:
            raise SpecError(f"{source} has no [cell] table; add one with name, time and state")
        if not isinstance(cell, dict):
            raise SpecError(f"{source}: 'cell' must be a table; write it as [cell] with name, time and state")
        unknown = [key for key in cell if key not in _CELL_KEYS]
        if unknown:
            raise SpecError(
                f"{source}: [cell] has an unknown key '{unknown[0]}'; the allowed keys are {', '.join(_CELL_KEYS)}"
            )
        name = cell.get("name")
        if not isinstance(name, str) or not name:
            raise SpecError(f'{source}: [cell] needs name = "...", a plain identifier such as "mgu"')
        time = cell.get("time")
        if time not in TIMES:
            raise SpecError(f'{source}: [cell] time must be "discrete" or "continuous", got {time!r}')
        states = cell.get("state")
        if not isinstance(states, list) or not states or not all(isinstance(s, str) for s in states):
            raise SpecError(
                f'{source}: [cell] state must be a non-empty list of names, such as state = ["h"]; got {states!r}'
            )
        if len(states) > MAX_STATES:
            raise SpecError(f"{source}: [cell] state lists {len(states)} names; at most {MAX_STATES} are allowed")
        description = cell.get("description", "")
        if not isinstance(description, str):
            raise SpecError(f"{source}: [cell] description must be a string, got {description!r}")
        try:
            self.builder = CellBuilder(name, time=time, description=description)
            for state in states:
                self._declare(state, self.builder.state(state), "state")
        except SpecError as exc:
            raise SpecError(f"{source}: [cell] {exc}") from None

    def _read_parameters(self, parameters) -> None:
        source = self.source
        if not isinstance(parameters, dict):
            raise SpecError(
                f"{source}: 'parameters' must be a table of defaults; write [parameters] "
                "followed by lines such as g = 1.0"
            )
        if len(parameters) > MAX_PARAMETERS:
            raise SpecError(
                f"{source}: [parameters] has {len(parameters)} entries; at most {MAX_PARAMETERS} are allowed"
            )
        for key, value in parameters.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"{source}: [parameters] {key} must be a number, got {value!r}; write e.g. {key} = 1.0")
            try:
                value = float(value)
            except OverflowError:
                raise SpecError(f"{source}: [parameters] {key} is too large; use a number below 1e308") from None
            if not math.isfinite(value):
                raise SpecError(f"{source}: [parameters] {key} must be finite, got {value}; give a finite default")
            try:
                self._declare(key, self._builder().parameter(key, value), "parameter")
            except SpecError as exc:
                raise SpecError(f"{source}: [parameters] {exc}") from None

    def _read_equations(self, equations) -> None:
        source = self.source
        if equations is None:
            raise SpecError(f"{source} has no [equations] table; add one with an update for each state")
        if not isinstance(equations, dict):
            raise SpecError(
                f"{source}: 'equations' must be a table; write [equations] followed by "
                'lines such as h = "tanh(g * (J @ h))"'
            )
        if not equations:
            raise SpecError(
                f'{source}: [equations] is empty; give each state an update such as h = "tanh(g * (J @ h))"'
            )
        if len(equations) > MAX_EQUATIONS:
            raise SpecError(f"{source}: [equations] has {len(equations)} entries; at most {MAX_EQUATIONS} are allowed")
        self.pending = set(equations)
        for lhs, rhs in equations.items():
            self.where = f"equation '{lhs}' in {source}"
            self.pending.discard(lhs)
            if not isinstance(rhs, str):
                raise SpecError(f'{self.where}: the right-hand side must be a string, got {rhs!r}; write {lhs} = "..."')
            try:
                self._read_equation(lhs, rhs)
            except RecursionError:
                raise SpecError(
                    f"{self.where}: the expression is nested too deeply; split it into intermediate definitions"
                ) from None

    def _read_equation(self, lhs: str, rhs: str) -> None:
        written, expanded = self._convert(self._syntax_tree(rhs))
        if self.kinds.get(lhs) == "state":
            self._builder().update(self.known[lhs][0], written, where=self.where)
        else:
            symbol = self._builder().define(lhs, written, where=self.where)
            self._declare(lhs, symbol, "definition", expanded)

    def _declare(self, name: str, symbol, kind: str, expanded=None) -> None:
        self.known[name] = (symbol, symbol if expanded is None else expanded)
        self.kinds[name] = kind

    # -- expressions ------------------------------------------------------------
