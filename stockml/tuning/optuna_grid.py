"""Optuna's grid sampler, made safe to drive with ask-and-tell."""

from __future__ import annotations

from collections.abc import Sequence

from optuna import Study
from optuna.samplers import GridSampler
from optuna.trial import FrozenTrial, TrialState


class AskTellGridSampler(GridSampler):
    """Optuna's grid sampler minus its `Study.stop()` call when the grid runs out.

    `Study.stop()` raises outside `Study.optimize`, so a plain GridSampler makes the last
    `study.tell` fail; the sweep asks and tells trials itself and stops at the grid's size.
    """

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        return None
