"""`stockml experiment=rolling_retrain`: the rolling walk-forward as an ordinary stockml run.

As a preset it composes, sweeps and queues like any experiment (`stockml -m
experiment=rolling_retrain rolling.start=2008-01-01 rolling.step=21,63`), and its files land
in the run's own directory beside Hydra's snapshot; `stockml-retrain --rolling RUN` does the
same from a recorded run.

What the run returns to a sweeper (its `optimized_metric`, a `cv_<metric>_mean`) is the
stitched metric over the forecasts whose labels are realised before the holdout starts,
never over holdout dates: a sweep over rolling runs selects on the development period only,
like any other sweep. The holdout forecasts are scored and recorded as `test_<metric>`.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from stockml.config import ConfigError
from stockml.console_table import frame_table
from stockml.data.schema import DATE_LEVEL, format_stamp
from stockml.experiment import CORRELATION_METRICS
from stockml.lifecycle.rolling import RollingResult, rolling_retrain
from stockml.lifecycle.rolling_record import log_rolling_run, write_rolling_files
from stockml.run_files import METRICS_FILE, failed_on_error, staged_metrics
from stockml.tracking.identity import RunIdentity
from stockml.validation import regression_metrics

log = logging.getLogger("stockml")


def run_rolling(
    cfg: DictConfig,
    run_dir: Path,
    in_sweep: bool = False,
    identity: RunIdentity | None = None,
) -> float:
    """Walk forward per `cfg.rolling`, record it, and return the optimised metric measured
    on the forecasts before the holdout (NaN when there are none, refused in a sweep)."""
    rolling = cfg.rolling
    if cfg.optimizer.method != "none":
        log.warning(
            "rolling retrain refits the configured parameters in every window; "
            "optimizer=%s is not re-run per window",
            cfg.optimizer.method,
        )
    result = rolling_retrain(
        cfg,
        step=int(rolling.step),
        window=None if rolling.window is None else int(rolling.window),
        start=None if rolling.start is None else str(rolling.start),
    )
    validation, holdout = split_scored(result)
    if in_sweep and validation.empty:
        raise ConfigError(
            f"rolling.start={rolling.start} scores nothing before the holdout "
            f"(starts {format_stamp(result.holdout_start)}); a sweep selects on those dates only, "
            "so set rolling.start earlier"
        )
    scores = {"validation": _stitched(validation), "holdout": _stitched(holdout)}
    settings = OmegaConf.to_container(rolling, resolve=True)
    files = write_rolling_files(result, cfg, {"rolling": settings}, folder=run_dir)
    with failed_on_error(run_dir):
        run_id = (
            log_rolling_run(
                result, cfg, files, parent_run_id=None, identity=identity, scores=scores
            )
            if cfg.tracking.enabled
            else None
        )
    log.info(
        "rolling retrain: %d windows, %d stitched rows (%d scored before the holdout, "
        "%d in it), results in %s\n%s",
        len(result.windows),
        len(result.predictions),
        len(validation),
        len(holdout),
        run_dir,
        frame_table(result.windows),
    )
    # cv_ic_mean -> the stitched ic before the holdout: the walk-forward is this run's CV
    name = str(cfg.optimized_metric).removeprefix("cv_").removesuffix("_mean")
    value = scores["validation"].get(name, math.nan)
    if math.isnan(value) and name in CORRELATION_METRICS and not validation.empty:
        value = 0.0  # a constant forecast has no skill; not a failed trial
    with failed_on_error(run_dir):
        _record_headline(run_dir, cfg, result, scores, value, run_id)
    return value


def split_scored(result: RollingResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(forecasts whose labels end before the holdout, forecasts dated in the holdout).

    Forecasts between the two (dated before the holdout, label realised inside it) are in
    neither: their labels are holdout prices.
    """
    predictions = result.predictions
    validation = predictions[predictions["label_end"] < result.holdout_start]
    holdout = predictions[predictions[DATE_LEVEL] >= result.holdout_start]
    return validation, holdout


def _stitched(predictions: pd.DataFrame) -> dict[str, float]:
    if predictions.empty:
        return {}
    return regression_metrics(
        predictions["y_true"], predictions["prediction"], dates=predictions[DATE_LEVEL]
    )


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


def _record_headline(
    run_dir: Path,
    cfg: DictConfig,
    result: RollingResult,
    scores: dict[str, dict[str, float]],
    value: float,
    run_id: str | None,
) -> None:
    """metrics.json as every run writes it, so the job store, the report and reproduce read a
    rolling run like any other; with tracking on, it and the config snapshot go to MLflow."""
    document = {
        "optimized_metric": str(cfg.optimized_metric),
        "value": value if math.isfinite(value) else None,
        "mlflow_run_id": run_id,
        "holdout_start": format_stamp(result.holdout_start),
        "target": result.target.describe(),
        "rolling": _finite(result.metrics),
        "validation": _finite(scores["validation"]),
        "holdout": _finite(scores["holdout"]),
    }

    def write(folder: Path) -> Path:
        path = folder / METRICS_FILE
        path.write_text(json.dumps(document, indent=2))
        return path

    if run_id is None:
        write(run_dir)
        return
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=str(cfg.tracking.uri))
    try:
        with staged_metrics(run_dir, write) as staged:
            client.log_artifact(run_id, str(staged))
            snapshot = run_dir / ".hydra"
            if snapshot.is_dir():
                client.log_artifacts(run_id, str(snapshot), artifact_path="config")
            client.set_tag(run_id, "run_dir", str(run_dir.resolve()))
    except Exception:
        client.set_terminated(run_id, status="FAILED")  # its record is incomplete
        raise
    log.info("MLflow run %s in %s", run_id, cfg.tracking.uri)
