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

from stockml.sweep_files import PLOTS_DIR
from stockml.tracking.identity import STUDY_ENV, TRIAL_ENV
from stockml.tracking.study_plots import objective_names, write_study_plots
from stockml.tuning.sweep_observer import SweepObserver


class TrackingObserver(SweepObserver):
    def __init__(self, config: Any) -> None:
        self.config = config  # the sweep's run config: its `optimized_metric` names the plots
        self.study_name = ""

    def on_sweep_start(self, study: optuna.Study, sweep_dir: Path) -> None:
        self.study_name = study.study_name

    def trial_overrides(self, trial: optuna.Trial) -> list[str]:
        return [
            f"++hydra.job.env_set.{TRIAL_ENV}={trial.number}",
            f"++hydra.job.env_set.{STUDY_ENV}='{self.study_name}'",
        ]

    def on_sweep_end(self, study: optuna.Study, sweep_dir: Path) -> None:
        write_study_plots(study, sweep_dir / PLOTS_DIR, objective_names(self.config, study))


def observer_for(config: Any) -> TrackingObserver:
    """The `hydra.sweeper.observers` factory: one observer per sweep, tracking on or off (the
    plots are files in the sweep directory either way)."""
    return TrackingObserver(config)
