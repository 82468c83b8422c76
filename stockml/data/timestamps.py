"""Bar timestamps: UTC offsets, the ``timezone`` option, and daily versus intraday data.

The rules, in the order they apply:

- A timestamp written with a UTC offset (``2000-03-01 00:00:00-05:00``, ``...T21:00:00Z``)
  keeps its own local clock time and date, and the offset is dropped: a bar is dated where it
  traded, and files that switch offsets with daylight saving still parse. With ``timezone``
  (an IANA name) every such timestamp is converted to that zone's clock instead; values
  without an offset are taken as that local time already. Either way one warning line says
  what was done, since a UTC-stamped file kept as written can put evening bars on the next
  calendar day.
- A ticker with at most one bar per calendar day is *daily*: its bars are dated at midnight,
  whatever time of day the file wrote. A ticker with several bars on some day is *intraday*
  and keeps each bar's time.
- Daily and intraday bars never mix, neither within a ticker (a lone midnight bar on a day of
  an intraday series is a daily bar) nor across tickers: a horizon of "one bar" would mean a
  day for some rows and an hour for others.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from stockml.data.schema import DataValidationError, format_stamp
from stockml.messages import InputError

if TYPE_CHECKING:  # parse.py imports this module for its offset rules
    from stockml.data.parse import Table

# A clock time followed by a UTC designator or offset (ISO 8601: Z, +hh, +hhmm, +hh:mm).
_WITH_OFFSET = re.compile(
    r"^(?P<local>.*\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)$"
)


def check_timezone(timezone: str | None) -> None:
    """Refuse a zone name that is not in the IANA database before any file is read."""
    if timezone is None:
        return
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"timezone={timezone!r} is not an IANA time zone name (e.g. America/New_York, "
            "Europe/London, UTC)"
        ) from None


def split_offsets(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each value's local clock part and its UTC offset (NaN where none is written)."""
    if not text.str.contains(":", regex=False).any():  # no clock time, so no offset: fast path
        return text, pd.Series(pd.NA, index=text.index, dtype="string")
    parts = text.str.extract(_WITH_OFFSET)
    written = parts["offset"].notna()
    return text.where(~written, parts["local"]), parts["offset"]


def settle_bar_times(
    tables: list[Table], label: str, timezone: str | None
) -> tuple[list[Table], str | None]:
    """Daily tables dated at midnight, mixes refused, and the one line about offsets if any.

    Runs on whole tables (one ticker each, in file order) because whether a series is daily
    depends on all of its bars.
    """
    # None for a table without rows: it is neither, and must not count as daily in a mix.
    kinds = [None if table.frame.empty else _is_intraday(table.frame["date"]) for table in tables]
    if True in kinds and False in kinds:
        daily, timed = tables[kinds.index(False)], tables[kinds.index(True)]
        raise DataValidationError(
            f"{label}: mixes daily bars (ticker {daily.ticker} in {daily.source}) with intraday "
            f"bars (ticker {timed.ticker} in {timed.source}); load daily and intraday data "
            "separately"
        )
    settled = []
    for table, intraday in zip(tables, kinds, strict=True):
        if intraday:
            _refuse_daily_bars_within(table)
        elif intraday is not None:
            table = table.replace(table.frame.assign(date=table.frame["date"].dt.normalize()))
        settled.append(table)
    return settled, _offset_note(settled, label, timezone)


def _is_intraday(dates: pd.Series) -> bool:
    """Several distinct timestamps on one calendar day (a repeated timestamp is a duplicate)."""
    return bool(dates.drop_duplicates().dt.normalize().duplicated().any())


def _refuse_daily_bars_within(table: Table) -> None:
    """A day whose only bar is stamped midnight, inside an intraday series, is a daily bar.

    The first and last day are exempt: a 24-hour market's file may start or end on a
    midnight bar.
    """
    stamps = table.frame["date"].drop_duplicates()
    days = stamps.dt.normalize()
    lone = (days.map(days.value_counts()) == 1) & (stamps == days)
    lone &= (days != days.min()) & (days != days.max())
    if lone.any():
        timed = stamps[stamps != days].iloc[0]
        raise DataValidationError(
            f"{table.where()}: mixes daily bars (e.g. {format_stamp(stamps[lone].iloc[0])}) "
            f"with intraday bars (e.g. {format_stamp(timed)}); load daily and intraday data "
            "separately"
        )


def _offset_note(tables: list[Table], label: str, timezone: str | None) -> str | None:
    """One line saying how timestamps with UTC offsets (or zone-aware columns) were read."""
    offsets = sorted({offset for table in tables for offset in table.offsets})
    sources = sorted({table.source for table in tables if table.offsets})
    if not offsets:
        if timezone is None:
            return None
        return (
            f"{label}: timezone={timezone} changed nothing: no timestamp carries a UTC offset "
            "or zone, so all are taken as local times already"
        )
    where = f"timestamps with UTC offsets/zones {', '.join(offsets)} in {len(sources)} file(s)"
    if timezone is not None:
        return f"{label}: converted {where} to {timezone} clock time and dropped the zone"
    weekend = sum(
        int((table.frame["date"].dt.day_of_week >= 5).sum()) for table in tables if table.offsets
    )
    hint = f"; {weekend} bar(s) fall on a Saturday or Sunday" if weekend else ""
    return (
        f"{label}: {where}: kept each bar's local clock time and dropped the offset; set "
        f"timezone (data.timezone) to convert them to one zone instead{hint}"
    )
