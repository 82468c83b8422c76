"""Files a run leaves in its own directory, beside Hydra's config snapshot.

They make a run directory self-describing without MLflow: the job store, the report command
and a researcher with `cat` all read the same `metrics.json`, and every report draws the
run's `evaluation.json` (stockml.reporting.schema) rather than recomputing it.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stockml.csv_writer import write_csv
from stockml.experiment import ExperimentResult
from stockml.messages import first_line

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "holdout_predictions.csv"
FEATURES_FILE = "features.json"
SEARCH_TRIALS_FILE = "search_trials.csv"
SELECTED_FEATURES_FILE = "selected_features.json"
EVALUATION_FILE = "evaluation.json"
# FoldResult fields that are data, not a description of the fold: kept out of metrics.json.
_FOLD_DATA_FIELDS = frozenset({"metrics", "test_rows", "predictions"})
# Written instead of metrics.json when the run could not be recorded (MLflow failed).
FAILED_FILE = "failed.txt"


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN; an undefined metric (e.g. IC of a constant forecast) becomes null."""
    return float(value) if value is not None and math.isfinite(value) else None


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null, all the way down (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return _finite_or_none(value)
    return value


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
        # What every metric below scores against (the label y_true holds), in words and keys.
        "target": result.data.target.describe(),
        "target_spec": result.data.target.to_dict(),
        "cv": {
            name: {k: _finite_or_none(v) for k, v in stats.items()}
            for name, stats in result.cv.summary().items()
        },
        "folds": [
            {
                **{k: v for k, v in vars(fold).items() if k not in _FOLD_DATA_FIELDS},
                "metrics": {k: _finite_or_none(v) for k, v in fold.metrics.items()},
            }
            for fold in result.cv.folds
        ],
        "holdout": {
            k: _finite_or_none(v) for k, v in {**result.holdout, **result.portfolio}.items()
        },
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


def _write_metrics(
    folder: Path, result: ExperimentResult, metric: str | list[str], run_id: str | None
) -> Path:
    path = folder / METRICS_FILE
    path.write_text(json.dumps(metrics_document(result, metric, run_id), indent=2))
    return path


def _write_results(run_dir: Path, result: ExperimentResult) -> list[Path]:
    """Every run file but metrics.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    features_path = run_dir / FEATURES_FILE
    features_path.write_text(json.dumps(result.data.feature_names, indent=2))
    predictions_path = run_dir / PREDICTIONS_FILE
    write_csv(result.predictions, predictions_path)
    evaluation_path = run_dir / EVALUATION_FILE
    evaluation_path.write_text(json.dumps(_json_safe(result.evaluation), allow_nan=False))
    written = [features_path, predictions_path, evaluation_path]
    if result.selected_features is not None:
        selected_path = run_dir / SELECTED_FEATURES_FILE
        selected_path.write_text(json.dumps(result.selected_features, indent=2))
        written.append(selected_path)
    if result.search is not None:
        trials_path = run_dir / SEARCH_TRIALS_FILE
        result.search.trials.to_csv(trials_path, index=False)
        written.append(trials_path)
    return written


def write_run_files(
    run_dir: Path,
    result: ExperimentResult,
    optimized_metric: str | list[str],
    mlflow_run_id: str | None,
) -> list[Path]:
    """Write the run files, metrics.json last; return the paths written."""
    written = _write_results(run_dir, result)
    return [_write_metrics(run_dir, result, optimized_metric, mlflow_run_id), *written]


@contextmanager
def failed_on_error(run_dir: Path) -> Iterator[None]:
    """FAILED_FILE in the run directory, saying why, when recording the run raises."""
    try:
        yield
    except Exception as exc:
        (run_dir / FAILED_FILE).write_text(
            f"recording the run failed: {type(exc).__name__}: {first_line(exc)}\n"
        )
        raise


@contextmanager
def staged_metrics(run_dir: Path, write_metrics: Callable[[Path], Path]) -> Iterator[Path]:
    """metrics.json written into a staging folder for the tracker to log, and copied into
    the run directory only when the body (MLflow logging, registration) succeeded.

    metrics.json is what marks a run directory complete (the job store, reproduce, retrain
    and cleanup read it), so a run whose recording failed must never hold one.
    """
    with tempfile.TemporaryDirectory(prefix="stockml-metrics-") as staging:
        staged = write_metrics(Path(staging))
        yield staged
        shutil.copyfile(staged, run_dir / METRICS_FILE)


@contextmanager
def run_files_to_log(
    run_dir: Path,
    result: ExperimentResult,
    optimized_metric: str | list[str],
    mlflow_run_id: str,
) -> Iterator[list[Path]]:
    """The run files for the tracker to log, metrics.json staged (see `staged_metrics`)."""
    with (
        failed_on_error(run_dir),
        staged_metrics(
            run_dir, lambda folder: _write_metrics(folder, result, optimized_metric, mlflow_run_id)
        ) as staged,
    ):
        yield [staged, *_write_results(run_dir, result)]
