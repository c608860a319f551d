"""Test options and tiers.

- ``slow``: a test over 5 s (finite-N comparisons, full eigendecompositions);
  ``pytest -m "not slow"`` is the quick tier.
- ``long``: several-minute finite-N comparisons (N = 1500-2000, several seeds)
  that run only with ``--run-long``; every ``long`` test is also ``slow``.

The default run keeps the whole suite within about 10 minutes on 2 cores.
"""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--run-long", action="store_true", default=False, help="also run the tests marked 'long' (minutes each)"
    )


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="long finite-N comparison; run with --run-long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(pytest.mark.slow)
            if not config.getoption("--run-long"):
                item.add_marker(skip)
