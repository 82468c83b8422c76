"""What the tracking side does inside stockml's Optuna sweep (a `SweepObserver`).

It tells each trial's job its Optuna trial number and study name (through
`hydra.job.env_set`, which changes neither the job's config nor its overrides), so the trial
names its own MLflow run `t07 model.alpha=0.31` and tags it; and at the end it draws the
study's plots into the sweep directory, where the sweep's parent run picks them up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf

from stockml.sweep_files import PLOTS_DIR
from stockml.tracking.identity import STUDY_ENV, TRIAL_ENV
from stockml.tracking.study_plots import write_study_plots
from stockml.tuning.sweep_observer import SweepObserver


class TrackingObserver(SweepObserver):
    def __init__(self, objective_names: list[str]) -> None:
        self.objective_names = objective_names
        self.study_name = ""

    def on_sweep_start(self, study: optuna.Study, sweep_dir: Path) -> None:
        self.study_name = study.study_name

    def trial_overrides(self, trial: optuna.Trial) -> list[str]:
        return [
            f"++hydra.job.env_set.{TRIAL_ENV}={trial.number}",
            f"++hydra.job.env_set.{STUDY_ENV}='{self.study_name}'",
        ]

    def on_sweep_end(self, study: optuna.Study, sweep_dir: Path) -> None:
        names = self.objective_names
        if len(names) != len(study.directions):
            names = [f"objective_{i}" for i in range(len(study.directions))]
        write_study_plots(study, sweep_dir / PLOTS_DIR, names)


def observer_for(config: Any) -> TrackingObserver:
    """The `hydra.sweeper.observers` factory: one observer per sweep, tracking on or off (the
    plots are files in the sweep directory either way)."""
    metric = OmegaConf.select(config, "optimized_metric", default="objective")
    names = list(metric) if OmegaConf.is_list(metric) or isinstance(metric, list) else [metric]
    return TrackingObserver([str(name) for name in names])
