"""Retrain a run on new settings (usually a later data window) and compare old with new.

The new model is recorded as an ordinary run; the comparison scores the old fitted pipeline
and the new one on the new run's holdout rows, so the question "did retraining help?" is
answered on data neither model was fitted on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from omegaconf import DictConfig

from stockml.dataset import build_modelling_data
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.registry import client, logged_model_uri
from stockml.lifecycle.rerun import Rerun, rerun
from stockml.lifecycle.scoring import (
    Comparison,
    in_sample_notes,
    load_scoring_model,
    score_models,
)
from stockml.lifecycle.snapshot import RunSnapshot, compose_snapshot

PARENT_TAG = "retrain_of"


@dataclass(frozen=True)
class Retrain:
    parent_run_id: str
    rerun: Rerun
    comparison: Comparison
    notes: list[str]


def check_trackable(cfg: DictConfig) -> None:
    """The comparison needs the new model in MLflow, so refuse before training."""
    if not (cfg.tracking.enabled and cfg.tracking.log_model):
        raise LifecycleError(
            "retraining needs tracking.enabled=true and tracking.log_model=true to compare models"
        )


def retrain(snapshot: RunSnapshot, overrides: Sequence[str], tracking_uri: str) -> Retrain:
    """Train ``snapshot`` with ``overrides``; log the old-vs-new comparison in the new run."""
    if snapshot.run_id is None:
        raise LifecycleError(f"{snapshot.ref} has no MLflow run, so no old model to compare with")
    old_uri = logged_model_uri(client(tracking_uri), snapshot.run_id)
    if not any(o.split("=", 1)[0].lstrip("+") == "tracking.uri" for o in overrides):
        # The new run goes where the old one was read from, so retrain_of links within a store.
        overrides = [*overrides, f"tracking.uri={tracking_uri}"]
    cfg = compose_snapshot(snapshot, overrides)
    check_trackable(cfg)
    old_model = load_scoring_model(old_uri, tracking_uri)

    result = rerun(snapshot, overrides, cfg)
    new_store = str(cfg.tracking.uri)
    new_client = client(new_store)
    assert result.run_id is not None  # tracking is on, so the run recorded its id
    new_model = load_scoring_model(logged_model_uri(new_client, result.run_id), new_store)
    data = build_modelling_data(cfg)
    models = {"old": old_model, "new": new_model}
    comparison = score_models(
        models,
        data.panel,
        data.target,
        rows=data.X_holdout.index,
    )
    new_client.log_batch(
        result.run_id,
        metrics=_comparison_metrics(comparison),
        tags=_tags(snapshot.run_id, comparison),
    )
    return Retrain(snapshot.run_id, result, comparison, in_sample_notes(models, comparison))


def _comparison_metrics(comparison: Comparison) -> list:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    return [
        Metric(f"retrain_{name}_test_{metric}", value, now, 0)
        for name, values in comparison.metrics.items()
        for metric, value in values.items()
        if math.isfinite(value)
    ]


def _tags(parent_run_id: str, comparison: Comparison) -> list:
    from mlflow.entities import RunTag

    return [
        RunTag(PARENT_TAG, parent_run_id),
        RunTag("retrain_compare_rows", str(len(comparison.rows))),
        RunTag("retrain_compare_period", comparison.period),
    ]
