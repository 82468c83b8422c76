"""Turning a raw table into typed per-ticker tables, naming the first cell that does not fit.

Column headers vary between vendors ("Adj Close", "adj_close", "ADJCLOSE") and date formats
vary between locales, so both are matched leniently but deterministically: the same file
always parses the same way, and a file that fits no rule is an error rather than a guess.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockml.data.schema import PRICE_COLUMNS, DataValidationError, format_stamp
from stockml.data.timestamps import split_offsets

ADJUSTED_CLOSE = "adj_close"
_ADJUSTED_ALIASES = ("adjclose", "adjustedclose")
# Tried in order; the first that parses every date in the column wins. ISO comes first
# because it is unambiguous; %m/%d/%Y is preferred over %d/%m/%Y as the US vendor default.
DATE_FORMATS: tuple[str, ...] = ("ISO8601", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d")
DATE_UNIT = "datetime64[us]"


@dataclass(frozen=True)
class Table:
    """One ticker's rows from one source file.

    ``frame`` has a ``date`` column (tz-naive local timestamps), the price columns and, when
    present, ``adj_close``. Its index is the 1-based data row number in the source, kept so
    later checks can point at the offending row. ``offsets`` are the distinct UTC offsets or
    zones the source's timestamps were written with, for the one line that reports them.
    """

    source: str
    ticker: str
    frame: pd.DataFrame
    offsets: tuple[str, ...] = ()

    def where(self, row: int | None = None) -> str:
        """The prefix every message about this table starts with."""
        prefix = f"{self.source}: ticker {self.ticker}"
        if row is None:
            return prefix
        return f"{prefix}, row {row} ({format_stamp(self.frame.at[row, 'date'])})"

    def replace(self, frame: pd.DataFrame) -> Table:
        return dataclasses.replace(self, frame=frame)


def normalize_name(name: str) -> str:
    """Case, spaces, underscores and hyphens carry no meaning in a column header."""
    return "".join(ch for ch in str(name).lower() if ch not in " _-")


def _column_map(columns: pd.Index, source: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in columns:
        key = normalize_name(column)
        if key in mapping:
            raise DataValidationError(
                f"{source}: columns {mapping[key]!r} and {column!r} are ambiguous "
                "(they differ only in case, spaces or underscores)"
            )
        mapping[key] = column
    return mapping


def parse_dates(
    values: pd.Series, timezone: str | None = None
) -> tuple[pd.Series, tuple[str, ...]]:
    """Tz-naive local timestamps (NaT where a value fits no known format) and the distinct
    UTC offsets or zones the values carried.

    A column is read in one format only, the one that fits the most values (the earlier on a
    tie), so a stray bad cell shows up as NaT instead of switching the whole file's reading.
    A timestamp with a UTC offset keeps its local clock time unless ``timezone`` asks for a
    conversion (the rules are in `stockml.data.timestamps`).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if values.dt.tz is None:
            return values.astype(DATE_UNIT), ()
        zone = (str(values.dt.tz),)
        aware = values if timezone is None else values.dt.tz_convert(timezone)
        return aware.dt.tz_localize(None).astype(DATE_UNIT), zone
    text = values.astype(str).str.strip()
    local, offsets = split_offsets(text)
    parsed = pd.Series(pd.NaT, index=values.index, dtype=DATE_UNIT)
    for date_format in DATE_FORMATS:
        attempt = pd.to_datetime(local, format=date_format, errors="coerce")
        if attempt.notna().sum() > parsed.notna().sum():
            parsed = attempt
    written = offsets.notna()
    if timezone is not None and written.any():
        instants = pd.to_datetime(text[written], format="ISO8601", utc=True, errors="coerce")
        parsed = parsed.astype(DATE_UNIT)
        parsed[written] = instants.dt.tz_convert(timezone).dt.tz_localize(None).astype(DATE_UNIT)
    return parsed.astype(DATE_UNIT), tuple(sorted(offsets[written].unique()))


def _first_bad(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def parse_table(
    raw: pd.DataFrame,
    source: str,
    default_ticker: str,
    ticker_column: str,
    date_column: str,
    with_adjusted: bool,
    timezone: str | None = None,
) -> list[Table]:
    """Split ``raw`` into typed per-ticker tables.

    A ticker column, when present, decides the ticker of each row; otherwise the whole file
    is ``default_ticker``. The adjusted close is only kept when it will be used, so a
    broken column nobody asked for cannot fail the load.
    """
    mapping = _column_map(raw.columns, source)
    ticker_key = normalize_name(ticker_column)
    date_key = normalize_name(date_column)
    owner = f"ticker {default_ticker}"
    if ticker_key in mapping:
        owner = f"tickers from column {mapping[ticker_key]}"
    missing = [name for name in (date_key, *PRICE_COLUMNS) if name not in mapping]
    if missing:
        wanted = [date_column if name == date_key else name for name in missing]
        raise DataValidationError(
            f"{source}: {owner}: missing required column(s) {', '.join(wanted)}; "
            f"found {', '.join(map(str, raw.columns)) or 'none'}"
        )
    rows = pd.RangeIndex(1, len(raw) + 1)

    date_header = mapping[date_key]
    date_values = raw[date_header].set_axis(rows)
    if date_values.isna().any():
        row = _first_bad(date_values.isna()) + 1
        raise DataValidationError(f"{source}: {owner}, row {row}: column {date_header} is empty")
    dates, offsets = parse_dates(date_values, timezone)
    if dates.isna().any():
        row = _first_bad(dates.isna()) + 1
        raise DataValidationError(
            f"{source}: {owner}, row {row}: column {date_header} value {date_values[row]!r} "
            "is not a date in a known format (ISO 8601 with optional time and UTC offset, "
            "%m/%d/%Y, %d.%m.%Y, %Y%m%d)"
        )
    frame = pd.DataFrame({"date": dates})

    adjusted_key = next((key for key in _ADJUSTED_ALIASES if key in mapping), None)
    value_columns = {name: mapping[name] for name in PRICE_COLUMNS}
    if with_adjusted and adjusted_key is not None:
        value_columns[ADJUSTED_CLOSE] = mapping[adjusted_key]
    text = raw[list(value_columns.values())].set_axis(rows).set_axis(list(value_columns), axis=1)
    numbers = text.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    bad = (text.notna() & numbers.isna()) | np.isinf(numbers)
    if bad.to_numpy().any():
        row = _first_bad(bad.any(axis=1)) + 1
        name = bad.columns[bad.loc[row].to_numpy()][0]
        raise DataValidationError(
            f"{source}: {owner}, row {row} ({format_stamp(frame.at[row, 'date'])}): "
            f"column {value_columns[name]} has non-numeric value {text.at[row, name]!r}"
        )
    frame = pd.concat([frame, numbers], axis=1)

    if ticker_key not in mapping:
        return [Table(source, default_ticker, frame, offsets)]
    tickers = raw[mapping[ticker_key]].set_axis(rows).astype("str").str.strip().str.upper()
    blank = raw[mapping[ticker_key]].isna().to_numpy() | (tickers == "").to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0]) + 1
        raise DataValidationError(f"{source}, row {row}: column {ticker_column} is empty")
    return [
        Table(source, str(ticker), part, offsets)
        for ticker, part in frame.groupby(tickers, sort=True)
    ]
