"""Hooks that let other parts of stockml follow a sweep without editing the sweep loop.

MLflow parent/nested runs, plots and links live elsewhere; the loop only calls these methods
at fixed points. The base class does nothing, so an observer overrides only what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn
from hydra.utils import get_method
from optuna.trial import FrozenTrial


class SweepObserver:
    """Called by `run_sweep`: once at the start, per trial (before launch, after tell), at the end.

    Observers run in the sweeping process; an exception from one stops the sweep, as any bug.
    """

    def on_sweep_start(self, study: optuna.Study, sweep_dir: Path) -> None:
        """The study is open and no trial of this sweep has been asked yet."""

    def trial_overrides(self, trial: optuna.Trial) -> list[str]:
        """Extra Hydra overrides for this trial's job (e.g. a parent run id); none by default."""
        return []

    def on_trial_end(self, trial: FrozenTrial, job: JobReturn) -> None:
        """The trial was told (COMPLETE or FAIL); `job` is what the launcher returned."""

    def on_sweep_end(self, study: optuna.Study, sweep_dir: Path) -> None:
        """`optimization_results.yaml` is written; also called when the sweep stops early."""


def build_observers(factories: Sequence[str], config: Any) -> list[SweepObserver]:
    """Call each `hydra.sweeper.observers` factory with the composed task config.

    A factory returns None when it has nothing to do for this config (tracking off, say).
    """
    built = (get_method(path)(config) for path in factories)
    return [observer for observer in built if observer is not None]
