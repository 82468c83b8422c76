"""`stockml experiment=rolling_retrain`: the rolling walk-forward as an ordinary stockml run.

As a preset it composes, sweeps and queues like any experiment (`stockml -m
experiment=rolling_retrain rolling.step=21,63`), and its files land in the run's own
directory beside Hydra's snapshot; `stockml-retrain --rolling RUN` does the same from a
recorded run.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from stockml.experiment import CORRELATION_METRICS
from stockml.lifecycle.rolling import rolling_retrain
from stockml.lifecycle.rolling_record import log_rolling_run, write_rolling_files
from stockml.run_files import METRICS_FILE

log = logging.getLogger("stockml")


def run_rolling(cfg: DictConfig, run_dir: Path) -> float:
    """Walk forward per `cfg.rolling`, record it, and return the stitched optimised metric."""
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
    settings = OmegaConf.to_container(rolling, resolve=True)
    files = write_rolling_files(result, cfg, {"rolling": settings}, folder=run_dir)
    run_id = (
        log_rolling_run(result, cfg, files, parent_run_id=None) if cfg.tracking.enabled else None
    )
    log.info(
        "rolling retrain: %d windows, %d stitched rows, results in %s\n%s",
        len(result.windows),
        len(result.predictions),
        run_dir,
        result.windows.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
    )
    # cv_ic_mean -> the stitched out-of-sample ic: the walk-forward is this run's validation
    name = str(cfg.optimized_metric).removeprefix("cv_").removesuffix("_mean")
    value = result.metrics.get(name, math.nan)
    value = 0.0 if math.isnan(value) and name in CORRELATION_METRICS else value
    _record_headline(run_dir, cfg, result.metrics, value, run_id)
    return value


def _record_headline(
    run_dir: Path, cfg: DictConfig, metrics: dict[str, float], value: float, run_id: str | None
) -> None:
    """metrics.json as every run writes it, so the job store, the report and reproduce read a
    rolling run like any other; with tracking on, it and the config snapshot go to MLflow."""
    document = {
        "optimized_metric": str(cfg.optimized_metric),
        "value": value if math.isfinite(value) else None,
        "mlflow_run_id": run_id,
        "rolling": {k: (v if math.isfinite(v) else None) for k, v in metrics.items()},
    }
    path = run_dir / METRICS_FILE
    path.write_text(json.dumps(document, indent=2))
    if run_id is None:
        return
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=str(cfg.tracking.uri))
    client.log_artifact(run_id, str(path))
    snapshot = run_dir / ".hydra"
    if snapshot.is_dir():
        client.log_artifacts(run_id, str(snapshot), artifact_path="config")
    client.set_tag(run_id, "run_dir", str(run_dir.resolve()))
    log.info("MLflow run %s in %s", run_id, cfg.tracking.uri)
