"""Fixed-point order parameters at several sizes, extrapolated to N = infinity."""

import math

import pytest

import gatefield as gf
from gatefield.errors import GatefieldError
from gatefield.simulate import order_parameter_scan

CELL = gf.load_cell("vanilla")
# g < 1 with a bias: one stable fixed point with q > 0 (no chaos, no
# multiplicity), so every network relaxes and the scan has no selection.
PARAMS = {"g": 0.8, "beta": 0.5}


def test_limit_in_one_over_n_matches_mean_field():
    theory = gf.solve(gf.problems.MeanField(CELL, PARAMS)).roots[0].order_parameters["J"]
    scan = order_parameter_scan(CELL, PARAMS, [100, 200, 400], 6)
    assert scan.sizes == (100, 200, 400)
    assert scan.found == {100: 6, 200: 6, 400: 6}
    # Each size's error is the scatter of 6 networks' <x^2> over sqrt(6): a
    # mean of N squared Gaussians scatters by about q sqrt(2 / N) / sqrt(6).
    for n, err in zip(scan.sizes, scan.errors["J"], strict=True):
        assert 0.3 < err / (theory * math.sqrt(2 / n) / math.sqrt(6)) < 3.0
    limit, limit_error, slope, slope_error, chi2, dof = scan.fits[("J", 1.0)]
    assert dof == 1 and limit_error > 0
    # The extrapolated limit within 3 of its propagated standard errors.
    assert abs(limit - theory) <= 3 * limit_error
    assert set(scan.fits) == {("J", 1.0), ("J", 0.5)}
    blob = scan.to_json()
    assert blob["fits"]["J 1/N^1"]["limit"] == limit and blob["found"] == {"100": 6, "200": 6, "400": 6}


@pytest.mark.parametrize(
    ("sizes", "seeds", "fragment"),
    [([100, 100], 3, "at least two different network sizes"), ([100, 200], 2, "at least 3 seeds")],
)
def test_bad_scans_are_refused(sizes, seeds, fragment):
    with pytest.raises(GatefieldError, match=fragment):
        order_parameter_scan(CELL, PARAMS, sizes, seeds)
