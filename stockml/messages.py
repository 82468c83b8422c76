"""One-line error messages, the form every stockml command reports problems in."""

from __future__ import annotations


class InputError(ValueError):
    """A value the user supplied (a parameter, a date, a size that does not fit the data) is
    wrong. Raised by stockml's own checks so the CLI can print it as one line; any other
    ValueError is treated as a bug and keeps its traceback."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
