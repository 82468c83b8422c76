"""Forecasts from a logged model and raw OHLCV bars, with nothing else from its training run.

The feature recipe comes from the model's own metadata, so the same model URI gives the same
features wherever it is used. Every (date, ticker) with complete features gets a forecast,
including the latest dates, whose labels do not exist yet: that is what a forecast is for.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from stockml.data import require_history
from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL, stamp_format
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.scoring import ScoringModel


def predict_panel(model: ScoringModel, panel: pd.DataFrame) -> pd.DataFrame:
    """Columns date, ticker, prediction; sorted by date, then ticker.

    The rule is training's: a row gets a forecast once its features are complete, that is
    after the features' warm-up (`warmup_rows`), exactly the rows training kept. As in
    training, recursive features (EMAs, RSI) of the first rows after the warm-up still carry
    some memory of where the input starts. A ticker too short for any forecast is left out
    with a warning; only when none is left is it an error.
    """
    needed = model.metadata.warmup_rows
    lengths = panel.groupby(level=TICKER_LEVEL, sort=False).size()
    short = lengths[lengths <= needed]
    if len(short) == len(lengths):
        require_history(panel, needed + 1, f"the model's features (warm-up {needed} rows)")
    for ticker, rows in short.items():
        warnings.warn(
            f"ticker {ticker} has {rows} rows; the model's features need {needed + 1} (warm-up "
            f"{needed} rows) for a forecast: left out",
            stacklevel=2,
        )
    X = model.features(panel).dropna()
    if X.empty:
        raise LifecycleError("no row of the input has complete features to predict from")
    predictions = model.predict(X)
    frame = predictions.reset_index()[[DATE_LEVEL, TICKER_LEVEL, "prediction"]]
    return frame.sort_values([DATE_LEVEL, TICKER_LEVEL], ignore_index=True)


def output_format(out: Path) -> str:
    """ "csv" or "parquet" from the file name; checked before any work is done."""
    if out.suffix == ".parquet":
        return "parquet"
    if out.name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise LifecycleError(f"out={out}: use a .csv, .csv.gz or .parquet file name")


def write_predictions(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if output_format(out) == "parquet":
        frame.to_parquet(out, index=False)
    else:
        write_csv(frame, out)


def write_csv(frame: pd.DataFrame, target: Any) -> None:
    """Predictions as CSV, to a path or an open stream; intraday bars keep their times."""
    frame.to_csv(
        target, index=False, date_format=stamp_format(frame[DATE_LEVEL]), float_format="%.10g"
    )
