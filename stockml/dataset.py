"""Config -> modelling data: panel, causal features, forward labels, dev/holdout split.

The holdout is cut here, before any splitter or search sees the data, so nothing downstream
can touch it by accident: CV and tuning only ever receive the `dev` part.

The design matrix is built once, directly in its final row order (date, then ticker) and
dtype, for the rows that can be used: rows inside a ticker's feature warm-up or without a
label are never computed. Development and holdout sets are then two slices of it (views, not
copies), which is what keeps a 5M-row universe within a few GiB.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from stockml.data import fingerprint, require_history
from stockml.data.schema import panel_dates
from stockml.features import FeatureBuilder
from stockml.features.audit import require_causal
from stockml.target import (
    TARGET_NAME,
    RowCodes,
    TargetSpec,
    complete_rows,
    time_order,
)
from stockml.validation import split_holdout

log = logging.getLogger(__name__)


@dataclass
class ModellingData:
    """Everything one run evaluates on; `X_dev`/`y_dev` is all that CV and tuning may see.

    ``timings`` splits the time spent building it into stages (seconds), for benchmarks.
    """

    panel: pd.DataFrame
    features: FeatureBuilder
    X_dev: pd.DataFrame
    y_dev: pd.Series
    X_holdout: pd.DataFrame
    y_holdout: pd.Series
    last_return_holdout: pd.Series
    fingerprint: str
    target: TargetSpec  # the label y_dev and y_holdout hold, and every score is against
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return list(self.X_dev.columns)


def positions_in_ticker(codes: RowCodes) -> np.ndarray:
    """Each row's number within its ticker (0 = first bar), for rows grouped by ticker."""
    starts = np.flatnonzero(np.diff(codes.tickers, prepend=-1))
    lengths = np.diff(np.append(starts, len(codes.tickers)))
    return np.arange(len(codes.tickers)) - np.repeat(starts, lengths)


class Stopwatch:
    """Seconds per named stage, each stage ending where the next begins."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[f"{stage}_s"] = now - self._last
        self._last = now


def build_modelling_data(cfg: DictConfig) -> ModellingData:
    watch = Stopwatch()
    panel: pd.DataFrame = instantiate(cfg.data, _convert_="all")
    builder: FeatureBuilder = instantiate(cfg.features, _convert_="all")
    target = TargetSpec.from_config(cfg.target)
    require_history(
        panel,
        builder.warmup_rows + target.label_span + 1,
        f"the feature windows (warm-up {builder.warmup_rows} rows) and label "
        f"({target.describe()})",
    )
    watch.lap("load")
    # The fingerprint (pandas' hashing, mostly NumPy, which releases the GIL) runs beside
    # the single-threaded stages below; it reads the panel, which nothing here changes.
    with ThreadPoolExecutor(1, thread_name_prefix="fingerprint") as pool:
        digest = pool.submit(fingerprint, panel)
        audit = builder.audit
        X, y = make_design_matrix(panel, builder.set_params(audit=False).fit(panel), target, watch)
        X_dev, y_dev, X_holdout, y_holdout = _split(cfg, X, y, target.label_span)
        builder.set_params(audit=audit)
        if audit:
            # The audit's verdict stops a run or a sweep trial, a decision no holdout bar may
            # reach; fitted on the whole panel it would sample the first dates, which on a
            # short panel run into the holdout. So it waits for the split and sees only the
            # dates before the holdout's first.
            require_causal(builder, panel[panel_dates(panel) < panel_dates(X_holdout).min()])
        last_return = target.trailing(panel, row_positions(panel.index, X_holdout.index))
        watch.lap("split")
    log.debug(
        "data stages: %s", " ".join(f"{key}={value:.3f}" for key, value in watch.timings.items())
    )
    return ModellingData(
        panel=panel,
        features=builder,
        X_dev=X_dev,
        y_dev=y_dev,
        X_holdout=X_holdout,
        y_holdout=y_holdout,
        last_return_holdout=pd.Series(last_return, index=X_holdout.index),
        fingerprint=digest.result(),
        target=target,
        timings=watch.timings,
    )


def row_positions(index: pd.Index, rows: pd.Index) -> np.ndarray:
    """Positions in ``index`` of ``rows``, which were taken from it (`pandas.Index.take`).

    A row taken from a (ticker, date) index keeps its level codes, so when ``index`` is in
    level order (a panel sorted by ticker and date, as every panel is) each row is found by
    a binary search on one integer key per row, without the hash table of every row that
    `get_indexer` builds; any other index falls back to `get_indexer`.
    """
    if (
        isinstance(index, pd.MultiIndex)
        and isinstance(rows, pd.MultiIndex)
        and index.nlevels == rows.nlevels == 2
        and all(ours.equals(theirs) for ours, theirs in zip(index.levels, rows.levels, strict=True))
    ):
        width = len(index.levels[1])
        keys = index.codes[0].astype(np.int64) * width + index.codes[1]
        if np.all(keys[1:] > keys[:-1]):
            wanted = rows.codes[0].astype(np.int64) * width + rows.codes[1]
            found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            if np.array_equal(keys[found], wanted):
                return found
    return index.get_indexer(rows)


def make_design_matrix(
    panel: pd.DataFrame,
    builder: FeatureBuilder,
    target: TargetSpec,
    watch: Stopwatch | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """The one place where features meet labels: `make_dataset`'s rows and order, built lean.

    Only rows past every ticker's feature warm-up that have a label are computed, straight
    into a (feature, row) array of the builder's dtype in date-then-ticker order, which the
    frame then wraps without a copy. Rows with a NaN feature anyway (a zero range or volume
    somewhere) are dropped, as `make_dataset` would; only then is the array copied.
    ``watch``, if given, times the labels, features and assembly stages.
    """
    watch = watch or Stopwatch()
    codes = RowCodes.of(panel.index)
    label = target.labels(panel, codes).to_numpy()
    past_warmup = positions_in_ticker(codes) >= builder.warmup_rows
    rows = time_order(codes, ~np.isnan(label) & past_warmup)
    watch.lap("labels")
    values = builder.transform_rows(panel, rows)
    watch.lap("features")
    complete = complete_rows(values, label[rows])
    if not complete.all():
        values, rows = values[:, complete], rows[complete]
    index = panel.index.take(rows)
    X = pd.DataFrame(values.T, index=index, columns=builder.feature_names(), copy=False)
    y = pd.Series(label[rows], index=index, name=TARGET_NAME)
    watch.lap("assemble")
    return X, y


def _split(
    cfg: DictConfig, X: pd.DataFrame, y: pd.Series, label_span: int
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """`split_holdout`'s decision, applied as two row slices of the time-ordered ``X``, purging
    the ``label_span`` dates (entry lag + horizon) whose labels reach into the holdout.

    The split is decided on the row numbers alone; as rows are in time order, development
    rows are a prefix and holdout rows a suffix, so both sides are views of ``X``.
    """
    holdout_start = None if cfg.holdout.start is None else str(cfg.holdout.start)
    numbers = pd.Series(np.arange(len(y)), index=y.index)
    _, dev, _, holdout = split_holdout(
        pd.DataFrame(index=y.index),
        numbers,
        fraction=None if holdout_start else float(cfg.holdout.fraction),
        start=holdout_start,
        horizon=label_span,
    )
    n_dev, n_holdout = len(dev), len(holdout)
    if not (
        np.array_equal(dev.to_numpy(), np.arange(n_dev))
        and np.array_equal(holdout.to_numpy(), np.arange(len(y) - n_holdout, len(y)))
    ):
        raise AssertionError("split_holdout did not cut the time-ordered rows into two slices")
    first_holdout = len(y) - n_holdout
    return X.iloc[:n_dev], y.iloc[:n_dev], X.iloc[first_holdout:], y.iloc[first_holdout:]
