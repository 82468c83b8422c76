"""Which option fixes a file that does not fit: the second half of a loader's error message.

A message that says only what is wrong leaves the user to guess which of a dozen keys to
change; these look at the file for the usual culprits (a ``Timestamp`` column, a ``Symbol``
column, day-first dates) and name the override that reads it as it is.
"""

from __future__ import annotations

import pandas as pd

# Formats worth suggesting when no known format reads a date column; the first that reads
# every value is named. Day-first orders are the usual reason the defaults fail.
_SUGGESTED_DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
)
# Header words (normalised) that usually name a column of tickers.
_TICKER_WORDS: tuple[str, ...] = ("symbol", "ticker", "sym", "code", "instrument", "secid", "ric")


def date_column_hint(mapping: dict[str, str]) -> str:
    """``; set data.date_column=<name>`` for the first header that looks like a timestamp.

    ``mapping`` goes from normalised header (lower case, no separators) to header.
    """
    for key, header in mapping.items():
        if "date" in key or "time" in key or key in ("day", "dt"):
            return f"; set data.date_column={header}"
    return ""


def date_format_hint(values: pd.Series) -> str:
    """Name a strftime pattern that reads every value, or say how to give one."""
    text = values.astype(str).str.strip()
    for date_format in _SUGGESTED_DATE_FORMATS:
        if pd.to_datetime(text, format=date_format, errors="coerce").notna().all():
            return f"; they read as {date_format}: set data.date_format={date_format}"
    return "; set data.date_format to the column's strftime pattern (e.g. %d/%m/%Y)"


def hidden_ticker_column(raw: pd.DataFrame, date_header: str, known: set[str]) -> str | None:
    """The header of a column that splits a one-ticker file into several, if there is one.

    A long file whose ticker column has another name is read as one ticker with every date
    repeated; a column outside the known ones whose values differ between rows of the same
    date is what names the tickers. Columns named like tickers are preferred.
    """
    if not raw[date_header].duplicated().any():
        return None
    candidates = [
        header
        for header in raw.columns
        if header not in known and raw[header].nunique(dropna=True) > 1
    ]
    candidates.sort(key=lambda header: str(header).lower() not in _TICKER_WORDS)
    for header in candidates:
        if raw.groupby(date_header)[header].nunique().max() > 1:
            return str(header)
    return None
