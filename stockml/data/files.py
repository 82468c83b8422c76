"""Finding data files and reading them into raw tables, before any interpretation.

Reading goes through ``Traversable.open`` so the same code serves files on disk and the
sample bundled inside an installed wheel. Everything is read as text: deciding what counts as
a number or a date is the parser's job, and it can only name a bad cell if nothing was
silently coerced on the way in.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from stockml.data.schema import DataValidationError
from stockml.messages import InputError, first_line

SUFFIXES: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz"),
    "parquet": (".parquet", ".pq"),
}
# What a file that is not CSV text most often turns out to be, by its first bytes.
_SIGNATURES: dict[bytes, str] = {
    b"\x1f\x8b": "it holds gzip data: name it .csv.gz",
    b"PK\x03\x04": "it is a ZIP archive (an Excel workbook?): export it as CSV",
    b"PAR1": "it holds Parquet data: name it .parquet or set file_format=parquet",
    b"\xff\xfe": "it is UTF-16 text: save it as UTF-8",
    b"\xfe\xff": "it is UTF-16 text: save it as UTF-8",
}


@dataclass(frozen=True)
class SourceFile:
    """One file to read, with the label error messages use for it."""

    resource: Traversable
    label: str
    file_format: str

    @property
    def stem_ticker(self) -> str:
        """The ticker a file without a ticker column holds: its name minus the data suffix."""
        name = self.resource.name
        for suffix in sorted(SUFFIXES[self.file_format], key=len, reverse=True):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)].upper()
        return name.rsplit(".", 1)[0].upper()


def format_of(name: str) -> str | None:
    """The file format a name's suffix implies, or None when it is not a data file."""
    lowered = name.lower()
    for file_format, suffixes in SUFFIXES.items():
        if lowered.endswith(suffixes):
            return file_format
    return None


def discover(path: str | Path, file_format: str | None = None) -> list[SourceFile]:
    """The data files at ``path``: the file itself, or every data file in the directory.

    In a directory only recognised suffixes are read, so a README or NOTICE next to the data
    is not mistaken for a ticker.
    """
    if file_format is not None and file_format not in SUFFIXES:
        raise InputError(
            f"file_format must be one of {', '.join(SUFFIXES)} or None; got {file_format!r}"
        )
    root = Path(path).expanduser()
    if root.is_dir():
        sources = [
            SourceFile(entry, str(entry), found)
            for entry in sorted(root.iterdir())
            if entry.is_file()
            and (found := format_of(entry.name)) is not None
            and file_format in (None, found)
        ]
        if not sources:
            formats = [file_format] if file_format else list(SUFFIXES)
            wanted = ", ".join(suffix for name in formats for suffix in SUFFIXES[name])
            nested = any(entry.is_dir() for entry in root.iterdir())
            hint = "; for a partitioned Parquet dataset use data=parquet_dataset" if nested else ""
            raise DataValidationError(f"{root}: directory holds no data files ({wanted}){hint}")
        return sources
    if not root.is_file():
        raise FileNotFoundError(f"{root}: no such file or directory")
    found = file_format or format_of(root.name)
    if found is None:
        raise DataValidationError(
            f"{root}: cannot tell the file format from the suffix; pass file_format='csv' or "
            "'parquet'"
        )
    return [SourceFile(root, str(root), found)]


def read_raw(source: SourceFile) -> pd.DataFrame:
    """The file's table with header names stripped of surrounding spaces.

    A file that cannot be read at all (empty, header only, binary, a cut-off download) fails
    here with one line naming it and what is wrong, instead of a parser message that names no
    file or a later "no rows left after filters".
    """
    try:
        table = _read(source)
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(f"{source.label}: file is empty (no header line)") from exc
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{source.label}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); {_guess(source)}"
        ) from exc
    except EOFError as exc:
        raise DataValidationError(
            f"{source.label}: gzip data is truncated (the file ends inside the compressed "
            "stream); download it again"
        ) from exc
    except gzip.BadGzipFile as exc:
        raise DataValidationError(
            f"{source.label}: not gzip data although the name ends in .gz"
        ) from exc
    except zlib.error as exc:
        raise DataValidationError(f"{source.label}: gzip data is corrupt ({exc})") from exc
    except pd.errors.ParserError as exc:
        raise DataValidationError(f"{source.label}: not a readable CSV: {first_line(exc)}") from exc
    except (ValueError, OSError) as exc:
        if source.file_format != "parquet":
            raise
        raise DataValidationError(
            f"{source.label}: not a readable Parquet file: {first_line(exc)}"
        ) from exc
    if table.empty:
        raise DataValidationError(f"{source.label}: file has a header but no data rows")
    return table


def _guess(source: SourceFile) -> str:
    """What a file that is not text probably is, judged by its first bytes."""
    if _is_gzip(source):
        return "its decompressed content is not CSV text"
    with source.resource.open("rb") as handle:
        head = handle.read(4)
    for signature, meaning in _SIGNATURES.items():
        if head.startswith(signature):
            return meaning
    return "CSV files must be UTF-8 text"


def _is_gzip(source: SourceFile) -> bool:
    return source.resource.name.lower().endswith(".gz")


def _read(source: SourceFile) -> pd.DataFrame:
    with source.resource.open("rb") as handle:
        if source.file_format == "parquet":
            table = pd.read_parquet(handle)
        else:
            compression = "gzip" if _is_gzip(source) else None
            table = pd.read_csv(handle, dtype=str, compression=compression, skipinitialspace=True)
    # A Parquet file written from a date-indexed frame keeps its dates in the index.
    table = table.reset_index(drop=isinstance(table.index, pd.RangeIndex))
    table.columns = [str(column).strip() for column in table.columns]
    return table
