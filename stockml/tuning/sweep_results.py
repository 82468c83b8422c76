"""The `optimization_results.yaml` a sweep leaves in its sweep directory.

It describes the whole study, so a sweep that resumed a stored study reports the best over
every run, while `n_trials`/`n_failed` count only this sweep's trials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from stockml.sweep_files import RESULTS_FILE


def study_summary(study: optuna.Study, n_trials: int, n_failed: int) -> dict[str, Any]:
    """Best params and value, or the Pareto front of a multi-objective study."""
    summary: dict[str, Any] = {"name": study.study_name}
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(study.directions) > 1:
        summary["directions"] = [d.name.lower() for d in study.directions]
        summary["solutions"] = [
            {
                "number": t.number,
                "params": dict(t.params),
                "values": list(t.values),
                "run_dir": t.user_attrs.get("run_dir"),
                "mlflow_run_id": t.user_attrs.get("mlflow_run_id"),
            }
            for t in (study.best_trials if completed else [])
        ]
    else:
        summary["direction"] = study.direction.name.lower()
        best = study.best_trial if completed else None
        summary["best_params"] = dict(best.params) if best else None
        summary["best_value"] = best.value if best else None
        summary["best_trial_number"] = best.number if best else None
        summary["best_run_dir"] = best.user_attrs.get("run_dir") if best else None
        summary["best_mlflow_run_id"] = best.user_attrs.get("mlflow_run_id") if best else None
    summary["n_trials"] = n_trials
    summary["n_failed"] = n_failed
    summary["n_trials_in_study"] = len(study.get_trials(deepcopy=False))
    return summary


def write_results(study: optuna.Study, sweep_dir: Path, n_trials: int, n_failed: int) -> Path:
    """Write the summary as YAML into the sweep directory and return its path."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / RESULTS_FILE
    path.write_text(yaml.safe_dump(study_summary(study, n_trials, n_failed), sort_keys=False))
    return path
