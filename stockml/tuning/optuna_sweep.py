"""The sweep: ask Optuna for a batch of trials, launch them as Hydra jobs, tell the results.

Kept apart from the Hydra plugin so it can run with any `launch` callable. One study object
serves the whole sweep and nothing is imported per trial, so the sweeper adds little to
each trial beyond Optuna's own sampling and storage writes.

Everything that can be wrong with a sweep's settings (direction, search space, a study of
another problem) is refused before the first trial is asked, in one line.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from hydra.errors import CompactHydraException
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from stockml.messages import first_line
from stockml.tuning.optuna_study import database_storage, heartbeats, open_study
from stockml.tuning.param_space import suggest
from stockml.tuning.samplers import build_sampler, session_seed
from stockml.tuning.search_space import GridSpace, grid_points, grid_size
from stockml.tuning.study_identity import check_study_problem
from stockml.tuning.sweep_observer import SweepObserver
from stockml.tuning.sweep_plan import SweepPlan, SweepSettings, plan_sweep
from stockml.tuning.sweep_progress import log_best, progress, trial_links
from stockml.tuning.sweep_results import write_results

log = logging.getLogger(__name__)

Launch = Callable[[list[list[str]], int], Sequence[JobReturn]]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class SweepRefused(CompactHydraException):
    """The sweep's settings are wrong; nothing was launched. One line, no traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"stockml: error: {message}")


class TooManyFailedTrials(CompactHydraException):
    """More trials failed than `max_failure_rate` of `n_trials` allows; the sweep stopped.

    A CompactHydraException, so the command prints this one message, not a traceback.
    """


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C: the trials in flight were marked FAIL; the message says how to resume."""


@dataclass
class SweepOutcome:
    """The study the sweep added to, and how many of this sweep's trials ran and failed."""

    study: optuna.Study
    planned: int = 0
    n_trials: int = 0
    n_failed: int = 0
    sampler_seed: int | None = None
    results_file: Path | None = field(default=None)


def run_sweep(
    settings: SweepSettings,
    arguments: Sequence[str],
    config: Any,
    launch: Launch,
    sweep_dir: Path,
    parser: OverridesParser | None = None,
    observers: Sequence[SweepObserver] = (),
) -> SweepOutcome:
    """Run the whole sweep and write `optimization_results.yaml` into `sweep_dir`.

    `observers` are told about the sweep's start, each trial and its end (see SweepObserver).
    """
    try:
        plan = plan_sweep(settings, arguments, config, parser)
    except ValueError as exc:
        raise SweepRefused(first_line(exc)) from exc
    storage = database_storage(settings.storage, settings.heartbeat_interval, settings.grace_period)
    study = open_study(
        settings.study_name, storage, plan.directions, build_sampler(settings.sampler, plan.grid)
    )
    if plan.problem is not None:
        try:
            check_study_problem(study, plan.problem)
        except ValueError as exc:
            raise SweepRefused(first_line(exc)) from exc
    log.info("Study %s: %s, sampler %s", study.study_name, plan.directions,
             type(study.sampler).__name__)  # fmt: skip

    outcome = SweepOutcome(study, planned=_remaining(settings.n_trials, study, plan.grid))
    session = _Session(settings, plan, study, storage, launch, outcome, config, observers)
    for observer in observers:
        observer.on_sweep_start(study, sweep_dir)
    try:
        while (batch_size := min(settings.n_jobs, outcome.planned - outcome.n_trials)) > 0:
            session.run_batch(batch_size)
            _check_failure_budget(settings, outcome)
    except KeyboardInterrupt:
        raise SweepInterrupted(
            f"stockml: sweep interrupted; its running trials are marked FAIL in study "
            f"{study.study_name!r}. Run the same command to resume it."
        ) from None
    finally:
        outcome.results_file = write_results(study, sweep_dir, outcome.n_trials, outcome.n_failed)
        for observer in observers:
            observer.on_sweep_end(study, sweep_dir)
    log_best(study)
    return outcome


def _remaining(n_trials: int, study: optuna.Study, grid: GridSpace | None) -> int:
    """This sweep's trials: `n_trials`, fewer when a grid has fewer unvisited points."""
    if grid is None:
        return n_trials
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    return min(n_trials, grid_size(grid) - len(grid_points((t.params for t in finished), grid)))


@dataclass
class _Session:
    """One sweep's state while it asks, launches and tells."""

    settings: SweepSettings
    plan: SweepPlan
    study: optuna.Study
    storage: RDBStorage | None
    launch: Launch
    outcome: SweepOutcome
    config: Any
    observers: Sequence[SweepObserver]
    seeded: bool = False

    def prepare(self, trial: optuna.Trial) -> None:
        """Suggest every param of a new trial; the session's first trial seeds the sampler.

        The seed comes from the configured seed and the first trial's number (unique in the
        study), so no two sessions, sequential or concurrent, draw the same points.
        """
        if not self.seeded:
            self.seeded = True
            seed = session_seed(self.settings.sampler, trial.number)
            if seed != self.settings.sampler.get("seed"):
                config = {**self.settings.sampler, "seed": seed}
                self.study.sampler = build_sampler(config, self.plan.grid)
            self.outcome.sampler_seed = seed
            if seed is not None:
                log.info("sampler seed %s (configured %s, first trial #%d)", seed,
                         self.settings.sampler.get("seed"), trial.number)  # fmt: skip
        if self.outcome.sampler_seed is not None:
            trial.set_user_attr("sampler_seed", self.outcome.sampler_seed)
        for name, distribution in self.plan.space.distributions.items():
            suggest(trial, name, distribution)
        if self.plan.custom is not None:
            self.plan.custom(self.config, trial)

    def run_batch(self, batch_size: int) -> None:
        """Ask, launch and tell one batch; every asked trial is told, even when something
        raises (Ctrl-C included: its trials are told FAIL with `failure: interrupted`)."""
        trials: list[optuna.Trial] = []
        try:
            for _ in range(batch_size):
                with warnings.catch_warnings():  # the sweep records the heartbeats itself
                    warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
                    trials.append(self.study.ask())
                self.prepare(trials[-1])
            batch = [self.plan.space.overrides(t.params) + self._extra(t) for t in trials]
            with heartbeats(self.storage, self.study, trials):
                returns = self.launch(batch, self.outcome.n_trials)
        except BaseException as exc:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else first_line(exc)
            for trial in trials:
                trial.set_user_attr("failure", reason)
                self.study.tell(trial, state=TrialState.FAIL)
            raise
        first = self.outcome.n_trials
        self.outcome.n_trials += len(trials)
        for done, (trial, job) in enumerate(zip(trials, returns, strict=True), start=1):
            self._tell(trial, job, f"trial {first + done}/{self.outcome.planned}")

    def _extra(self, trial: optuna.Trial) -> list[str]:
        return [o for observer in self.observers for o in observer.trial_overrides(trial)]

    def _tell(self, trial: optuna.Trial, job: JobReturn, counter: str) -> None:
        for key, value in trial_links(job).items():
            trial.set_user_attr(key, value)
        values, failure = _job_values(job, len(self.study.directions))
        if failure is None:
            frozen = self.study.tell(trial, values)
            log.info("%s (#%d) %s", counter, trial.number, progress(self.study, values))
        else:
            self.outcome.n_failed += 1
            trial.set_user_attr("failure", failure)
            frozen = self.study.tell(trial, state=TrialState.FAIL)
            log.warning("%s (#%d) failed: %s (overrides %s)", counter, trial.number, failure,
                        job.overrides)  # fmt: skip
        for observer in self.observers:
            observer.on_trial_end(frozen, job)


def _job_values(job: JobReturn, n_objectives: int) -> tuple[list[float], str | None]:
    """The objective values a job returned, or why the trial counts as failed."""
    try:
        value = job.return_value  # re-raises the task's exception for a failed job
    except CompactHydraException as error:  # already a message for the user, e.g. stockml's
        return [], first_line(error)
    except Exception as error:
        return [], f"{type(error).__name__}: {first_line(error)}"
    raw = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(raw) != n_objectives or not all(isinstance(v, Real) for v in raw):
        return [], f"expected {n_objectives} number(s) from the task function, got {value!r}"
    values = [float(v) for v in raw]
    if not all(math.isfinite(v) for v in values):
        return [], f"non-finite objective value {values}"
    return values, None


def _check_failure_budget(settings: SweepSettings, outcome: SweepOutcome) -> None:
    """Stop once the failures can no longer stay within max_failure_rate × the planned trials.

    The budget is fixed when the sweep starts, so one early failure in a long sweep only
    spends part of it instead of tripping a rate computed over the few trials run so far.
    """
    allowed = math.floor(settings.max_failure_rate * outcome.planned + 1e-9)
    if outcome.n_failed > allowed:
        raise TooManyFailedTrials(
            f"stockml: error: {outcome.n_failed} of {outcome.n_trials} trials failed, more than "
            f"the {allowed} that max_failure_rate={settings.max_failure_rate} allows for "
            f"{outcome.planned} trials; stopped the sweep (failures are logged above and kept "
            f"in study {outcome.study.study_name!r})"
        )
