"""Files a run leaves in its own directory, beside Hydra's config snapshot.

They make a run directory self-describing without MLflow: the job store, the report command
and a researcher with `cat` all read the same `metrics.json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from stockml.experiment import ExperimentResult

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "holdout_predictions.csv"
FEATURES_FILE = "features.json"
SEARCH_TRIALS_FILE = "search_trials.csv"
SELECTED_FEATURES_FILE = "selected_features.json"


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN; an undefined metric (e.g. IC of a constant forecast) becomes null."""
    return float(value) if value is not None and math.isfinite(value) else None


def metrics_document(
    result: ExperimentResult, optimized_metric: str | list[str], mlflow_run_id: str | None
) -> dict[str, Any]:
    """`value` is a number, or a list of them when `optimized_metric` is a list."""
    value = result.objective(optimized_metric)
    return {
        "optimized_metric": optimized_metric,
        "value": [_finite_or_none(v) for v in value]
        if isinstance(value, list)
        else _finite_or_none(value),
        "mlflow_run_id": mlflow_run_id,
        "data_fingerprint": result.data.fingerprint,
        "cv": {
            name: {k: _finite_or_none(v) for k, v in stats.items()}
            for name, stats in result.cv.summary().items()
        },
        "folds": [
            {
                **{k: v for k, v in vars(fold).items() if k != "metrics"},
                "metrics": {k: _finite_or_none(v) for k, v in fold.metrics.items()},
            }
            for fold in result.cv.folds
        ],
        "holdout": {k: _finite_or_none(v) for k, v in result.holdout.items()},
        "baseline": {
            name: {k: _finite_or_none(v) for k, v in values.items()}
            for name, values in result.baselines.items()
        },
        "search": None
        if result.search is None
        else {
            "method": result.search.method,
            "metric": result.search.metric,
            "best_params": result.search.best_params,
            "best_score": _finite_or_none(result.search.best_score),
            "n_candidates": result.search.n_candidates,
        },
        "rows": {"dev": len(result.data.X_dev), "holdout": len(result.data.X_holdout)},
        "timings": result.timings,
    }


def write_run_files(
    run_dir: Path,
    result: ExperimentResult,
    optimized_metric: str | list[str],
    mlflow_run_id: str | None,
) -> list[Path]:
    """Write metrics, feature list and holdout predictions; return the paths written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / METRICS_FILE
    metrics_path.write_text(
        json.dumps(metrics_document(result, optimized_metric, mlflow_run_id), indent=2)
    )
    features_path = run_dir / FEATURES_FILE
    features_path.write_text(json.dumps(result.data.feature_names, indent=2))
    predictions_path = run_dir / PREDICTIONS_FILE
    result.predictions.to_csv(predictions_path, index=False, float_format="%.10g")
    written = [metrics_path, features_path, predictions_path]
    if result.selected_features is not None:
        selected_path = run_dir / SELECTED_FEATURES_FILE
        selected_path.write_text(json.dumps(result.selected_features, indent=2))
        written.append(selected_path)
    if result.search is not None:
        trials_path = run_dir / SEARCH_TRIALS_FILE
        result.search.trials.to_csv(trials_path, index=False)
        written.append(trials_path)
    return written
