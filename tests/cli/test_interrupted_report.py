"""Killing ``gatefield validate --out D`` at any moment never leaves a report
that says it is complete but is not (issue 11).

One full run writes a first report and times the command; then runs into the
same folder are sent SIGTERM at fractions of that time (while solving, while
simulating, while writing). After each, every folder whose manifest says
``"complete": true`` must hold exactly the files it lists, with their sizes
and hashes (:func:`gatefield.io.reports.verify`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from gatefield.io.reports import MANIFEST, verify

ARGS = ["validate", "vanilla", "--N", "100", "--seeds", "1"]


def start(out):
    return subprocess.Popen(
        [sys.executable, "-m", "gatefield", *ARGS, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def says_complete(folder) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text()).get("complete") is True
    except (OSError, ValueError):
        return False


@pytest.mark.slow
def test_sigterm_at_several_moments_never_leaves_a_complete_looking_partial_report(tmp_path):
    out = tmp_path / "D"
    t0 = time.monotonic()
    first = start(out)
    _, err = first.communicate(timeout=300)
    full = time.monotonic() - t0
    assert first.returncode == 0, err
    assert verify(out)
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0):
        proc = start(out)
        time.sleep(fraction * full)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err
        folders = [p for p in tmp_path.iterdir() if p.is_dir()]
        complete = [p for p in folders if says_complete(p)]
        for folder in complete:
            assert verify(folder), f"{folder} says complete but is not (killed at {fraction:.0%})"
        # The last complete report is never lost: either D or the one moved aside to D.previous.
        assert complete, f"no complete report left after a kill at {fraction:.0%}"
