"""Where a rolling retrain's results go: files in a directory of their own, and MLflow.

A rolling retrain fits many models and keeps none, so what is worth recording is the stitched
forecast series, the per-window table and the metrics, linked to the run it started from.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

from omegaconf import DictConfig

from stockml.features.audit import audit_tags
from stockml.lifecycle.rolling import RollingResult
from stockml.tracking.identity import RunIdentity

ROLLING_OF_TAG = "rolling_of"


def write_rolling_files(
    result: RollingResult, cfg: DictConfig, settings: dict, folder: Path | None = None
) -> list[Path]:
    """Write into `folder` (default `<output_root>/rolling/<date>/<time>/`); return the paths."""
    if folder is None:
        stamp = f"{datetime.now():%Y-%m-%d/%H-%M-%S-%f}"
        folder = Path(str(cfg.paths.output_root)) / "rolling" / stamp
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "predictions": folder / "rolling_predictions.csv",
        "windows": folder / "rolling_windows.csv",
        "daily_ic": folder / "rolling_daily_ic.csv",
        "metrics": folder / "rolling_metrics.json",
    }
    result.predictions.to_csv(paths["predictions"], index=False, float_format="%.10g")
    result.windows.to_csv(paths["windows"], index=False, float_format="%.10g")
    result.daily_ic.to_csv(paths["daily_ic"], float_format="%.10g")
    metrics = {k: (v if math.isfinite(v) else None) for k, v in result.metrics.items()}
    document = {"settings": settings, "target": result.target.describe(), "metrics": metrics}
    paths["metrics"].write_text(json.dumps(document, indent=2))
    return list(paths.values())


def log_rolling_run(
    result: RollingResult,
    cfg: DictConfig,
    files: list[Path],
    parent_run_id: str | None,
    identity: RunIdentity | None = None,
    scores: dict[str, dict[str, float]] | None = None,
) -> str:
    """An MLflow run holding the stitched metrics (`rolling_test_<metric>`) and the files.

    ``identity`` names the run and links it into a sweep; ``scores`` (from a rolling preset
    run) adds the stitched metrics before the holdout as `cv_<metric>_mean` and those in it as
    `test_<metric>`, so the leaderboard ranks rolling runs like any other.
    """
    import mlflow

    from stockml.tracking import run_logging

    if identity is None:
        model = str(cfg.model._target_).rsplit(".", 1)[-1].lower()
        identity = RunIdentity(name=f"rolling {model} {datetime.now():%Y-%m-%d %H:%M:%S}")
    with run_logging.start_run(cfg.tracking, identity) as run:
        mlflow.log_metrics(
            {f"rolling_test_{k}": v for k, v in result.metrics.items() if math.isfinite(v)}
        )
        for prefix, suffix, key in (("cv_", "_mean", "validation"), ("test_", "", "holdout")):
            values = (scores or {}).get(key, {})
            mlflow.log_metrics(
                {f"{prefix}{k}{suffix}": v for k, v in values.items() if math.isfinite(v)}
            )
        for row in result.windows.itertuples():
            if math.isfinite(row.ic):
                mlflow.log_metric("rolling_window_ic", row.ic, step=row.window)
        mlflow.set_tag("target", result.target.describe())  # what every metric scores against
        mlflow.set_tags(audit_tags(cfg.features))
        if parent_run_id is not None:
            mlflow.set_tag(ROLLING_OF_TAG, parent_run_id)
        for path in files:
            mlflow.log_artifact(str(path))
        return run.info.run_id
