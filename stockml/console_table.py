"""The one way stockml prints a table on the console: plain aligned text.

A tiny formatter rather than `rich.table`: the tables go to pipes, logs and CI as often as to a
terminal, tests read their cells with `str.split`, and the CLI's start-up time is part of every
sweep trial; plain columns need no box characters, colours or terminal width probing. Kept free
of pandas so that commands which print small tables (`stockml-jobs list`) do not import it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

GAP = "  "
MISSING = "-"


def format_number(value: Any) -> str:
    """Four significant digits: enough to compare runs at a glance; missing values as '-'."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(value)
    return f"{value:.4g}" if math.isfinite(value) else MISSING


def _is_number(cell: str) -> bool:
    """A number, or a missing one (a blank or '-' in a numeric column keeps it right-aligned)."""
    try:
        float(cell)
    except ValueError:
        return cell in (MISSING, "")
    return True


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    rule: bool = False,
) -> str:
    """Columns separated by two spaces, numbers right-aligned and text left-aligned (a column is
    numeric when all its cells are), optionally a dashed rule under the header. Cells that are
    not strings go through `format_number`; trailing spaces are trimmed."""
    body = [[c if isinstance(c, str) else format_number(c) for c in row] for row in rows]
    lines = [list(header), *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = [bool(body) and all(_is_number(row[i]) for row in body) for i in range(len(header))]

    def render(line: Sequence[str]) -> str:
        cells = (
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(line, widths, numeric, strict=True)
        )
        return GAP.join(cells).rstrip()

    rendered = [render(line) for line in lines]
    if rule:
        rendered.insert(1, GAP.join("-" * w for w in widths))
    return "\n".join(rendered)


def frame_table(frame: pd.DataFrame, *, rule: bool = False) -> str:
    """A DataFrame's columns and rows (not its index) as a `table`; a datetime column with
    dates alone (daily bars) drops the midnight time, as the run files write it."""
    from stockml.data.schema import stamp_format

    shown = frame.copy()
    for name in shown.columns:
        column = shown[name]
        if column.dtype.kind == "M" and column.notna().any():
            shown[name] = column.dt.strftime(stamp_format(column.dropna())).fillna(MISSING)
    return table(
        [str(c) for c in shown.columns], shown.itertuples(index=False, name=None), rule=rule
    )
