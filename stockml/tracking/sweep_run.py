"""A sweep's parent MLflow run: opened before the first trial, completed after the last.

Opening it writes `SweepLink` into the sweep directory, which every trial reads to nest its
own run under it. Completing it gives the parent what a researcher looks for first: the best
value(s) and the overrides that produced them, links to the best trial's run, the Optuna
results file and plots of the study, and the best trial's model.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from omegaconf import DictConfig, OmegaConf

from stockml.run_files import METRICS_FILE
from stockml.sweep_files import MULTIRUN_FILE, PLOTS_DIR, RESULTS_FILE
from stockml.tracking.identity import (
    STUDY_TAG,
    TRIAL_TAG,
    SweepLink,
    describe,
    override_pairs,
    trial_pairs,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

SWEEP_FILES = (RESULTS_FILE, MULTIRUN_FILE)


@dataclass(frozen=True)
class JobResult:
    """What one job of the sweep recorded in its metrics.json."""

    run_dir: Path
    metrics: list[str]  # the optimised metric(s)
    values: list[float | None]  # one per metric; None where undefined
    run_id: str | None

    @classmethod
    def read(cls, run_dir: Path) -> JobResult | None:
        path = run_dir / METRICS_FILE
        if not path.is_file():
            return None
        document = json.loads(path.read_text())
        metrics, values = document.get("optimized_metric"), document.get("value")
        return cls(
            run_dir.resolve(),
            [str(m) for m in (metrics if isinstance(metrics, list) else [metrics])],
            values if isinstance(values, list) else [values],
            document.get("mlflow_run_id"),
        )

    @property
    def value(self) -> float | None:
        """The single objective's value; None when undefined or when there are several."""
        if len(self.values) != 1 or not isinstance(self.values[0], int | float):
            return None
        return float(self.values[0]) if math.isfinite(self.values[0]) else None


def start_sweep(config: DictConfig) -> SweepLink:
    """Create the parent run for the multirun `config` describes and write its link file."""
    from mlflow import MlflowClient

    from stockml.tracking.run_logging import experiment_id

    base = [str(o) for o in config.hydra.overrides.task]
    sweep_dir = Path(str(config.hydra.sweep.dir))
    name = f"sweep {describe(override_pairs(base))} {datetime.now():%Y-%m-%d %H:%M:%S}"
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default="")).rsplit(".")[-1]
    experiment = experiment_id(config.tracking)
    client = MlflowClient(tracking_uri=str(config.tracking.uri))
    run = client.create_run(
        experiment,
        run_name=" ".join(name.split()),
        tags={"sweep_dir": str(sweep_dir.resolve()), "sweeper": sweeper, "sweep_role": "parent"},
    )
    link = SweepLink(run.info.run_id, experiment, str(config.tracking.uri), base)
    link.write(sweep_dir)
    log.info("MLflow: sweep run %s (%s)", run.info.run_id, name)
    return link


def sweep_jobs(sweep_dir: Path) -> list[JobResult]:
    """Every job of this sweep that wrote its metrics.json, in job order."""
    found = (JobResult.read(path.parent) for path in sweep_dir.rglob(METRICS_FILE))
    return sorted((job for job in found if job is not None), key=lambda job: str(job.run_dir))


def best_jobs(sweep_dir: Path, jobs: list[JobResult]) -> list[JobResult]:
    """The Optuna sweeper's best trial (or Pareto front) when it wrote its results, else the
    job with the best finite value by the optimised metric's own sense."""
    results_path = sweep_dir / RESULTS_FILE
    if results_path.is_file():
        results = yaml.safe_load(results_path.read_text()) or {}
        run_dirs = [s.get("run_dir") for s in results.get("solutions") or []]
        run_dirs = run_dirs or [results.get("best_run_dir")]
        found = (JobResult.read(Path(d)) for d in run_dirs if d)
        return [job for job in found if job is not None]
    from stockml.config_checks import metric_direction

    scored = [job for job in jobs if job.value is not None]
    if not scored:
        return []
    sign = 1.0 if metric_direction(scored[0].metrics[0]) == "maximize" else -1.0
    return [max(scored, key=lambda job: sign * job.value)]


def finish_sweep(link: SweepLink, sweep_dir: Path, status: str) -> None:
    """Log the sweep's outcome into the parent run and end it with `status`, even when
    logging the outcome fails: a parent left RUNNING reads as a sweep still going."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=link.tracking_uri)
    try:
        _log_outcome(client, link, sweep_dir)
    finally:
        client.set_terminated(link.parent_run_id, status)


def _log_outcome(client: MlflowClient, link: SweepLink, sweep_dir: Path) -> None:
    """The best value(s), their overrides, the study's files and plots, and the best model.

    The model is logged only for a best trial this sweep ran. Sweeps sharing a study each
    name the study's best, which may be another live sweep's trial; refitting it here would
    reopen that run under its owner. The study's final best is already its best when its
    own sweep ends (every trial of that sweep is complete by then), so its owner logs it.
    """
    from mlflow.entities import Metric, Param, RunTag

    from stockml.tracking.best_model import log_best_model

    parent = link.parent_run_id
    jobs = sweep_jobs(sweep_dir)
    best = best_jobs(sweep_dir, jobs)
    stamp = int(datetime.now().timestamp() * 1000)
    metrics = [Metric("sweep_n_jobs", len(jobs), stamp, 0)]
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    for rank, job in enumerate(best):
        prefix = "best" if len(best) == 1 else f"pareto{rank}"
        metrics += [
            Metric(f"{prefix}_{name}", float(value), stamp, 0)
            for name, value in zip(job.metrics, job.values, strict=False)
            if isinstance(value, int | float) and math.isfinite(value)
        ]
        params |= {f"{prefix}.{k}": v for k, v in _job_pairs(job, link).items()}
        tags |= {f"{prefix}_run_dir": str(job.run_dir), f"{prefix}_run_id": job.run_id or ""}
    results_path = sweep_dir / RESULTS_FILE
    if results_path.is_file():
        results = yaml.safe_load(results_path.read_text()) or {}
        tags[STUDY_TAG] = str(results.get("name", ""))
        if results.get("best_trial_number") is not None:
            tags[f"{TRIAL_TAG}.best"] = str(results["best_trial_number"])
    client.log_batch(
        parent,
        metrics=metrics,
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    for name in SWEEP_FILES:
        if (sweep_dir / name).is_file():
            client.log_artifact(parent, str(sweep_dir / name))
    if (sweep_dir / PLOTS_DIR).is_dir():
        client.log_artifacts(parent, str(sweep_dir / PLOTS_DIR), artifact_path=PLOTS_DIR)
    own_dir = sweep_dir.resolve()
    for job in best:
        if job.run_id and job.run_dir.is_relative_to(own_dir):
            log_best_model(job.run_dir, job.run_id, link.tracking_uri)
    shown = ", ".join(f"{job.run_dir.name}: {job.values}" for job in best) or "none"
    log.info("MLflow: sweep run %s ended; best %s", parent, shown)


def _job_pairs(job: JobResult, link: SweepLink) -> dict[str, str]:
    """The overrides the sweep gave the job, from its Hydra snapshot."""
    path = job.run_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(path.read_text()) if path.is_file() else []
    return trial_pairs(overrides or [], link)
