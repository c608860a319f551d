"""The package's user-facing errors.

Every error a user can cause by what they write (a cell file, a parameter, a
command-line option) is a :class:`GatefieldError`. Its message is one sentence
naming the problem and how to fix it; the command line prints it and exits 2.
"""


class GatefieldError(Exception):
    """Base class for errors caused by the user's input."""


class SpecError(GatefieldError):
    """A cell specification is malformed (syntax, names, structure or values)."""


class SolverError(GatefieldError):
    """A numerical solve did not converge or was asked something it cannot do."""


def check_count(value, what: str, minimum: int) -> int:
    """``value`` as an int if it is an integer (not a bool) of at least ``minimum``.

    Raises :class:`GatefieldError` naming ``what`` otherwise.
    """
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise GatefieldError(f"{what} must be an integer of at least {minimum}, got {value!r}")
    return int(value)
