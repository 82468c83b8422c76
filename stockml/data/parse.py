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

from stockml.data.hints import date_column_hint, date_format_hint, hidden_ticker_column
from stockml.data.schema import PRICE_COLUMNS, DataValidationError, format_stamp
from stockml.data.timestamps import split_offsets

ADJUSTED_CLOSE = "adj_close"
_ADJUSTED_ALIASES = ("adjclose", "adjustedclose")
# New shares per old share on a split's first bar (Alpha Vantage, Yahoo, Tiingo spellings).
SPLIT = "split"
_SPLIT_ALIASES = ("splitcoefficient", "stocksplits", "splitfactor", "splitratio", "split")
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
    values: pd.Series, date_format: str | None = None, timezone: str | None = None
) -> tuple[pd.Series, tuple[str, ...]]:
    """Tz-naive local timestamps (NaT where a value fits no known format) and the distinct
    UTC offsets or zones the values carried.

    A column is read in one format only, the one that fits the most values (the earlier on a
    tie), so a stray bad cell shows up as NaT instead of switching the whole file's reading.
    ``date_format`` (a strftime pattern, ``data.date_format``) replaces the known formats; it
    reads the clock part, since a trailing UTC offset is split off first (a ``%z`` in it is
    ignored). A timestamp with a UTC offset keeps its local clock time unless ``timezone``
    asks for a conversion (the rules are in `stockml.data.timestamps`).
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
    candidates = DATE_FORMATS if date_format is None else (date_format.replace("%z", "").strip(),)
    for candidate in candidates:
        attempt = pd.to_datetime(local, format=candidate, errors="coerce")
        if attempt.notna().sum() > parsed.notna().sum():
            parsed = attempt
    written = offsets.notna()
    if timezone is not None and written.any():
        instants = pd.to_datetime(text[written], format="ISO8601", utc=True, errors="coerce")
        parsed = parsed.astype(DATE_UNIT)
        parsed[written] = instants.dt.tz_convert(timezone).dt.tz_localize(None).astype(DATE_UNIT)
    return parsed.astype(DATE_UNIT), tuple(sorted(offsets[written].unique()))


def _value_columns(mapping: dict[str, str], with_adjusted: bool) -> dict[str, str]:
    """Column name in the frame -> header in the file, for every numeric column to parse.

    The adjustment columns are only read when adjusting, so a broken column nobody asked
    for cannot fail the load.
    """
    columns = {name: mapping[name] for name in PRICE_COLUMNS if name in mapping}
    if with_adjusted:
        for name, aliases in ((ADJUSTED_CLOSE, _ADJUSTED_ALIASES), (SPLIT, _SPLIT_ALIASES)):
            key = next((key for key in aliases if key in mapping), None)
            if key is not None:
                columns[name] = mapping[key]
    return columns


def read_columns(
    columns: list[str], source: str, ticker_column: str, date_column: str, with_adjusted: bool
) -> list[str]:
    """The headers among ``columns`` that `parse_table` would read, so a columnar reader can
    project to them and leave every other column on disk."""
    mapping = _column_map(pd.Index(columns), source)
    keys = (normalize_name(ticker_column), normalize_name(date_column))
    named = [mapping[key] for key in keys if key in mapping]
    return named + list(_value_columns(mapping, with_adjusted).values())


def _split_ratios(
    values: pd.Series, frame: pd.DataFrame, where: str, headers: dict[str, str]
) -> pd.Series:
    """A split column as ratios: 0 or blank (no split that bar) become 1; negatives fail."""
    negative = values < 0
    if negative.any():
        row = _first_bad(negative)
        raise DataValidationError(
            f"{where}, row {row} ({format_stamp(frame.at[row, 'date'])}): column {headers[SPLIT]} "
            f"has negative split ratio {values[row]}"
        )
    return values.replace(0.0, 1.0).fillna(1.0)


def _date_formats_text(date_format: str | None) -> str:
    if date_format is not None:
        return f"does not match data.date_format {date_format!r}"
    return (
        "is not a date in a known format (ISO 8601 with optional time and UTC offset, "
        "%m/%d/%Y, %d.%m.%Y, %Y%m%d)"
    )


def _refuse_hidden_tickers(
    raw: pd.DataFrame, mapping: dict[str, str], date_key: str, source: str, ticker: str
) -> None:
    """Refuse a long file whose ticker column has another name, naming the option to set."""
    keys = (date_key, *PRICE_COLUMNS, *_ADJUSTED_ALIASES, *_SPLIT_ALIASES)
    known = {mapping[key] for key in keys if key in mapping}
    header = hidden_ticker_column(raw, mapping[date_key], known)
    if header is not None:
        raise DataValidationError(
            f"{source}: read as one ticker ({ticker}) but dates repeat with different values "
            f"in column {header}; if it names the tickers, set data.ticker_column={header}"
        )


def _first_bad(mask: pd.Series) -> int:
    """The file row number (the index label) of the first True in ``mask``."""
    return int(mask.index[np.flatnonzero(mask.to_numpy())[0]])


def _tickers_of(values: pd.Series) -> pd.Series:
    """A ticker column's values as tickers: stripped and upper-cased, as ``data.tickers`` is."""
    return values.astype("str").str.strip().str.upper()


def _wanted_rows(
    raw: pd.DataFrame, ticker_header: str | None, default_ticker: str, tickers: list[str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the requested tickers (all when None), and the other tickers present."""
    if tickers is None:
        return raw, []
    if ticker_header is None:
        return (raw, []) if default_ticker in tickers else (raw.iloc[0:0], [default_ticker])
    names = _tickers_of(raw[ticker_header].dropna())
    others = sorted(set(names[names != ""]) - set(tickers))
    return raw[_tickers_of(raw[ticker_header]).isin(tickers).to_numpy()], others


def parse_table(
    raw: pd.DataFrame,
    source: str,
    default_ticker: str,
    ticker_column: str,
    date_column: str,
    with_adjusted: bool,
    tickers: list[str] | None = None,
    date_format: str | None = None,
    timezone: str | None = None,
) -> list[Table]:
    """Split ``raw`` into typed per-ticker tables.

    A ticker column, when present, decides the ticker of each row; otherwise the whole file
    is ``default_ticker``. Only the rows of ``tickers`` (all when None) are parsed, and the
    adjusted close only when it will be used, so a broken cell nobody asked for cannot fail
    the load. Row numbers in messages stay those of the file.
    """
    mapping = _column_map(raw.columns, source)
    ticker_key = normalize_name(ticker_column)
    date_key = normalize_name(date_column)
    if ticker_key not in mapping and date_key in mapping:
        # Before selecting rows: a requested ticker may be hiding in such a column.
        _refuse_hidden_tickers(raw, mapping, date_key, source, default_ticker)
    raw, others = _wanted_rows(raw, mapping.get(ticker_key), default_ticker, tickers)
    # Tickers not asked for are named (so duplicates and "available" lists stay complete)
    # but never parsed.
    unparsed = [Table(source, ticker, pd.DataFrame()) for ticker in others]
    if raw.empty and unparsed:
        return unparsed
    owner = f"ticker {default_ticker}"
    if ticker_key in mapping:
        owner = f"tickers from column {mapping[ticker_key]}"
    missing = [name for name in (date_key, *PRICE_COLUMNS) if name not in mapping]
    if missing:
        wanted = [date_column if name == date_key else name for name in missing]
        hint = date_column_hint(mapping) if date_key in missing else ""
        raise DataValidationError(
            f"{source}: {owner}: missing required column(s) {', '.join(wanted)}; "
            f"found {', '.join(map(str, raw.columns)) or 'none'}{hint}"
        )
    rows = raw.index + 1

    date_header = mapping[date_key]
    date_values = raw[date_header].set_axis(rows)
    if date_values.isna().any():
        row = _first_bad(date_values.isna())
        raise DataValidationError(f"{source}: {owner}, row {row}: column {date_header} is empty")
    dates, offsets = parse_dates(date_values, date_format, timezone)
    if dates.isna().any():
        row = _first_bad(dates.isna())
        raise DataValidationError(
            f"{source}: {owner}, row {row}: column {date_header} value {date_values[row]!r} "
            f"{_date_formats_text(date_format)}{date_format_hint(date_values)}"
        )
    frame = pd.DataFrame({"date": dates})

    value_columns = _value_columns(mapping, with_adjusted)
    text = raw[list(value_columns.values())].set_axis(rows).set_axis(list(value_columns), axis=1)
    numbers = text.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    bad = (text.notna() & numbers.isna()) | np.isinf(numbers)
    if bad.to_numpy().any():
        row = _first_bad(bad.any(axis=1))
        name = bad.columns[bad.loc[row].to_numpy()][0]
        raise DataValidationError(
            f"{source}: {owner}, row {row} ({format_stamp(frame.at[row, 'date'])}): "
            f"column {value_columns[name]} has non-numeric value {text.at[row, name]!r}"
        )
    if SPLIT in numbers.columns:
        numbers[SPLIT] = _split_ratios(numbers[SPLIT], frame, f"{source}: {owner}", value_columns)
    frame = pd.concat([frame, numbers], axis=1)

    if ticker_key not in mapping:
        return [Table(source, default_ticker, frame, offsets)]
    names = _tickers_of(raw[mapping[ticker_key]]).set_axis(rows)
    blank = raw[mapping[ticker_key]].isna().set_axis(rows) | (names == "")
    if blank.any():
        row = _first_bad(blank)
        raise DataValidationError(f"{source}, row {row}: column {ticker_column} is empty")
    parsed = [
        Table(source, str(ticker), part, offsets)
        for ticker, part in frame.groupby(names, sort=True)
    ]
    return parsed + unparsed
