"""What a sweep says as it goes, and where each trial's results can be found again.

Each told trial gets one console line (`trial 7/30 (#12) value=... best=... (trial 3)`) and
the user attributes that link it to its run: `run_dir`, and `mlflow_run_id` read from the
run's `metrics.json` when the run was tracked.
"""

from __future__ import annotations

import logging
from pathlib import Path

import optuna
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf
from optuna.trial import TrialState

from stockml.jobs.results import read_result

log = logging.getLogger("stockml.tuning.optuna_sweep")


def trial_run_dir(job: JobReturn) -> Path | None:
    """The job's run directory: Hydra's `runtime.output_dir` (`job.working_dir` is only that
    directory with `hydra.job.chdir=true`; stockml keeps the cwd)."""
    if job.hydra_cfg is None:
        return None
    output_dir = OmegaConf.select(job.hydra_cfg, "hydra.runtime.output_dir")
    return Path(output_dir).resolve() if output_dir else None


def trial_links(job: JobReturn) -> dict[str, str]:
    """Where a trial's results are: its run directory and, when tracked, its MLflow run id."""
    run_dir = trial_run_dir(job)
    if run_dir is None:
        return {}
    links = {"run_dir": str(run_dir)}
    result = read_result(run_dir)  # None for a run that failed before writing metrics.json
    if result is not None and result.mlflow_run_id:
        links["mlflow_run_id"] = str(result.mlflow_run_id)
    return links


def progress(study: optuna.Study, values: list[float]) -> str:
    """`value=... best=... (trial N)`, or the values and the Pareto front's size."""
    if len(values) > 1:
        shown = ", ".join(f"{v:.6g}" for v in values)
        return f"values=[{shown}] pareto front: {len(study.best_trials)} trial(s)"
    best = study.best_trial
    return f"value={values[0]:.6g} best={best.value:.6g} (trial {best.number})"


def log_best(study: optuna.Study) -> None:
    """The study's best trial (or Pareto front) as the sweep's last console line."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        log.warning("study %s has no completed trial", study.study_name)
        return
    if len(study.directions) > 1:
        front = ", ".join(f"#{t.number} {t.values}" for t in study.best_trials)
        log.info("best of study %s (Pareto front): %s", study.study_name, front)
        return
    best = study.best_trial
    where = best.user_attrs.get("run_dir", "")
    log.info(
        "best of study %s: trial %d value=%.6g %s %s",
        study.study_name,
        best.number,
        best.value,
        best.params,
        where,
    )
