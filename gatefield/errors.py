"""The package's user-facing errors.

Every error a user can cause by what they write (a cell file, a parameter, a
command-line option) is a :class:`GatefieldError`. Its message is one sentence
naming the problem and how to fix it; the command line prints it and exits 2.
"""


class GatefieldError(Exception):
    """Base class for errors caused by the user's input."""


class SpecError(GatefieldError):
    """A cell specification is malformed (syntax, names, structure or values)."""


class UnsupportedCellError(SpecError):
    """A problem cannot be posed for this cell (raised when the problem is built)."""


class SolverError(GatefieldError):
    """A numerical solve ran and did not succeed (its message says what to change)."""
