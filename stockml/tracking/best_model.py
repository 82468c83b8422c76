"""The best trial's model, logged once at the end of a sweep instead of by every trial.

Logging a model (and its holdout plot) is most of what MLflow costs a trial, and only the
best trial's model is ever deployed. The sweep's end re-runs the best trial's recorded
config (same config and seed give the same numbers, bit for bit) and logs the pipeline into
that trial's own run, after checking that the refit reproduces the holdout forecasts the
trial recorded: a model that does not is not logged, with one warning line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from stockml.run_files import PREDICTIONS_FILE
from stockml.tracking_uri import use_tracking_uri

log = logging.getLogger(__name__)

# Set on a trial's run once its model is logged: a resumed study's best trial may belong to
# an earlier sweep, which logged it already.
MODEL_TAG = "best_model_logged"


def log_best_model(run_dir: Path, run_id: str, tracking_uri: str) -> bool:
    """Refit the run in `run_dir` and log its model (holdout plot, report) into MLflow run
    `run_id`; register it when its config asks. Return whether a model was logged."""
    import mlflow
    from mlflow import MlflowClient

    from stockml.experiment import run_experiment
    from stockml.lifecycle.snapshot import load_snapshot
    from stockml.tracking.run_logging import log_model, log_plots, log_report

    client = MlflowClient(tracking_uri=tracking_uri)
    ended = client.get_run(run_id)
    if MODEL_TAG in ended.data.tags:
        return False
    cfg = load_snapshot(str(run_dir), tracking_uri).config
    if cfg.get("rolling") is not None or not cfg.tracking.log_model:
        return False  # a rolling run keeps no model; the user asked for none
    result = run_experiment(cfg)
    recorded = pd.read_csv(run_dir / PREDICTIONS_FILE)["prediction"].to_numpy()
    if not np.allclose(
        result.predictions["prediction"].to_numpy(), recorded, rtol=1e-8, atol=1e-12
    ):
        log.warning("MLflow: the refit of %s differs from its recorded forecasts; "
                    "its model is not logged", run_dir)  # fmt: skip
        return False
    use_tracking_uri(tracking_uri)
    with mlflow.start_run(run_id=run_id):
        if cfg.tracking.log_plots:
            log_plots(result)
        if cfg.tracking.log_report:
            log_report(result)
        log_model(result.pipeline, result.data)
        mlflow.set_tag(MODEL_TAG, "true")
    # Reopening the run moved its end; the trial's duration is what it took to run.
    client.set_terminated(run_id, ended.info.status, end_time=ended.info.end_time)
    if cfg.registry.register:
        from stockml.lifecycle.registry import register_run

        version = register_run(run_id, str(cfg.registry.model_name), tracking_uri)
        log.info("registered the best trial as %s version %s", version.name, version.version)
    log.info("MLflow: logged the best trial's model into run %s", run_id)
    return True
