"""require_history and fingerprint: the guards and the record around a loaded panel."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from stockml.data import DataValidationError, fingerprint, require_history, synthetic_panel
from stockml.data.validate import ticker_rows


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(n_tickers=3, n_days=300, seed=7)


def test_require_history_names_the_short_ticker(panel: pd.DataFrame) -> None:
    short = panel.drop(index=panel.xs("SYN0001", drop_level=False).index[196:])
    renamed = short.rename(index={"SYN0001": "FB"}, level="ticker")
    with pytest.raises(DataValidationError) as caught:
        require_history(renamed, 300, "feature warm-up + CV")
    assert str(caught.value) == "ticker FB has 196 rows; feature warm-up + CV needs at least 300"


def test_require_history_lists_every_short_ticker(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="SYN0000 has 300 rows, ticker SYN0001 has 300"):
        require_history(panel, 301, "training")


def test_ticker_rows_counts_like_a_groupby_on_the_level(panel: pd.DataFrame) -> None:
    """Level codes, not row values: a dropped ticker (still a level value) has no count."""
    ragged = panel.drop(index="SYN0001", level="ticker").iloc[::-1].iloc[5:]
    expected = ragged.groupby(level="ticker").size()
    pd.testing.assert_series_equal(ticker_rows(ragged.index).sort_index(), expected)


def test_require_history_passes_when_every_ticker_is_long_enough(panel: pd.DataFrame) -> None:
    assert require_history(panel, 300, "training") is None


def test_require_history_rejects_an_empty_panel(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="no rows; training needs at least 1"):
        require_history(panel.iloc[:0], 1, "training")


def test_fingerprint_is_a_short_hex_digest(panel: pd.DataFrame) -> None:
    digest = fingerprint(panel)
    assert len(digest) == 16
    int(digest, 16)
    assert fingerprint(panel.copy()) == digest


def test_fingerprint_is_identical_in_another_process(panel: pd.DataFrame) -> None:
    script = (
        "from stockml.data import fingerprint, synthetic_panel;"
        "print(fingerprint(synthetic_panel(n_tickers=3, n_days=300, seed=7)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == fingerprint(panel)


def test_fingerprint_changes_with_any_value(panel: pd.DataFrame) -> None:
    changed = panel.copy()
    changed.iloc[150, 3] *= 1 + 1e-12
    assert fingerprint(changed) != fingerprint(panel)


def test_fingerprint_changes_with_the_index(panel: pd.DataFrame) -> None:
    renamed = panel.rename(index={"SYN0002": "SYN0009"}, level="ticker")
    assert fingerprint(renamed) != fingerprint(panel)
    assert fingerprint(panel.iloc[:-1]) != fingerprint(panel)


def test_fingerprint_changes_with_column_names(panel: pd.DataFrame) -> None:
    assert fingerprint(panel.rename(columns={"volume": "vol"})) != fingerprint(panel)


@pytest.mark.parametrize(
    ("arguments", "digest"),
    [
        ({"n_tickers": 3, "n_days": 300, "seed": 7}, "8a1f5a2b61842c9f"),
        (
            {"n_tickers": 4, "n_days": 200, "seed": 2, "signal": 0.05, "freq": "1h"},
            "e7b54f1591d49572",
        ),
    ],
)
def test_synthetic_panels_keep_their_recorded_fingerprints(arguments: dict, digest: str) -> None:
    """Runs record the fingerprint of their synthetic data: its generator must not drift
    (digests recorded before the generator wrote columns in place)."""
    assert fingerprint(synthetic_panel(**arguments)) == digest
