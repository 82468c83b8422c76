"""Progress bars for long work (CV folds, search trials, rolling windows, queue work).

tqdm draws them on stderr when stderr is an interactive terminal and stays silent otherwise
(`disable=None`), so logs, CI and tests that capture output see exactly what they saw before.
Bars vanish when done (`leave=False`): the run's summary is what stays on screen.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

T = TypeVar("T")

_HIDDEN: ContextVar[bool] = ContextVar("stockml_progress_hidden", default=False)


@contextmanager
def hidden(when: bool = True) -> Iterator[None]:
    """No bars inside (when ``when``): jobs that run side by side on one terminal (a parallel
    sweep launcher) would draw over each other's bars."""
    token = _HIDDEN.set(when or _HIDDEN.get())
    try:
        yield
    finally:
        _HIDDEN.reset(token)


def bar(desc: str, unit: str, total: int | None = None, disable: bool = False) -> tqdm:
    """A bar to `update()` by hand (work driven by callbacks, such as an Optuna study), or to
    use as a context manager; a no-op object when stderr is not a terminal (or ``disable``,
    or inside `hidden`)."""
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        unit=unit,
        total=total,
        leave=False,
        disable=True if disable or _HIDDEN.get() else None,
        file=sys.stderr,
    )


def progress(items: Iterable[T], desc: str, unit: str, total: int | None = None) -> Iterator[T]:
    """``items`` one by one, counted on a bar while they are consumed; the total is taken from
    ``items`` when it has a length."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with bar(desc, unit, total) as shown:
        for item in items:
            yield item
            shown.update()


def printing() -> AbstractContextManager[None]:
    """Around a `print` while a bar may be drawn: the bar steps aside and is redrawn below."""
    from tqdm import tqdm

    return tqdm.external_write_mode(file=sys.stdout)  # type: ignore[no-any-return]
