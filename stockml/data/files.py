"""Finding data files and reading them into raw tables, before any interpretation.

Reading goes through ``Traversable.open`` so the same code serves files on disk and the
sample bundled inside an installed wheel. Everything is read as text: deciding what counts as
a number or a date is the parser's job, and it can only name a bad cell if nothing was
silently coerced on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from stockml.data.schema import DataValidationError

SUFFIXES: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz"),
    "parquet": (".parquet", ".pq"),
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
        raise ValueError(
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
            raise DataValidationError(f"{root}: directory holds no data files ({wanted})")
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
    """The file's table with header names stripped of surrounding spaces."""
    with source.resource.open("rb") as handle:
        if source.file_format == "parquet":
            table = pd.read_parquet(handle)
        else:
            compression = "gzip" if source.resource.name.lower().endswith(".gz") else None
            table = pd.read_csv(handle, dtype=str, compression=compression, skipinitialspace=True)
    table.columns = [str(column).strip() for column in table.columns]
    return table
