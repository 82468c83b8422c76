"""Loading market data into the panel form: the bundled sample or the user's own files.

Both entry points run the same pipeline (parse, select, check, repair, adjust, assemble) so
the sample exercises exactly the code that users' files go through.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path

import pandas as pd

from stockml.data.adjust import adjust_prices, adjustment_warning, cumulate_splits
from stockml.data.files import SourceFile, discover, read_raw
from stockml.data.parquet_dataset import ParquetStore, Selection
from stockml.data.parse import Table, parse_table
from stockml.data.schema import (
    DATE_LEVEL,
    PRICE_COLUMNS,
    TICKER_LEVEL,
    DataValidationError,
    format_stamp,
)
from stockml.data.timestamps import check_timezone, settle_bar_times
from stockml.data.validate import (
    check_duplicates,
    check_missing_policy,
    check_values,
    handle_missing,
    in_date_order,
)
from stockml.messages import InputError

logger = logging.getLogger(__name__)
SAMPLE_LABEL = "sample"


def load_sample(
    tickers: Iterable[str] | str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    adjust: bool = True,
    missing: str = "drop",
) -> pd.DataFrame:
    """The bundled daily bars for AAPL, GOOG, IBM and MSFT (2000-03 .. 2013-03) as a panel.

    Read through importlib.resources so it works from an installed wheel, not only from a
    source checkout.
    """
    folder = files("stockml.data").joinpath("sample")
    sources = [
        SourceFile(entry, f"{SAMPLE_LABEL}/{entry.name}", "csv")
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".csv.gz")
    ]
    return _load(sources, SAMPLE_LABEL, tickers, start, end, adjust, missing, "ticker", "date")


def load_files(
    path: str | Path,
    tickers: Iterable[str] | str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    adjust: bool = True,
    missing: str = "drop",
    file_format: str | None = None,
    ticker_column: str = "ticker",
    date_column: str = "date",
    date_format: str | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """A panel from a CSV/Parquet file or a directory of them.

    A file with a ``ticker_column`` may hold many tickers; one without holds a single ticker
    named after the file (``aapl.csv.gz`` is AAPL). ``file_format`` ("csv" or "parquet")
    overrides the suffix and, for a directory, restricts which files are read.
    ``date_format`` is a strftime pattern (``%d/%m/%Y``) for dates no known format reads.
    ``timezone`` converts timestamps written with a UTC offset to that zone's clock (see
    `stockml.data.timestamps`); without it each keeps its own local time.
    """
    check_timezone(timezone)
    sources = discover(path, file_format)
    label = str(Path(path).expanduser())
    return _load(
        sources,
        label,
        tickers,
        start,
        end,
        adjust,
        missing,
        ticker_column,
        date_column,
        date_format,
        timezone,
    )


def _load(
    sources: list[SourceFile],
    label: str,
    tickers: Iterable[str] | str | None,
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
    adjust: bool,
    missing: str,
    ticker_column: str,
    date_column: str,
    date_format: str | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    check_missing_policy(missing)
    wanted = _ticker_list(tickers)
    first, last = _date_bounds(start, end)

    def read(chosen: list[SourceFile]) -> list[Table]:
        return [
            table
            for source in chosen
            for table in parse_table(
                read_raw(source),
                source.label,
                source.stem_ticker,
                ticker_column,
                date_column,
                adjust,
                wanted,
                date_format,
                timezone,
            )
        ]

    tables = _select(_read_wanted(sources, wanted, read), wanted, label)
    return _finish(tables, label, wanted, first, last, adjust, missing, timezone)


def load_dataset(
    path: str | Path,
    tickers: Iterable[str] | str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    adjust: bool = True,
    missing: str = "drop",
    ticker_column: str = "ticker",
    date_column: str = "date",
    date_format: str | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """A panel from a Parquet dataset directory, reading only the tickers and dates asked for.

    The directory is one table split over files: Hive-partitioned (``ticker=AAPL/``,
    ``year=2004/``) or a plain set of files, with tickers in ``ticker_column`` (a column or a
    partition key), never in file names. The selection is pushed down into the read (see
    `stockml.data.parquet_dataset`); the rows then go through the same parsing, checks and
    adjustment as every other source; row numbers in its messages count rows of the
    selection, since the files' own rows are not read one file at a time.
    """
    check_timezone(timezone)
    check_missing_policy(missing)
    wanted = _ticker_list(tickers)
    first, last = _date_bounds(start, end)
    store = ParquetStore(path, ticker_column)
    raw = store.read(Selection(wanted, first, last), date_column, adjust)
    tables = parse_table(
        raw, store.label, "", ticker_column, date_column, adjust, None, date_format, timezone
    )
    return _finish(tables, store.label, wanted, first, last, adjust, missing, timezone)


def _finish(
    tables: list[Table],
    label: str,
    wanted: list[str] | None,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
    adjust: bool,
    missing: str,
    timezone: str | None,
) -> pd.DataFrame:
    """Parsed tables -> the panel: date order, date range, checks, repairs, adjustment.

    Every source ends here, so a dataset directory is checked exactly like a CSV file.
    """
    tables, note = settle_bar_times(tables, label, timezone)
    if note is not None:
        _report(note)
    repairs = []
    kept = []
    for table in tables:
        table = cumulate_splits(in_date_order(table))
        dates = table.frame["date"]
        in_range = pd.Series(True, index=dates.index)
        if first is not None:
            in_range &= dates >= first
        if last is not None:
            in_range &= dates <= last
        table = table.replace(table.frame[in_range])
        check_duplicates(table)
        table, repair = handle_missing(table, missing)
        if repair is not None:
            repairs.append(repair)
        check_values(table)
        if adjust and not table.frame.empty:
            unadjusted = adjustment_warning(table)
            if unadjusted is not None:
                _report(unadjusted)
        kept.append(table)
    if repairs:
        _report(f"{label}: missing values (missing={missing!r}): {'; '.join(repairs)}")
    kept = _drop_empty(kept, wanted, label, first, last)
    return _assemble(kept, adjust)


def _read_wanted(
    sources: list[SourceFile],
    wanted: list[str] | None,
    read: Callable[[list[SourceFile]], list[Table]],
) -> list[Table]:
    """The tables of the requested tickers, reading as few files as it takes.

    Files named after a requested ticker are read first; the others (long files holding many
    tickers) only when a requested ticker is still missing. A broken file that holds nothing
    asked for is then never opened, so it cannot block the load.
    """
    if wanted is None:
        return read(sources)
    named = [source for source in sources if source.stem_ticker in wanted]
    tables = read(named)
    if set(wanted) <= {table.ticker for table in tables}:
        return tables
    return tables + read([source for source in sources if source not in named])


def _ticker_list(tickers: Iterable[str] | str | None) -> list[str] | None:
    """Upper-cased tickers; a bare string is one ticker, and Hydra's ListConfig is a list."""
    if tickers is None:
        return None
    if isinstance(tickers, str):
        tickers = [tickers]
    return [str(ticker).strip().upper() for ticker in tickers]


def _date_bounds(
    start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    first = None if start is None else pd.Timestamp(start)
    last = None if end is None else pd.Timestamp(end)
    if first is not None and last is not None and first > last + _whole_day(last):
        raise InputError(f"start {format_stamp(first)} is after end {format_stamp(last)}")
    return first, None if last is None else last + _whole_day(last)


def _whole_day(end: pd.Timestamp) -> pd.Timedelta:
    """An end given as a date (midnight) takes in every intraday bar of that day."""
    if end != end.normalize():
        return pd.Timedelta(0)
    return pd.Timedelta(days=1) - pd.Timedelta(1, "us")


def _select(tables: list[Table], wanted: list[str] | None, label: str) -> list[Table]:
    """The requested tickers' tables, refusing a ticker held by two files."""
    seen: dict[str, str] = {}
    for table in tables:
        if table.ticker in seen:
            raise DataValidationError(
                f"{label}: ticker {table.ticker} appears in both {seen[table.ticker]} and "
                f"{table.source}"
            )
        seen[table.ticker] = table.source
    if wanted is None:
        return tables
    unknown = [ticker for ticker in wanted if ticker not in seen]
    if unknown:
        raise DataValidationError(
            f"{label}: unknown ticker(s) {', '.join(unknown)}; available: {', '.join(sorted(seen))}"
        )
    return [table for table in tables if table.ticker in wanted]


def _drop_empty(
    tables: list[Table],
    wanted: list[str] | None,
    label: str,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
) -> list[Table]:
    """Tickers left without rows: an error if asked for by name, otherwise a reported skip.

    A date range before GOOG's listing should still load the other tickers, but a ticker the
    caller named must not quietly vanish.
    """
    span = " .. ".join("open" if bound is None else f"{bound:%Y-%m-%d}" for bound in (first, last))
    empty = [table for table in tables if table.frame.empty]
    names = ", ".join(table.ticker for table in empty)
    if empty and wanted is not None:
        raise DataValidationError(f"{label}: ticker(s) {names} have no rows in {span}")
    if len(empty) == len(tables):
        raise DataValidationError(f"{label}: no rows left after filters ({span})")
    if empty:
        _report(f"{label}: skipping ticker(s) {names}: no rows in {span}", stacklevel=5)
    return [table for table in tables if not table.frame.empty]


def _assemble(tables: list[Table], adjust: bool) -> pd.DataFrame:
    parts = []
    for table in tables:
        frame = adjust_prices(table.frame) if adjust else table.frame
        parts.append(frame.assign(**{TICKER_LEVEL: table.ticker}))
    long = pd.concat(parts, ignore_index=True)
    long[TICKER_LEVEL] = long[TICKER_LEVEL].astype("str")
    panel = long.rename(columns={"date": DATE_LEVEL}).set_index([TICKER_LEVEL, DATE_LEVEL])
    return panel.loc[:, list(PRICE_COLUMNS)].astype("float64").sort_index()


def _report(message: str, stacklevel: int = 4) -> None:
    """Warn for interactive users and log for Hydra's job log: repairs must never be silent.

    ``stacklevel`` points the warning at the code that called the public loader.
    """
    warnings.warn(message, UserWarning, stacklevel=stacklevel)
    logger.warning(message)
