"""How a user-facing error leaves the CLI: one line on stderr and exit code 1.

Hydra prints a `CompactHydraException` as its message alone (a full traceback only with
HYDRA_FULL_ERROR=1), and still reports the job as failed to callbacks and sweepers, so wrapping
known input errors in it gives clean messages without bypassing Hydra's bookkeeping. Hydra
frames that message with two lines of its own (the failed job's overrides before, a
HYDRA_FULL_ERROR hint after); `one_line_errors` drops that frame around our message only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from typing import Any, TextIO

from hydra.errors import CompactHydraException, InstantiationException
from omegaconf.errors import MissingMandatoryValue

from stockml.config import ConfigError
from stockml.data import DataValidationError
from stockml.lifecycle.errors import LifecycleError
from stockml.messages import InputError, first_line

PREFIX = "stockml: error: "

# Errors caused by the user's data or config, as opposed to bugs in stockml. A plain ValueError
# is not among them: it may come from a bug, and a bug must show its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    DataValidationError,
    InputError,
    LifecycleError,
    FileNotFoundError,
    MissingMandatoryValue,
)

# The pyproject extras that install a `_target_`'s module, by top-level module name: a config
# naming an optional library (model=lightgbm) must say how to get it when it is missing.
EXTRAS: dict[str, str] = {"lightgbm": "lightgbm", "xgboost": "xgboost"}

# What Hydra writes around a failed job's exception (hydra.core.utils.JobReturn.return_value,
# hydra._internal.utils.run_and_report); test_cli.py fails if an upgrade changes them.
HYDRA_JOB_FAILED = "Error executing job with overrides"
HYDRA_HINT = "Set the environment variable HYDRA_FULL_ERROR=1"


class StockmlError(CompactHydraException):
    """A bad config or bad data, reported as `stockml: error: <message>`.

    The prefix is added when printed, not stored: a multirun trial's exception is pickled back
    from its worker, and re-running `__init__` on a stored prefix would double it.
    """

    def __str__(self) -> str:
        return PREFIX + super().__str__()


def unknown_command_message(word: str, suggestion: str | None) -> str:
    """`stockml reports`: Hydra alone would say "missing EQUAL"; name the command meant."""
    if suggestion is not None:
        return f"{PREFIX}unknown command {word!r}; did you mean {suggestion!r}?"
    return (
        f"{PREFIX}unknown command {word!r} (an override is key=value; "
        "`stockml --help` lists the commands)"
    )


# A companion command's (`stockml-reproduce`, `stockml-audit`, ...) exit code for a bad command
# or input: argparse's own for a usage error, so a script can tell it from a result (audit: 1).
COMMAND_ERROR_EXIT = 2


def user_error_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user caused, or None for a bug.

    Hydra wraps errors raised while instantiating a `_target_` (a loader refusing its file,
    a splitter refusing its parameters) in a three-line InstantiationException; the cause is
    what the user needs to read.
    """
    if isinstance(exc, InstantiationException):
        missing = missing_module(exc)
        if missing is not None:
            return missing_module_message(missing)
    known = user_error_types()
    if isinstance(exc, InstantiationException) and isinstance(exc.__cause__, known):
        exc = exc.__cause__
    if not isinstance(exc, known):
        return None
    return first_line(exc)


def missing_module(exc: InstantiationException) -> str | None:
    """The top-level module a `_target_` could not be loaded for, if that was the failure.

    Hydra reports it as "Error locating target" over an ImportError over the interpreter's
    ModuleNotFoundError; only the last one names the module.
    """
    cause: BaseException | None = exc.__cause__
    while cause is not None and not isinstance(cause, ModuleNotFoundError):
        cause = cause.__cause__
    if cause is None or not cause.name:
        return None
    return cause.name.split(".")[0]


def missing_module_message(module: str) -> str:
    """What to install: the project's extra when one provides the module."""
    extra = EXTRAS.get(module)
    if extra is None:
        return f"module {module!r} is not installed (a _target_ in the config needs it)"
    return (
        f"{module} is not installed (a _target_ in the config needs it): "
        f"pip install -e '.[{extra}]'"
    )


def user_error_types() -> tuple[type[BaseException], ...]:
    """USER_ERRORS, plus scikit-learn's report of a bad estimator parameter (model.alpha=-1)
    once scikit-learn is loaded; importing it just to name the class would slow start-up."""
    validation = sys.modules.get("sklearn.utils._param_validation")
    if validation is None:
        return USER_ERRORS
    return (*USER_ERRORS, validation.InvalidParameterError)


class _OneLineStderr:
    """stderr that holds Hydra's "Error executing job" line until it sees what follows: before
    our own message it is dropped (with the hint after it); before anything else it is kept."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._held = ""
        self._after_ours = False

    def write(self, text: str) -> int:
        if text.startswith(HYDRA_JOB_FAILED):
            self.release()
            self._held = text
        elif text.startswith(PREFIX):
            self._held, self._after_ours = "", True
            self._stream.write(text)
        elif not (self._after_ours and text.strip().startswith(HYDRA_HINT)):
            self.release()
            self._after_ours = False
            self._stream.write(text)
        return len(text)

    def release(self) -> None:
        if self._held:
            self._stream.write(self._held)
            self._held = ""

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, flush ...
        return getattr(self._stream, name)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Around the Hydra entry point: a StockmlError prints as exactly its own line.

    With HYDRA_FULL_ERROR=1 the user asked for everything, so nothing is filtered.
    """
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        yield
        return
    stream = _OneLineStderr(sys.stderr)
    try:
        with redirect_stderr(stream):  # type: ignore[type-var]
            yield
    finally:
        stream.release()
