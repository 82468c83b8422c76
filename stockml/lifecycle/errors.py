"""The one error type the lifecycle commands turn into a one-line message."""

from __future__ import annotations


class LifecycleError(ValueError):
    """A run, model or input that a lifecycle step cannot use; the message is one line.

    Listed in `stockml.errors.USER_ERRORS`, so the `stockml` command also reports it on one
    line when the registry hook raises it.
    """
