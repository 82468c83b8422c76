"""Rolling retraining: walk forward through time refitting the whole model (Qlib's rolling).

Every `step` dates a fresh pipeline is fitted on the data so far (or on the last `window`
dates) and forecasts the next `step` dates; the forecasts are stitched into one out-of-sample
series. A training row is used only when its label is realised strictly before the scored
window starts, judged from the ticker's own bars, so no window learns from its own future.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from stockml.data.schema import DATE_LEVEL, TICKER_LEVEL, format_stamp, panel_dates
from stockml.lifecycle.errors import LifecycleError
from stockml.pipeline import build_pipeline, fit_clone
from stockml.progress import progress
from stockml.target import TargetSpec, make_dataset
from stockml.validation import regression_metrics, split_holdout
from stockml.validation.metrics import daily_correlations


@dataclass(frozen=True)
class RollingResult:
    """Stitched forecasts, one row per window, and the metrics of the stitched series.

    ``holdout_start`` is the first date the config holds out; with each forecast's
    ``label_end`` it tells which forecasts a sweep may select on (labels realised before it).
    """

    predictions: pd.DataFrame
    windows: pd.DataFrame
    metrics: dict[str, float]
    daily_ic: pd.Series
    holdout_start: pd.Timestamp
    target: TargetSpec  # the label y_true holds


def label_end_dates(panel: pd.DataFrame, label_span: int) -> pd.Series:
    """Date of the bar whose close ends each row's label: ``label_span`` (entry lag + horizon)
    bars of the same ticker later, so gaps in one ticker's calendar cannot hide a leak. A
    labelled row's ticker has a bar at every calendar date its label reads, so this is never
    before the calendar date ``label_span`` bars on, which ends every label of that date
    (a cross-sectional label reads the other tickers' returns up to there)."""
    dates = pd.Series(panel_dates(panel), index=panel.index)
    return dates.groupby(level=TICKER_LEVEL, sort=False).shift(-label_span)


def holdout_start_date(cfg: DictConfig, X: pd.DataFrame, y: pd.Series) -> pd.Timestamp:
    """The first date a single run of this config holds out (`holdout.start` or `.fraction`)."""
    holdout_start = None if cfg.holdout.start is None else str(cfg.holdout.start)
    _, _, X_holdout, _ = split_holdout(
        X,
        y,
        fraction=None if holdout_start else float(cfg.holdout.fraction),
        start=holdout_start,
        horizon=TargetSpec.from_config(cfg.target).label_span,
    )
    return panel_dates(X_holdout).min()


def rolling_retrain(
    cfg: DictConfig, step: int, window: int | None = None, start: str | None = None
) -> RollingResult:
    """Walk forward from ``start`` in windows of ``step`` dates; ``window`` (dates) bounds the
    training history, None trains on everything before each window (expanding)."""
    if step < 1 or (window is not None and window < 1):
        raise LifecycleError(f"rolling step and window must be >= 1 dates, got {step} and {window}")
    target = TargetSpec.from_config(cfg.target)
    panel = instantiate(cfg.data, _convert_="all")
    features = instantiate(cfg.features, _convert_="all").fit_transform(panel)
    X, y = make_dataset(features, target.labels(panel))
    label_end = label_end_dates(panel, target.label_span).reindex(X.index)
    row_dates = panel_dates(X)
    dates = row_dates.unique().sort_values()
    holdout_start = holdout_start_date(cfg, X, y)
    # By default the forecasts cover the period a single run of this config holds out.
    begin = int(dates.searchsorted(holdout_start if start is None else pd.Timestamp(start)))
    if begin >= len(dates):
        raise LifecycleError(f"no date to score on or after {start}")

    template = build_pipeline(cfg)
    scored, windows = [], []
    positions = range(begin, len(dates), step)
    for number, position in enumerate(progress(positions, "rolling windows", "window")):
        test_dates = dates[position : position + step]
        train = (label_end < test_dates[0]).to_numpy()
        if window is not None:
            train = train & (row_dates >= dates[max(0, position - window)])
        if not train.any():
            raise LifecycleError(
                f"window {number} from {format_stamp(test_dates[0])} has no training rows"
            )
        test = row_dates.isin(test_dates)
        model = fit_clone(template, X[train], y[train])
        forecast = model.predict(X[test])
        scored.append(
            pd.DataFrame(
                {
                    DATE_LEVEL: row_dates[test],
                    TICKER_LEVEL: X.index[test].get_level_values(TICKER_LEVEL),
                    "y_true": y[test].to_numpy(),
                    "prediction": forecast,
                    "label_end": label_end[test].to_numpy(),
                    "window": number,
                }
            )
        )
        metrics = regression_metrics(y[test], forecast, dates=row_dates[test])
        windows.append(
            {
                "window": number,
                "train_start": row_dates[train].min(),
                "train_end": row_dates[train].max(),
                "train_label_end": label_end[train].max(),
                "test_start": test_dates[0],
                "test_end": test_dates[-1],
                "n_train": int(train.sum()),
                "n_test": int(test.sum()),
                **{
                    name: metrics[name] for name in ("ic", "rank_ic", "mse", "directional_accuracy")
                },
            }
        )
    predictions = pd.concat(scored, ignore_index=True)
    return RollingResult(
        predictions=predictions,
        windows=pd.DataFrame(windows),
        metrics=regression_metrics(
            predictions["y_true"], predictions["prediction"], dates=predictions[DATE_LEVEL]
        ),
        daily_ic=daily_ic(predictions),
        holdout_start=holdout_start,
        target=target,
    )


def daily_ic(predictions: pd.DataFrame) -> pd.Series:
    """The cross-sectional IC of each scored date, NaN where ``regression_metrics`` counts none
    (fewer than three names, a constant side), so the report and the stitched IC agree."""
    return daily_correlations(
        predictions["y_true"], predictions["prediction"], predictions[DATE_LEVEL]
    )
