"""Figures without pyplot: the package never switches a user's matplotlib backend."""

from __future__ import annotations

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
    """Save ``fig`` to ``path`` exactly as given (format from its suffix)."""
    path = check_path(path)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=150, format=path.suffix[1:].lower())
    except OSError as err:
        raise GatefieldError(f"cannot write the figure {path}: {err.strerror or err}") from None
    return path
