"""The one error type the lifecycle commands turn into a one-line message."""

from __future__ import annotations


class LifecycleError(ValueError):
    """A run, model or input that a lifecycle step cannot use; the message is one line.

    A ValueError so that `stockml.errors.USER_ERRORS` also reports it on one line when the
    registry hook raises it inside the `stockml` command.
    """
