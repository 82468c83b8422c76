"""Reading only what a config names from a Parquet dataset directory, with `pyarrow.dataset`.

A store of thousands of tickers over decades does not fit in memory, and a run needs a few
tickers and years of it. The dataset is opened in two steps so that nothing outside the
selection is ever opened: first from file paths alone (the Hive partition keys,
``ticker=AAPL/`` or ``year=2004/``), which prunes whole files by ticker and year; then the
schema is read from the first file that survived, and only the surviving files are scanned,
projected to the columns the parser reads and filtered by ticker and date inside Parquet
(row groups whose statistics rule them out are skipped).

The date filter pushed down is one day wider than the range asked for: it only has to drop
what is certainly outside, while the exact bounds (intraday ends, time zones, what counts as
"the end date") stay with the loader that applies them to every source alike. A ``year``
partition key is read as the calendar year of the date column.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from operator import and_
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from stockml.data.files import SUFFIXES
from stockml.data.parse import normalize_name, read_columns
from stockml.data.schema import DataValidationError
from stockml.messages import first_line

YEAR_KEY = "year"
# Wider than any UTC offset, so the pushed-down filter never drops a bar the exact one keeps.
_MARGIN = pd.Timedelta(days=1)
# pyarrow's own convention for files that are not data (_SUCCESS, .crc, _metadata).
_IGNORED_PREFIXES = (".", "_")


@dataclass(frozen=True)
class Selection:
    """What to read: upper-cased tickers (None = all) and inclusive date bounds (None = open)."""

    tickers: list[str] | None
    first: pd.Timestamp | None
    last: pd.Timestamp | None


class ParquetStore:
    """A Parquet dataset directory, opened from its file paths without reading any file."""

    def __init__(self, path: str | Path, ticker_column: str) -> None:
        self.root = Path(path).expanduser()
        self.label = str(self.root)
        if not self.root.exists():
            raise FileNotFoundError(f"{self.root}: no such directory")
        if not self.root.is_dir():
            raise DataValidationError(
                f"{self.root}: is a file, not a dataset directory; use data=parquet for one file"
            )
        self.ticker_column = ticker_column
        paths = self._data_files()
        self._factory = ds.FileSystemDatasetFactory(
            pafs.LocalFileSystem(),
            paths,
            ds.ParquetFileFormat(),
            ds.FileSystemFactoryOptions(
                partition_base_dir=str(self.root),
                partitioning=ds.HivePartitioning.discover(infer_dictionary=False),
            ),
        )
        self._keys = self._factory.inspect(fragments=0)
        self._by_path = self._factory.finish(self._keys)
        self.ticker_key = _find(self._keys.names, ticker_column)

    def _data_files(self) -> list[str]:
        suffixes = SUFFIXES["parquet"]
        paths = [
            str(entry)
            for entry in sorted(self.root.rglob("*"))
            if entry.is_file()
            and entry.name.lower().endswith(suffixes)
            and not any(
                part.startswith(_IGNORED_PREFIXES) for part in entry.relative_to(self.root).parts
            )
        ]
        if not paths:
            raise DataValidationError(
                f"{self.root}: directory holds no Parquet files ({', '.join(suffixes)})"
            )
        return paths

    def read(
        self,
        selection: Selection,
        date_column: str,
        with_adjusted: bool,
    ) -> pd.DataFrame:
        """The selected rows with the columns `parse_table` reads, as a plain frame."""
        path_filter = self._path_filter(selection)
        survivors = list(self._by_path.get_fragments(filter=path_filter))
        if not survivors:
            self._refuse_absent(selection.tickers or [])
            raise DataValidationError(f"{self.label}: no files hold the selected dates")
        with self._readable():
            schema = pa.unify_schemas([survivors[0].physical_schema, self._keys])
            ticker = self._ticker_name(schema)
            columns = read_columns(
                schema.names, self.label, self.ticker_column, date_column, with_adjusted
            )
            row_filter = _combine(
                [
                    path_filter,
                    _ticker_filter(ticker, selection.tickers),
                    _date_filter(schema, _find(schema.names, date_column), selection),
                ]
            )
            table = self._factory.finish(schema).to_table(columns=columns, filter=row_filter)
        frame = table.to_pandas(date_as_object=False)
        if selection.tickers is not None:
            found = set(_normalized(frame[ticker]))
            self._refuse_absent([name for name in selection.tickers if name not in found])
        return frame

    @contextmanager
    def _readable(self) -> Iterator[None]:
        """Arrow's errors about a file (corrupt, truncated, clashing types) as one line."""
        try:
            yield
        except (pa.ArrowException, OSError) as exc:
            raise DataValidationError(
                f"{self.label}: not a readable Parquet dataset: {first_line(exc)}"
            ) from exc

    def _ticker_name(self, schema: pa.Schema) -> str:
        ticker = _find(schema.names, self.ticker_column)
        if ticker is None:
            raise DataValidationError(
                f"{self.label}: no ticker column {self.ticker_column!r} (as a column or a "
                f"partition key); found {', '.join(schema.names)}; set data.ticker_column"
            )
        return ticker

    def _path_filter(self, selection: Selection) -> ds.Expression | None:
        """What the partition keys alone can decide: whole files out by ticker and year."""
        by_ticker = None
        if self.ticker_key is not None:
            by_ticker = _ticker_filter(self.ticker_key, selection.tickers)
        return _combine([by_ticker, self._year_filter(selection)])

    def _year_filter(self, selection: Selection) -> ds.Expression | None:
        year = _find(self._keys.names, YEAR_KEY)
        if year is None or not pa.types.is_integer(self._keys.field(year).type):
            return None
        bounds = []
        if selection.first is not None:
            bounds.append(ds.field(year) >= (selection.first - _MARGIN).year)
        if selection.last is not None:
            bounds.append(ds.field(year) <= (selection.last + _MARGIN).year)
        return _combine(bounds)

    def _refuse_absent(self, absent: list[str]) -> None:
        """Raise for requested tickers the selection does not hold, telling a ticker the store
        lacks from one without rows in the selected dates.

        Only this error path gathers the store-wide ticker list.
        """
        if not absent:
            return
        available = self._tickers()
        unknown = [name for name in absent if name not in available]
        if unknown:
            raise DataValidationError(
                f"{self.label}: unknown ticker(s) {', '.join(unknown)}; available: "
                f"{', '.join(sorted(available))}"
            )
        raise DataValidationError(
            f"{self.label}: ticker(s) {', '.join(absent)} have no rows in the selected dates"
        )

    def _tickers(self) -> set[str]:
        """Every ticker in the store: from the partition keys when partitioned by ticker (no
        file is opened), else by reading the ticker column of every file."""
        if self.ticker_key is not None:
            keys = [
                ds.get_partition_keys(fragment.partition_expression).get(self.ticker_key)
                for fragment in self._by_path.get_fragments()
            ]
            return set(_normalized(pd.Series(keys, dtype="object").dropna()))
        with self._readable():
            schema = self._factory.inspect()
            column = self._ticker_name(schema)
            values = self._factory.finish(schema).to_table(columns=[column]).column(0)
        return set(_normalized(values.to_pandas().dropna()))


def _find(names: list[str], wanted: str) -> str | None:
    """The name in ``names`` that matches ``wanted`` the way the parser matches headers."""
    key = normalize_name(wanted)
    return next((name for name in names if normalize_name(name) == key), None)


def _normalized(values: pd.Series) -> pd.Series:
    """Tickers as the parser reads them: stripped and upper-cased."""
    return values.astype(str).str.strip().str.upper()


def _combine(parts: list[ds.Expression | None]) -> ds.Expression | None:
    present = [part for part in parts if part is not None]
    return reduce(and_, present) if present else None


def _ticker_filter(name: str, tickers: list[str] | None) -> ds.Expression | None:
    """Tickers compare stripped and upper-cased, as the parser reads them."""
    if tickers is None:
        return None
    normalized = pc.utf8_upper(pc.utf8_trim_whitespace(ds.field(name).cast(pa.string())))
    return normalized.isin(tickers)


def _date_filter(schema: pa.Schema, name: str | None, selection: Selection) -> ds.Expression | None:
    """Date bounds on a timestamp or date column (text dates are left to the parser)."""
    if name is None:
        return None
    kind = schema.field(name).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        return None
    bounds = []
    if selection.first is not None:
        low = pa.scalar((selection.first - _MARGIN).to_pydatetime()).cast(kind)
        bounds.append(ds.field(name) >= low)
    if selection.last is not None:
        high = pa.scalar((selection.last + _MARGIN).to_pydatetime()).cast(kind)
        bounds.append(ds.field(name) <= high)
    return _combine(bounds)
