"""A short content hash of a panel, for recording exactly which data a run saw."""

from __future__ import annotations

import hashlib

import pandas as pd


def fingerprint(panel: pd.DataFrame) -> str:
    """The first 16 hex digits of a sha256 over column names, index and values.

    ``hash_pandas_object`` uses a fixed key, unlike Python's salted ``hash``, so the result
    is the same in every process and on every machine for the same data.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, panel.columns)).encode())
    rows = pd.util.hash_pandas_object(panel, index=True)
    digest.update(rows.to_numpy().astype("<u8").tobytes())  # byte order fixed
    return digest.hexdigest()[:16]
