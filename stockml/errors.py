"""How a user-facing error leaves the CLI: one line on stderr and exit code 1.

Hydra prints a `CompactHydraException` as its message alone (a full traceback only with
HYDRA_FULL_ERROR=1), and still reports the job as failed to callbacks and sweepers, so wrapping
known input errors in it gives clean messages without bypassing Hydra's bookkeeping.
"""

from __future__ import annotations

from hydra.errors import CompactHydraException

from stockml.config import ConfigError
from stockml.data import DataValidationError

# Errors caused by the user's data or config, as opposed to bugs in stockml.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    DataValidationError,
    FileNotFoundError,
    ValueError,
)


class StockmlError(CompactHydraException):
    """A bad config or bad data, reported as `stockml: error: <message>`."""

    def __init__(self, message: str) -> None:
        super().__init__(f"stockml: error: {message}")
