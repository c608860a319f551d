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

import ast
import math
import os
import stat
import warnings
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import sympy

from ..errors import SpecError
from .functions import FUNCTIONS
from .spec import TIMES, Cell, CellBuilder, node_name

__all__ = ["parse_cell", "load_cell_file"]

# -- limits -------------------------------------------------------------------
# Each limit is far above what a real cell needs (the largest built-in cells
# use a few dozen equations of under 200 characters) and far below what could
# make parsing take more than a moment.

#: Largest cell file, in bytes (and characters for text given directly).
MAX_FILE_BYTES = 1_000_000
#: Longest right-hand side, in characters.
MAX_EXPRESSION_CHARS = 2000
#: Deepest syntax tree of one right-hand side.
MAX_SYNTAX_DEPTH = 60
#: Most syntax-tree nodes in one right-hand side.
MAX_SYNTAX_NODES = 1000
#: Most equations, parameters and states in one file.
MAX_EQUATIONS = 200
MAX_PARAMETERS = 200
MAX_STATES = 200
#: Most digits in an integer literal.
MAX_LITERAL_DIGITS = 30
#: Largest constant exponent ``|p|`` written after ``**``.
MAX_EXPONENT = 64
#: Largest constant exponent anywhere in a result (``(x**64)**64`` is allowed;
#: ``x**(10**20)`` is not, as substituting ``x = 2`` later would not finish).
MAX_RESULT_EXPONENT = MAX_EXPONENT**2
#: Most bits in the numerator or denominator of an exact constant (~300 digits).
MAX_CONSTANT_BITS = 1024
#: Largest expression after definitions are substituted, counted as a tree
#: (shared subexpressions counted each time they occur, as SymPy's traversals
#: visit them), and its deepest nesting (SymPy's traversals are recursive).
MAX_EXPANDED_SIZE = 2000
MAX_EXPANDED_DEPTH = 150

_TABLES = ("cell", "parameters", "equations")
_CELL_KEYS = ("name", "time", "state", "description")

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

# What a refused construct is called in error messages.
_REFUSED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "indexing ('[...]')",
    ast.Slice: "slices",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "conditional expressions ('if ... else')",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dictionaries",
    ast.NamedExpr: "assignment expressions (':=')",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.Starred: "starred arguments ('*')",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_REFUSED_OPERATORS = {
    ast.BitXor: "'^' (use ** for powers)",
    ast.Mod: "'%'",
    ast.FloorDiv: "'//' (use / for division)",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Not: "'not'",
    ast.Invert: "'~'",
}
_ALLOWED = "numbers, names, + - * / ** @ and the functions " + ", ".join(FUNCTIONS)
_NON_FINITE = (sympy.S.NaN, sympy.S.ComplexInfinity, sympy.S.Infinity, sympy.S.NegativeInfinity)


# -- public API -----------------------------------------------------------------


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
        raise SpecError(
            f"cell file {path} cannot be read (permission denied); check its permissions"
        ) from None
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


class _CellReader:
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
            return self.builder.build()
        except SpecError as exc:
            raise SpecError(f"{source}: {exc}") from None

    def _read_cell(self, cell) -> None:
        source = self.source
        if cell is None:
            raise SpecError(f"{source} has no [cell] table; add one with name, time and state")
        if not isinstance(cell, dict):
            raise SpecError(f"{source}: 'cell' must be a table; write it as [cell] with name, time and state")
        unknown = [key for key in cell if key not in _CELL_KEYS]
        if unknown:
            raise SpecError(
                f"{source}: [cell] has an unknown key '{unknown[0]}'; the allowed keys are "
                f"{', '.join(_CELL_KEYS)}"
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
                f"{source}: [cell] state must be a non-empty list of names, "
                f'such as state = ["h"]; got {states!r}'
            )
        if len(states) > MAX_STATES:
            raise SpecError(
                f"{source}: [cell] state lists {len(states)} names; at most {MAX_STATES} are allowed"
            )
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
                raise SpecError(
                    f"{source}: [parameters] {key} must be a number, got {value!r}; write e.g. {key} = 1.0"
                )
            try:
                value = float(value)
            except OverflowError:
                raise SpecError(
                    f"{source}: [parameters] {key} is too large; use a number below 1e308"
                ) from None
            if not math.isfinite(value):
                raise SpecError(
                    f"{source}: [parameters] {key} must be finite, got {value}; give a finite default"
                )
            try:
                self._declare(key, self.builder.parameter(key, value), "parameter")
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
            raise SpecError(
                f"{source}: [equations] has {len(equations)} entries; at most {MAX_EQUATIONS} are allowed"
            )
        self.pending = set(equations)
        for lhs, rhs in equations.items():
            self.where = f"equation '{lhs}' in {source}"
            self.pending.discard(lhs)
            if not isinstance(rhs, str):
                raise SpecError(
                    f'{self.where}: the right-hand side must be a string, got {rhs!r}; write {lhs} = "..."'
                )
            try:
                self._read_equation(lhs, rhs)
            except RecursionError:
                raise SpecError(
                    f"{self.where}: the expression is nested too deeply; split it into "
                    "intermediate definitions"
                ) from None

    def _read_equation(self, lhs: str, rhs: str) -> None:
        written, expanded = self._convert(self._syntax_tree(rhs))
        if self.kinds.get(lhs) == "state":
            self.builder.update(self.known[lhs][0], written, where=self.where)
        else:
            symbol = self.builder.define(lhs, written, where=self.where)
            self._declare(lhs, symbol, "definition", expanded)

    def _declare(self, name: str, symbol, kind: str, expanded=None) -> None:
        self.known[name] = (symbol, symbol if expanded is None else expanded)
        self.kinds[name] = kind

    # -- expressions ------------------------------------------------------------

    def _syntax_tree(self, text: str) -> ast.Expression:
        """Parse (never evaluate) one right-hand side and bound its size."""
        if len(text) > MAX_EXPRESSION_CHARS:
            raise SpecError(
                f"{self.where}: the expression has {len(text)} characters, more than "
                f"{MAX_EXPRESSION_CHARS}; split it into intermediate definitions"
            )
        if not text.strip():
            raise SpecError(f"{self.where}: the right-hand side is empty; write an expression")
        try:
            with warnings.catch_warnings():
                # e.g. invalid escapes in string literals; strings are refused below anyway
                warnings.simplefilter("ignore")
                tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise SpecError(
                f"{self.where}: cannot read the expression ({exc.msg}, column "
                f'{exc.offset}); write it like "tanh(g * (J @ h))"'
            ) from None
        except (ValueError, RecursionError, MemoryError, OverflowError):
            raise SpecError(
                f"{self.where}: cannot read the expression; write it like "
                '"tanh(g * (J @ h))" without control characters or deep nesting'
            ) from None
        count, stack = 0, [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            count += 1
            if depth > MAX_SYNTAX_DEPTH:
                raise SpecError(
                    f"{self.where}: the expression is nested more than {MAX_SYNTAX_DEPTH} "
                    "levels deep; split it into intermediate definitions"
                )
            if count > MAX_SYNTAX_NODES:
                raise SpecError(
                    f"{self.where}: the expression has more than {MAX_SYNTAX_NODES} parts; "
                    "split it into intermediate definitions"
                )
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        return tree

    def _refuse(self, what: str):
        raise SpecError(f"{self.where}: {what} cannot be used in an equation; use only {_ALLOWED}")

    def _convert(self, node) -> tuple:
        """Translate a whitelisted syntax node to (written, expanded) SymPy expressions."""
        if isinstance(node, ast.Expression):
            return self._convert(node.body)
        if isinstance(node, ast.Constant):
            result = self._constant(node.value)
            return result, result
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                written, expanded = self._convert(node.operand)
                return self._checked(-written, -expanded)
            if isinstance(node.op, ast.UAdd):
                return self._convert(node.operand)
            self._refuse(_REFUSED_OPERATORS.get(type(node.op), f"the operator {type(node.op).__name__}"))
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                return self._couple(node)
            apply = _BINARY.get(type(node.op))
            if apply is None:
                self._refuse(_REFUSED_OPERATORS.get(type(node.op), f"the operator {type(node.op).__name__}"))
            left_w, left_e = self._convert(node.left)
            right_w, right_e = self._convert(node.right)
            if isinstance(node.op, ast.Pow):
                self._check_power(left_e, right_e)
            return self._checked(apply(left_w, right_w), apply(left_e, right_e))
        if isinstance(node, ast.Call):
            return self._call(node)
        self._refuse(_REFUSED.get(type(node), f"the construct {type(node).__name__}"))

    def _constant(self, value) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "string constants" if isinstance(value, (str, bytes)) else f"the constant {value!r}"
            self._refuse(kind)
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_LITERAL_DIGITS:
                raise SpecError(
                    f"{self.where}: the integer literal has more than {MAX_LITERAL_DIGITS} "
                    "digits; write it as a float such as 1e40"
                )
            return sympy.Integer(value)
        if not math.isfinite(value):
            raise SpecError(f"{self.where}: the number {value} is not finite; write a finite number")
        return sympy.Float(value)

    def _name(self, name: str) -> tuple:
        if name in self.known:
            return self.known[name]
        where = self.where
        if self.kinds.get(name) == "coupling":
            raise SpecError(f"{where}: the coupling '{name}' may only appear as '{name} @ (...)'")
        if name in FUNCTIONS:
            raise SpecError(f"{where}: '{name}' is a function; call it as {name}(...)")
        if name in self.pending:
            raise SpecError(
                f"{where}: '{name}' is used before its equation; move the equation '{name}' above this one"
            )
        raise SpecError(
            f"{where}: '{name}' is not defined above this line; declare it in [parameters] "
            "or in [cell] state, or define it in an earlier equation"
        )

    def _couple(self, node: ast.BinOp) -> tuple:
        where = self.where
        if not isinstance(node.left, ast.Name):
            raise SpecError(
                f"{where}: the left side of '@' must be the name of a coupling matrix, as in 'J @ h'"
            )
        matrix = node.left.id
        kind = self.kinds.get(matrix)
        if kind is not None and kind != "coupling":
            raise SpecError(
                f"{where}: '{matrix}' is a {kind}, so it cannot be the coupling matrix "
                f"on the left of '@'; use a new name such as 'J_{matrix}'"
            )
        argument, _ = self._convert(node.right)
        symbol = self.builder.couple(matrix, argument, where=where)
        self.kinds[matrix] = "coupling"
        self._declare(node_name(matrix), symbol, "node")
        return symbol, symbol

    def _call(self, node: ast.Call) -> tuple:
        where = self.where
        if not isinstance(node.func, ast.Name):
            self._refuse("calling something other than a function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise SpecError(f"{where}: unknown function '{name}'; use one of {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise SpecError(f"{where}: {name}(...) takes no keyword arguments; write {name}(x)")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self._refuse(_REFUSED[ast.Starred])
        if len(node.args) != 1:
            raise SpecError(
                f"{where}: {name}(...) takes exactly one argument, got {len(node.args)}; write {name}(x)"
            )
        written, expanded = self._convert(node.args[0])
        if name == "exp" and any(not term.free_symbols for term in expanded.atoms(sympy.log)):
            # SymPy rewrites exp(c * log(2)) as 2**c and computes it.
            raise SpecError(
                f"{where}: exp(...) of the logarithm of a constant is not allowed; "
                "write the power with ** or use the number instead"
            )
        function = FUNCTIONS[name]
        return self._checked(function(written), function(expanded))

    # -- size checks ----------------------------------------------------------------

    def _check_power(self, base, exponent) -> None:
        """Refuse a power whose evaluation could produce a huge number."""
        where = self.where
        if exponent.free_symbols:
            return
        if not isinstance(exponent, (sympy.Rational, sympy.Float)) or abs(exponent) > MAX_EXPONENT:
            raise SpecError(
                f"{where}: the exponent after '**' must be a number between "
                f"-{MAX_EXPONENT} and {MAX_EXPONENT} or depend on a state or parameter, "
                f"got {exponent}"
            )
        if _exposed_bits(base) * max(1, math.ceil(float(abs(exponent)))) > MAX_CONSTANT_BITS:
            raise SpecError(
                f"{where}: the power would create a constant of more than "
                f"{MAX_CONSTANT_BITS} bits; use smaller numbers or floats"
            )

    def _checked(self, written, expanded) -> tuple:
        self._measure(written)
        self._measure(expanded)
        return written, expanded

    def _measure(self, expr) -> None:
        """Bound the tree size, depth and constants of ``expr``.

        Sizes are memoized per object, so each shared subexpression is
        measured once; checking every intermediate result costs about as much
        as building it.
        """
        memo, where = self.measured, self.where
        stack = [(expr, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in memo:
                continue
            if not children_done:
                stack.append((node, True))
                stack.extend((arg, False) for arg in node.args if id(arg) not in memo)
                continue
            self._check_atom(node)
            size = 1 + sum(memo[id(arg)][1] for arg in node.args)
            depth = 1 + max((memo[id(arg)][2] for arg in node.args), default=0)
            memo[id(node)] = (node, size, depth)
            if size > MAX_EXPANDED_SIZE:
                raise SpecError(
                    f"{where}: with the definitions above substituted, the expression has "
                    f"more than {MAX_EXPANDED_SIZE} terms; simplify the equations"
                )
            if depth > MAX_EXPANDED_DEPTH:
                raise SpecError(
                    f"{where}: with the definitions above substituted, the expression is "
                    f"nested more than {MAX_EXPANDED_DEPTH} levels deep; simplify the equations"
                )

    def _check_atom(self, node) -> None:
        where = self.where
        if any(node is value for value in _NON_FINITE):
            raise SpecError(f"{where}: the expression divides by zero or is infinite; fix the constants")
        if node is sympy.S.ImaginaryUnit:
            raise SpecError(
                f"{where}: the expression has an imaginary value (a root or logarithm of a "
                "negative constant); cells must be real"
            )
        if isinstance(node, sympy.Rational):
            if max(node.p.bit_length(), node.q.bit_length()) > MAX_CONSTANT_BITS:
                raise SpecError(
                    f"{where}: a constant has more than {MAX_CONSTANT_BITS} bits; "
                    "use smaller numbers or floats"
                )
        elif isinstance(node, sympy.Float):
            if not math.isfinite(float(node)):
                raise SpecError(f"{where}: a constant overflows a float; use smaller numbers")
        elif isinstance(node, sympy.Pow) and any(
            abs(r) > MAX_RESULT_EXPONENT for r in node.exp.atoms(sympy.Rational)
        ):
            raise SpecError(
                f"{where}: the expression contains a power with an exponent above "
                f"{MAX_RESULT_EXPONENT}; use smaller exponents"
            )


def _exposed_bits(base) -> int:
    """Bits of the exact constants that an integer power of ``base`` raises.

    SymPy distributes an integer power over products and powers
    (``(10**20 * x)**3 -> 10**60 * x**3``) but leaves sums and function calls
    alone, so only constants reached through ``Mul`` and ``Pow`` count.
    """
    if isinstance(base, sympy.Rational):
        return base.p.bit_length() + base.q.bit_length()
    if isinstance(base, (sympy.Mul, sympy.Pow)):
        return sum(_exposed_bits(arg) for arg in base.args)
    return 0
