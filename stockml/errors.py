"""How a user-facing error leaves the CLI: one line on stderr and exit code 1.

Hydra prints a `CompactHydraException` as its message alone (a full traceback only with
HYDRA_FULL_ERROR=1), and still reports the job as failed to callbacks and sweepers, so wrapping
known input errors in it gives clean messages without bypassing Hydra's bookkeeping.
"""

from __future__ import annotations

from hydra.errors import CompactHydraException, InstantiationException
from omegaconf.errors import MissingMandatoryValue

from stockml.config import ConfigError
from stockml.data import DataValidationError
from stockml.messages import first_line

# Errors caused by the user's data or config, as opposed to bugs in stockml. ValueError stays
# in: scikit-learn reports bad estimator parameters (model.alpha=-1) with it.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    DataValidationError,
    FileNotFoundError,
    MissingMandatoryValue,
    ValueError,
)


class StockmlError(CompactHydraException):
    """A bad config or bad data, reported as `stockml: error: <message>`."""

    def __init__(self, message: str) -> None:
        super().__init__(f"stockml: error: {message}")


def user_error_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user caused, or None for a bug.

    Hydra wraps errors raised while instantiating a `_target_` (a loader refusing its file,
    a splitter refusing its parameters) in a three-line InstantiationException; the cause is
    what the user needs to read.
    """
    if isinstance(exc, InstantiationException) and isinstance(exc.__cause__, USER_ERRORS):
        exc = exc.__cause__
    if not isinstance(exc, USER_ERRORS):
        return None
    return first_line(exc)
