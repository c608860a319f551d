"""Argument checks shared by the whole package.

Each check returns the value in its canonical type or raises a
:class:`~gatefield.errors.GatefieldError` (or the subclass given) whose message
names the argument and says what it must be, so that the command line can
print it as it is.
"""

from __future__ import annotations

import math
import numbers

from .errors import GatefieldError

__all__ = ["count", "number", "positive", "choice", "fraction", "shown"]


def shown(value) -> str:
    """``value`` as a message shows it: numpy scalars as plain numbers
    (``0.0``, not ``np.float64(0.0)``), anything else by its ``repr``."""
    if isinstance(value, numbers.Number) and hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    return repr(value)


def count(value, what: str, minimum: int = 0, maximum: int | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:  # type: ignore[call-overload]
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer of at least {minimum}")
        raise GatefieldError(f"{what} must be {kind}, got {shown(value)}")
    if maximum is not None and int(value) > maximum:  # type: ignore[call-overload]
        raise GatefieldError(f"{what} must be an integer of at most {maximum}, got {shown(value)}")
    return int(value)  # type: ignore[call-overload]


def number(value, what: str, error: type[GatefieldError] = GatefieldError) -> float:
    """``value`` as a finite float (not a bool)."""
    if isinstance(value, bool):
        raise error(f"{what} must be a number, got {shown(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{what} must be a finite number, got {shown(value)}") from None
    if not math.isfinite(x):
        raise error(f"{what} must be finite, got {shown(value)}")
    return x


def positive(value, what: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float that is positive (or non-negative)."""
    if isinstance(value, bool):
        raise GatefieldError(f"{what} must be a number, got {shown(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise GatefieldError(f"{what} must be a number, got {shown(value)}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise GatefieldError(f"{what} must be a finite {kind} number, got {shown(value)}")
    return x


def fraction(value, what: str) -> float:
    """``value`` as a float in (0, 1]."""
    x = positive(value, what)
    if x > 1:
        raise GatefieldError(f"{what} must be in (0, 1], got {shown(value)}")
    return x


def choice(value, what: str, options) -> str:
    """``value`` if it is one of ``options``."""
    if value not in options:
        raise GatefieldError(f"{what} must be one of {', '.join(map(repr, options))}, got {shown(value)}")
    return value
