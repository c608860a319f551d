"""Test options.

``--run-long`` runs the tests marked ``long``: several-minute finite-N
comparisons (N = 1500-2000, several seeds, full eigendecompositions) that
check the still-open spectral-density and dynamical mean-field work. The
default run keeps the whole suite within about 10 minutes on 2 cores.
"""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--run-long",
        action="store_true",
        default=False,
        help="also run the tests marked 'long' (several minutes each)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-long"):
        return
    skip = pytest.mark.skip(reason="long finite-N comparison; run with --run-long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
