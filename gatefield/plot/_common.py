"""Figures without pyplot: the package never switches a user's matplotlib backend."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import GatefieldError

FORMATS = (".png", ".pdf", ".svg")


def figure(width: float, height: float, cols: int | None = None):
    """A new ``matplotlib.figure.Figure`` (not registered with pyplot) and its
    axes: one, or a row of ``cols``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    axes = fig.subplots() if cols is None else fig.subplots(1, cols, squeeze=False)[0]
    return fig, axes


def check_path(path) -> Path:
    """``path`` if it names a figure file in an existing folder; else a one-line error."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GatefieldError(f"cannot write the figure {path}: name it with one of {', '.join(FORMATS)}")
    if path.is_dir():
        raise GatefieldError(f"cannot write the figure {path}: it is a folder; give a file name")
    if not path.parent.exists():
        raise GatefieldError(f"cannot write the figure {path}: the folder {path.parent} does not exist")
    return path


def save(fig, path) -> Path:
    """Save ``fig`` to ``path`` exactly as given (format from its suffix).

    The file is written beside ``path`` under a temporary name and renamed
    into place, so a reader (or a second run writing the same file) sees
    either the old figure or the new one whole, never a mix or a fragment.
    """
    path = check_path(path)
    fig.tight_layout()
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as f:
            tmp = Path(f.name)
            fig.savefig(f, dpi=150, format=path.suffix[1:].lower())
        os.replace(tmp, path)
    except OSError as err:
        raise GatefieldError(f"cannot write the figure {path}: {err.strerror or err}") from None
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return path
