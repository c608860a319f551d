"""Expressions of cell files: a whitelisted syntax tree turned into SymPy, never evaluated.

An equation's right-hand side is parsed with :func:`ast.parse` into a syntax
tree; only numbers, declared names, ``+ - * / ** @`` and the whitelisted
functions are translated (node by node) into SymPy expressions, each checked
against the size, depth and exponent limits below, so that nothing a file says
can run code or make SymPy hang.
"""

from __future__ import annotations

import ast
import math
import warnings
from typing import NoReturn

import sympy

from ..errors import SpecError
from ..theory.functions import FUNCTIONS
from ..theory.spec import node_name

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


class ExpressionReader:
    """Translates the syntax trees of a cell file's expressions (a mixin of the
    cell reader, which provides the attributes and methods declared here)."""

    where: str
    known: dict
    kinds: dict
    measured: dict
    pending: set

    def _builder(self): ...

    def _declare(self, name: str, symbol, kind: str, expanded=None) -> None: ...

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
        count = 0
        stack: list[tuple[ast.AST, int]] = [(tree, 1)]
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

    def _refuse(self, what: str) -> NoReturn:
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
            try:
                return self._checked(apply(left_w, right_w), apply(left_e, right_e))
            except ZeroDivisionError:  # SymPy Floats: 1.0 / 0.0 raises where 1 / 0 gives zoo
                raise SpecError(f"{self.where}: the expression divides by zero; fix the constants") from None
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
            raise SpecError(f"{where}: '{name}' is used before its equation; move the equation '{name}' above this one")
        raise SpecError(
            f"{where}: '{name}' is not defined above this line; declare it in [parameters] "
            "or in [cell] state, or define it in an earlier equation"
        )

    def _couple(self, node: ast.BinOp) -> tuple:
        where = self.where
        if not isinstance(node.left, ast.Name):
            raise SpecError(f"{where}: the left side of '@' must be the name of a coupling matrix, as in 'J @ h'")
        matrix = node.left.id
        kind = self.kinds.get(matrix)
        if kind is not None and kind != "coupling":
            raise SpecError(
                f"{where}: '{matrix}' is a {kind}, so it cannot be the coupling matrix "
                f"on the left of '@'; use a new name such as 'J_{matrix}'"
            )
        argument, _ = self._convert(node.right)
        symbol = self._builder().couple(matrix, argument, where=where)
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
            raise SpecError(f"{where}: {name}(...) takes exactly one argument, got {len(node.args)}; write {name}(x)")
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
                    f"{where}: a constant has more than {MAX_CONSTANT_BITS} bits; use smaller numbers or floats"
                )
        elif isinstance(node, sympy.Float):
            if not math.isfinite(float(node)):
                raise SpecError(f"{where}: a constant overflows a float; use smaller numbers")
        elif isinstance(node, sympy.Pow) and any(abs(r) > MAX_RESULT_EXPONENT for r in node.exp.atoms(sympy.Rational)):
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
