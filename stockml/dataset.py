"""Config -> modelling data: panel, causal features, forward labels, dev/holdout split.

The holdout is cut here, before any splitter or search sees the data, so nothing downstream
can touch it by accident: CV and tuning only ever receive the `dev` part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from stockml.data import fingerprint, require_history
from stockml.features import FeatureBuilder
from stockml.target import forward_log_return, make_dataset
from stockml.validation import split_holdout


@dataclass
class ModellingData:
    """Everything one run evaluates on; `X_dev`/`y_dev` is all that CV and tuning may see."""

    panel: pd.DataFrame
    features: FeatureBuilder
    X_dev: pd.DataFrame
    y_dev: pd.Series
    X_holdout: pd.DataFrame
    y_holdout: pd.Series
    last_return_holdout: pd.Series
    fingerprint: str

    @property
    def feature_names(self) -> list[str]:
        return list(self.X_dev.columns)


def trailing_log_return(panel: pd.DataFrame, horizon: int) -> pd.Series:
    """log(close[t] / close[t-h]) per ticker: the naive "last return persists" forecast."""
    log_close = np.log(panel["close"])
    return log_close - log_close.groupby(level="ticker").shift(horizon)


def build_modelling_data(cfg: DictConfig) -> ModellingData:
    panel: pd.DataFrame = instantiate(cfg.data, _convert_="all")
    builder: FeatureBuilder = instantiate(cfg.features, _convert_="all")
    horizon = int(cfg.target.horizon)
    require_history(
        panel,
        builder.warmup_rows + horizon + 1,
        f"the feature windows (warm-up {builder.warmup_rows} rows) and horizon {horizon}",
    )
    features = builder.fit_transform(panel)
    X, y = make_dataset(features, forward_log_return(panel, horizon))
    holdout_start = None if cfg.holdout.start is None else str(cfg.holdout.start)
    X_dev, y_dev, X_holdout, y_holdout = split_holdout(
        X,
        y,
        fraction=None if holdout_start else float(cfg.holdout.fraction),
        start=holdout_start,
        horizon=horizon,
    )
    last_return = trailing_log_return(panel, horizon).reindex(X_holdout.index)
    return ModellingData(
        panel=panel,
        features=builder,
        X_dev=X_dev,
        y_dev=y_dev,
        X_holdout=X_holdout,
        y_holdout=y_holdout,
        last_return_holdout=last_return,
        fingerprint=fingerprint(panel),
    )
