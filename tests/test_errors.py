"""Public functions raise a GatefieldError for a user's mistake (issue 11,
item 5), with the sentence the command line would print: never a KeyError,
AttributeError or ValueError from deep inside."""

from __future__ import annotations

import numpy as np
import pytest

import gatefield as gf
from gatefield import _checks
from gatefield.errors import GatefieldError, SpecError


@pytest.fixture(scope="module")
def vanilla():
    return gf.load_cell("vanilla")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda c: c.resolve([1.0]), "must be a mapping"),
        (lambda c: c.resolve({"gain": 1.0}), "has no parameter 'gain'; its parameters are: g, beta"),
        (lambda c: gf.mean_field_equations("vanilla"), "mean_field_equations needs a Cell"),
        (lambda c: gf.jacobian_pencil({"h": 1}), "jacobian_pencil needs a Cell"),
        (lambda c: gf.support_matrix(None), "support_matrix needs a Cell"),
        (lambda c: gf.simulate.make_network("vanilla", 10, 0), "make_network needs a Cell"),
        (lambda c: gf.simulate.make_network(c, 10, 0, [2.0]), "must be a mapping"),
        (lambda c: gf.simulate.jacobian(gf.simulate.make_network(c, 10, 0), "abc"), "array of numbers"),
        (lambda c: gf.simulate.jacobian(gf.simulate.make_network(c, 10, 0), np.zeros(3)), "shape (m, N) = (1, 10)"),
    ],
)
def test_a_user_mistake_is_a_gatefield_error_with_a_sentence(vanilla, call, words):
    with pytest.raises(GatefieldError) as info:
        call(vanilla)
    assert words in str(info.value)


def test_derivations_stay_cached_per_cell(vanilla):
    assert gf.mean_field_equations(vanilla) is gf.mean_field_equations(vanilla)
    assert issubclass(SpecError, GatefieldError)


def test_messages_show_numpy_numbers_as_plain_numbers():
    # Was: 'the radius must be a finite positive number, got np.float64(0.0)'.
    with pytest.raises(GatefieldError, match=r"got 0\.0$"):
        _checks.positive(np.float64(0.0), "the radius")
    with pytest.raises(GatefieldError, match=r"got -3$"):
        _checks.count(np.int64(-3), "points")
    assert _checks.shown(np.float32(0.5)) == "0.5" and _checks.shown("a") == "'a'"
