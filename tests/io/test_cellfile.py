"""Tests for gatefield.io.cellfile: cell files parse into the same cells as
the builder API, and hostile or malformed files are refused quickly with a
SpecError that names the problem."""

import json
import os
import time

import pytest
import sympy

from gatefield.errors import SpecError
from gatefield.io.cellfile import load_cell_file, parse_cell
from gatefield.theory.functions import FUNCTIONS, sigmoid
from gatefield.theory.spec import real_symbol

MGU = """
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

[equations]
f = "sigmoid(alpha_f * (J_f @ h) + beta_f)"
h_tilde = "tanh(g_h * (J_h @ (f * h)) + beta_h)"
h = "(1 - f) * h + f * h_tilde"
"""

LSTM = """
[cell]
name = "lstm"
time = "discrete"
state = ["c", "h"]

[parameters]
g = 1.5
b_f = 1.0

[equations]
i = "sigmoid(g * (J_i @ h))"
f = "sigmoid(g * (J_f @ h) + b_f)"
o = "sigmoid(g * (J_o @ h))"
z = "tanh(g * (J_z @ h))"
c_new = "f * c + i * z"
c = "c_new"
h = "o * tanh(c_new)"
"""

# Slow enough to flag a hang or a huge computation, loose enough for a busy CI machine.
MAX_SECONDS_PER_CASE = 2.0

PWNED = "/tmp/gatefield_pwned"


def sym(*names):
    return [real_symbol(n) for n in names]


def toml_string(value: str) -> str:
    # A JSON string literal is a valid TOML basic string.
    return json.dumps(value)


def cell_text(equations, parameters="g = 1.0", state='["h"]', time="discrete", extra_cell=""):
    """A cell file with the given equations (dict of lhs -> rhs string)."""
    lines = [
        "[cell]",
        'name = "test"',
        f'time = "{time}"',
        f"state = {state}",
        extra_cell,
        "[parameters]",
        parameters,
        "[equations]",
    ]
    lines += [f"{lhs} = {toml_string(rhs)}" for lhs, rhs in equations.items()]
    return "\n".join(lines) + "\n"


def simplifies_to_zero(expr) -> bool:
    return sympy.simplify(expr) == 0


# -- files that parse ------------------------------------------------------------


def test_mgu_parses_to_hand_built_cell():
    cell = parse_cell(MGU, source="mgu.toml")
    h, alpha_f, beta_f, g_h, beta_h, eta_f, eta_h = sym("h", "alpha_f", "beta_f", "g_h", "beta_h", "eta_f", "eta_h")
    assert cell.name == "mgu"
    assert cell.time == "discrete"
    assert cell.description == "optional free text"
    assert cell.states == (h,)
    assert cell.defaults == {"alpha_f": 1.0, "beta_f": 0.0, "g_h": 2.0, "beta_h": 0.0}
    assert [c.matrix for c in cell.couplings] == ["J_f", "J_h"]
    assert cell.nodes == (eta_f, eta_h)
    assert (cell.m, cell.K) == (1, 2)

    f = sigmoid(alpha_f * eta_f + beta_f)
    h_tilde = sympy.tanh(g_h * eta_h + beta_h)
    assert simplifies_to_zero(cell.updates[0] - ((1 - f) * h + f * h_tilde))
    assert simplifies_to_zero(cell.couplings[0].argument - h)
    assert simplifies_to_zero(cell.couplings[1].argument - f * h)
    assert [str(d) for d, _ in cell.definitions] == ["f", "h_tilde"]


def test_lstm_two_states_four_couplings():
    cell = parse_cell(LSTM)
    c, h, g, b_f = sym("c", "h", "g", "b_f")
    eta_i, eta_f, eta_o, eta_z = sym("eta_i", "eta_f", "eta_o", "eta_z")
    assert (cell.m, cell.K) == (2, 4)
    assert cell.states == (c, h)
    assert [cp.matrix for cp in cell.couplings] == ["J_i", "J_f", "J_o", "J_z"]
    assert all(cp.argument == h for cp in cell.couplings)
    c_new = sigmoid(g * eta_f + b_f) * c + sigmoid(g * eta_i) * sympy.tanh(g * eta_z)
    assert simplifies_to_zero(cell.updates[0] - c_new)
    assert simplifies_to_zero(cell.updates[1] - sigmoid(g * eta_o) * sympy.tanh(c_new))


def test_continuous_time_unary_minus_power_division():
    text = cell_text({"h": "-h / 2 + tanh(g * (J @ h)) ** 2 - +h**-1"}, time="continuous")
    cell = parse_cell(text)
    h, g, eta = sym("h", "g", "eta")
    assert cell.time == "continuous"
    assert simplifies_to_zero(cell.updates[0] - (-h / 2 + sympy.tanh(g * eta) ** 2 - 1 / h))


def test_all_functions_parse():
    body = " + ".join(f"{name}(h**2 + 1)" for name in FUNCTIONS)
    cell = parse_cell(cell_text({"a": body, "h": "J @ a"}))
    h = real_symbol("h")
    expected = sum(fn(h**2 + 1) for fn in FUNCTIONS.values())
    assert simplifies_to_zero(cell.couplings[0].argument - expected)


def test_literals_become_exact_integers_and_floats():
    cell = parse_cell(cell_text({"h": "0.5 * tanh(J @ h) + 3 * h"}))
    update = cell.updates[0]
    assert sympy.Float(0.5) in update.atoms(sympy.Float)
    assert sympy.Integer(3) in update.atoms(sympy.Integer)


def test_powers_within_limits_are_accepted():
    cell = parse_cell(cell_text({"h": "(tanh(J @ h)**64)**64 + 2**h + h**g + h**-64 + h**0.5"}))
    h, g, eta = sym("h", "g", "eta")
    expected = sympy.tanh(eta) ** 4096 + 2**h + h**g + h**-64 + h ** sympy.Float(0.5)
    assert simplifies_to_zero(cell.updates[0] - expected)


def test_node_and_nested_coupling_usable():
    # eta_a is the node of J_a; a coupling may take an earlier node.
    cell = parse_cell(cell_text({"a": "tanh(J_a @ h)", "h": "J_b @ (eta_a + a) + g"}))
    h, g, eta_a, eta_b = sym("h", "g", "eta_a", "eta_b")
    assert simplifies_to_zero(cell.couplings[1].argument - (eta_a + sympy.tanh(eta_a)))
    assert simplifies_to_zero(cell.updates[0] - (eta_b + g))


def test_parameters_table_optional_and_int_defaults():
    text = '[cell]\nname = "t"\ntime = "discrete"\nstate = ["h"]\n[equations]\nh = "J @ h"\n'
    assert parse_cell(text).parameters == ()
    cell = parse_cell(cell_text({"h": "g * (J @ h)"}, parameters="g = 2"))
    assert cell.defaults == {"g": 2.0}


def test_load_cell_file(tmp_path):
    path = tmp_path / "mgu.toml"
    path.write_text(MGU, encoding="utf-8")
    assert load_cell_file(path).K == 2
    assert load_cell_file(str(path)).name == "mgu"


# -- hostile and malformed files -----------------------------------------------------


def eq(rhs, lhs="h"):
    """A cell whose state h has the given update (after a valid definition)."""
    return cell_text({"a": "tanh(J @ h)", lhs: rhs} if lhs != "h" else {"b": "J @ h", "h": rhs})


HOSTILE = {
    # code execution attempts and constructs outside the whitelist
    "import": (eq("__import__('os').system('echo pwned > /tmp/gatefield_pwned')"), "cannot be used"),
    "import_bare": (eq("__import__('os')"), "unknown function '__import__'"),
    "attribute": (eq("h.__class__"), r"attribute access"),
    "subscript": (eq("h[0]"), r"indexing"),
    "lambda": (eq("lambda x: x"), "lambda"),
    "lambda_call": (eq("(lambda: h)()"), "calling something other than a function name"),
    "string": (eq("'abc'"), "string constants"),
    "list_comprehension": (eq("[h for h in b]"), "comprehensions"),
    "keyword_argument": (eq("tanh(x=h)"), "no keyword arguments"),
    "starred": (eq("tanh(*b)"), "starred arguments"),
    "two_arguments": (eq("tanh(h, b)"), "exactly one argument"),
    "no_argument": (eq("tanh()"), "exactly one argument"),
    "comparison": (eq("h < b"), "comparisons"),
    "conditional": (eq("h if b else h"), "conditional"),
    "walrus": (eq("(x := h)"), ":="),
    "fstring": (eq("f'{h}'"), "f-strings"),
    "modulo": (eq("h % 2"), "'%'"),
    "xor_power": (eq("h ^ 2"), r"use \*\* for powers"),
    "bool_literal": (eq("h + True"), "constant True"),
    "complex_literal": (eq("h + 1j"), "constant 1j"),
    # denial of service
    "power_tower": (eq("2**2**2**2**2**2"), "exponent"),
    "huge_power": (eq("9**999999999"), "exponent"),
    "exponent_not_number": (eq("h**sqrt(2)"), "exponent"),
    "power_of_big_constant": (eq("(h * 10**29)**64"), "bits"),
    "huge_literal": (eq("1" * 40 + " * h"), "digits"),
    "long_expression": (eq("h+" * 50_000 + "h"), "characters"),
    "nested_parentheses": (eq("(" * 500 + "h" + ")" * 500), "cannot read|nested"),
    "deep_unary": (eq("-" * 200 + "h"), "nested more than"),
    "exp_of_log": (eq("exp(100000000000000000000 * log(2))"), "logarithm of a constant"),
    "exp_of_log_sum": (eq("exp(h + 100000000000000000000 * log(2))"), "logarithm of a constant"),
    "exp_log_via_definition": (
        cell_text({"c": "100000000000000000000", "d": "2", "h": "tanh(J @ h) + exp(c * log(d))"}),
        "logarithm of a constant",
    ),
    "doubling_definitions": (
        cell_text(
            {
                "d0": "tanh(J @ h)",
                **{f"d{k}": f"sin(d{k - 1}) + cos(d{k - 1})" for k in range(1, 40)},
                "h": "d39",
            }
        ),
        "more than [0-9]+ terms",
    ),
    "big_result_exponent": (eq("exp(100000000000000000000 * log(h))"), "exponent above"),
    "divide_by_zero": (eq("h / 0"), "divides by zero"),
    "imaginary": (eq("sqrt(-1) * h"), "imaginary"),
    # names
    "unknown_function": (eq("foo(h)"), "unknown function 'foo'; use one of sigmoid"),
    "unknown_name": (eq("h + zz"), r"equation 'h' in test.toml: 'zz' is not defined above this line"),
    "used_before_defined": (
        cell_text({"a": "b + h", "b": "tanh(J @ h)", "h": "a"}),
        "'b' is used before its equation",
    ),
    "function_as_name": (eq("tanh + h"), "is a function"),
    "coupling_as_name": (eq("J + h"), "may only appear as 'J @"),
    "coupling_twice": (cell_text({"a": "J @ h", "h": "tanh(J @ h)"}), "used twice"),
    "matmul_left_parenthesized_state": (eq("(h) @ h"), "'h' is a state"),
    "matmul_left_expression": (eq("(2 * K) @ h"), "left side of '@'"),
    "matmul_left_state": (eq("h @ h"), "'h' is a state"),
    "matmul_left_parameter": (eq("g @ h"), "'g' is a parameter"),
    "underscore_state": (cell_text({"h": "J @ _h"}, state='["_h"]'), "not a valid name"),
    "underscore_definition": (cell_text({"_a": "J @ h", "h": "_a"}), "not a valid name"),
    "underscore_matrix": (eq("_J @ h"), "not a valid name"),
    "dunder_name": (eq("__builtins__"), "not defined above"),
    "keyword_state": (cell_text({"h": "J @ h"}, state='["h", "lambda"]'), "reserved"),
    "keyword_in_expression": (eq("lambda + h"), "cannot read the expression"),
    "reserved_state": (cell_text({"h": "J @ h"}, state='["h", "pi"]'), "reserved"),
    "definition_named_like_parameter": (cell_text({"g": "J @ h", "h": "g"}), "already declared"),
    # structure
    "state_without_update": (cell_text({"h": "J @ h"}, state='["h", "c"]'), "state 'c' has no update"),
    "no_coupling": (cell_text({"h": "tanh(h)"}), "no coupling"),
    "empty_equation": (eq("   "), "empty"),
    "equation_not_string": (
        '[cell]\nname = "t"\ntime = "discrete"\nstate = ["h"]\n[equations]\nh = 3\n',
        "must be a string",
    ),
    "equation_table": (
        '[cell]\nname = "t"\ntime = "discrete"\nstate = ["h"]\n[equations]\nh.x = "J @ h"\n',
        "must be a string",
    ),
    "empty_equations": (
        '[cell]\nname = "t"\ntime = "discrete"\nstate = ["h"]\n[equations]\n',
        r"\[equations\] is empty",
    ),
    "no_equations": ('[cell]\nname = "t"\ntime = "discrete"\nstate = ["h"]\n', r"no \[equations\] table"),
    "too_many_parameters": (
        cell_text({"h": "J @ h"}, parameters="\n".join(f"p{k} = 1.0" for k in range(300))),
        "at most 200",
    ),
    "too_many_equations": (cell_text({f"a{k}": "h" for k in range(300)}), "at most 200"),
    # parameters
    "nan_default": (cell_text({"h": "J @ h"}, parameters="x = nan"), "finite"),
    "inf_default": (cell_text({"h": "J @ h"}, parameters="x = -inf"), "finite"),
    "bool_default": (cell_text({"h": "J @ h"}, parameters="x = true"), r"x must be a number"),
    "string_default": (cell_text({"h": "J @ h"}, parameters='x = "1.0"'), r"x must be a number"),
    "huge_int_default": (cell_text({"h": "J @ h"}, parameters="x = " + "9" * 400), "too large"),
    "parameter_named_like_state": (
        cell_text({"h": "J @ h"}, parameters="h = 1.0"),
        "already declared as a state",
    ),
    # [cell] and top level
    "missing_cell": ('[parameters]\ng = 1.0\n[equations]\nh = "J @ h"\n', r"no \[cell\] table"),
    "cell_not_table": ('cell = 3\n[equations]\nh = "J @ h"\n', "must be a table"),
    "missing_name": (cell_text({"h": "J @ h"}).replace('name = "test"', ""), "needs name"),
    "bad_name": (cell_text({"h": "J @ h"}).replace('name = "test"', 'name = "a b"'), "plain identifier"),
    "missing_time": (cell_text({"h": "J @ h"}).replace('time = "discrete"', ""), "time must be"),
    "bad_time": (cell_text({"h": "J @ h"}, time="sometimes"), "time must be"),
    "state_not_list": (cell_text({"h": "J @ h"}, state='"h"'), "non-empty list"),
    "state_empty": (cell_text({"h": "J @ h"}, state="[]"), "non-empty list"),
    "state_not_strings": (cell_text({"h": "J @ h"}, state="[1]"), "non-empty list"),
    "duplicate_state": (cell_text({"h": "J @ h"}, state='["h", "h"]'), "already declared"),
    "unknown_cell_key": (cell_text({"h": "J @ h"}, extra_cell="foo = 1"), "unknown key 'foo'"),
    "description_not_string": (
        cell_text({"h": "J @ h"}, extra_cell="description = 1"),
        "description must be a string",
    ),
    "unknown_table": (cell_text({"h": "J @ h"}) + "[extras]\nx = 1\n", "unknown table"),
    "toml_syntax": (cell_text({"h": "J @ h"}) + "this is = = not toml\n", r"not valid TOML: .*line \d+"),
    "toml_deep_arrays": ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_malformed_files_are_refused(case):
    if os.path.exists(PWNED):
        os.remove(PWNED)
    text, message = HOSTILE[case]
    start = time.perf_counter()
    with pytest.raises(SpecError, match=message):
        parse_cell(text, source="test.toml")
    assert time.perf_counter() - start < MAX_SECONDS_PER_CASE
    assert not os.path.exists(PWNED)


def test_error_names_the_equation():
    with pytest.raises(SpecError, match=r"^equation 'h' in test.toml: attribute access"):
        parse_cell(eq("h.real"), source="test.toml")


def test_text_must_be_str():
    with pytest.raises(SpecError, match="must be text"):
        parse_cell(MGU.encode())


# -- files that cannot be read -------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_cell_file(tmp_path / "nope.toml")


def test_directory_is_refused(tmp_path):
    with pytest.raises(SpecError, match="not a regular file"):
        load_cell_file(tmp_path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MGU.replace("optional free text", "caf\xe9").encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_cell_file(path)


def test_too_large_file(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(MGU.encode() + b"#" * 1_000_001)
    with pytest.raises(SpecError, match="larger than 1 MB"):
        load_cell_file(path)


def test_file_errors_name_the_path(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(eq("h.real"), encoding="utf-8")
    with pytest.raises(SpecError, match="bad.toml: attribute access"):
        load_cell_file(path)
