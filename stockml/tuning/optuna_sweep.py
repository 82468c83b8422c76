"""The sweep: ask Optuna for a batch of trials, launch them as Hydra jobs, tell the results.

Kept apart from the Hydra plugin so it can run with any `launch` callable. One study object
serves the whole sweep and nothing is imported per trial, so the sweeper adds little to
each trial beyond Optuna's own sampling and storage writes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from hydra.errors import CompactHydraException
from hydra.utils import get_method
from omegaconf import OmegaConf
from optuna.trial import TrialState

from stockml.run_files import METRICS_FILE
from stockml.tuning.optuna_study import normalize_directions, open_study
from stockml.tuning.samplers import build_sampler, is_grid
from stockml.tuning.search_space import (
    GridSpace,
    SearchSpace,
    build_search_space,
    grid_points,
    grid_size,
)
from stockml.tuning.sweep_observer import SweepObserver
from stockml.tuning.sweep_results import write_results

log = logging.getLogger(__name__)

Launch = Callable[[list[list[str]], int], Sequence[JobReturn]]
CustomSearchSpace = Callable[[Any, optuna.Trial], None]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class TooManyFailedTrials(CompactHydraException):
    """More trials failed than `max_failure_rate` allows; the sweep stopped.

    A CompactHydraException, so the command prints this one message, not a traceback.
    """


@dataclass(frozen=True)
class SweepSettings:
    """The `hydra.sweeper` keys, checked once before any trial runs."""

    sampler: Mapping[str, Any]
    direction: str | Sequence[str] = "minimize"
    study_name: str | None = None
    storage: str | None = None
    n_trials: int = 20
    n_jobs: int = 2
    max_failure_rate: float = 0.0
    params: Mapping[str, str] | None = None
    custom_search_space: str | None = None

    def __post_init__(self) -> None:
        if self.n_trials < 1 or self.n_jobs < 1:
            raise ValueError(f"n_trials and n_jobs must be >= 1, got {self.n_trials}/{self.n_jobs}")
        if not 0.0 <= self.max_failure_rate <= 1.0:
            raise ValueError(f"max_failure_rate must be in [0, 1], got {self.max_failure_rate}")


@dataclass
class SweepOutcome:
    """The study the sweep added to, and how many of this sweep's trials ran and failed."""

    study: optuna.Study
    planned: int = 0
    n_trials: int = 0
    n_failed: int = 0
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
    space = build_search_space(settings.params, arguments, parser)
    directions = normalize_directions(settings.direction)
    grid = _grid(settings.sampler, space)
    if grid is not None:
        space = space.with_choices(grid)
    sampler = build_sampler(settings.sampler, grid)
    study = open_study(settings.study_name, settings.storage, directions, sampler)
    custom = get_method(settings.custom_search_space) if settings.custom_search_space else None
    log.info("Study %s: %s, sampler %s", study.study_name, directions, type(sampler).__name__)

    outcome = SweepOutcome(study, planned=settings.n_trials)
    for observer in observers:
        observer.on_sweep_start(study, sweep_dir)
    while (batch_size := _next_batch_size(settings, outcome, grid)) > 0:
        _run_batch(study, batch_size, space, launch, outcome, custom, config, observers)
        _check_failure_rate(settings, outcome)
    outcome.results_file = write_results(study, sweep_dir, outcome.n_trials, outcome.n_failed)
    _log_best(study)
    for observer in observers:
        observer.on_sweep_end(study, sweep_dir)
    return outcome


def _grid(sampler: Mapping[str, Any], space: SearchSpace) -> GridSpace | None:
    """The grid a grid sampler walks: its configured `search_space`, else the sweep params."""
    if not is_grid(sampler):
        return None
    configured = sampler.get("search_space")
    return {str(k): list(v) for k, v in configured.items()} if configured else space.grid()


def _next_batch_size(settings: SweepSettings, outcome: SweepOutcome, grid: GridSpace | None) -> int:
    remaining = settings.n_trials - outcome.n_trials
    if grid is not None and remaining > 0:
        finished = outcome.study.get_trials(deepcopy=False, states=FINISHED)
        visited = grid_points((t.params for t in finished), grid)
        remaining = min(remaining, grid_size(grid) - len(visited))
    return min(settings.n_jobs, remaining)


def _run_batch(
    study: optuna.Study,
    batch_size: int,
    space: SearchSpace,
    launch: Launch,
    outcome: SweepOutcome,
    custom: CustomSearchSpace | None,
    config: Any,
    observers: Sequence[SweepObserver],
) -> None:
    """Ask, launch and tell one batch; every asked trial is told, even when something raises."""
    trials: list[optuna.Trial] = []
    try:
        for _ in range(batch_size):
            trials.append(study.ask(fixed_distributions=space.distributions))
            if custom is not None:
                custom(config, trials[-1])
        batch = [space.overrides(trial.params) + _extra(observers, trial) for trial in trials]
        returns = launch(batch, outcome.n_trials)
    except BaseException:
        for trial in trials:
            study.tell(trial, state=TrialState.FAIL)
        raise
    outcome.n_trials += len(trials)
    n_objectives = len(study.directions)
    for done, (trial, job) in enumerate(zip(trials, returns, strict=True), start=1):
        for key, value in trial_links(job).items():
            trial.set_user_attr(key, value)
        values, failure = _job_values(job, n_objectives)
        progress = f"trial {outcome.n_trials - len(trials) + done}/{outcome.planned}"
        if failure is None:
            frozen = study.tell(trial, values)
            log.info("%s (#%d) %s", progress, trial.number, _progress(study, values))
        else:
            outcome.n_failed += 1
            trial.set_user_attr("failure", failure)
            frozen = study.tell(trial, state=TrialState.FAIL)
            log.warning("%s (#%d) failed: %s (overrides %s)", progress, trial.number, failure,
                        job.overrides)  # fmt: skip
        for observer in observers:
            observer.on_trial_end(frozen, job)


def _extra(observers: Sequence[SweepObserver], trial: optuna.Trial) -> list[str]:
    return [override for observer in observers for override in observer.trial_overrides(trial)]


def trial_links(job: JobReturn) -> dict[str, str]:
    """Where a trial's results are: its run directory and, when tracked, its MLflow run id."""
    run_dir = trial_run_dir(job)
    if run_dir is None:
        return {}
    links = {"run_dir": str(run_dir)}
    metrics_file = run_dir / METRICS_FILE
    if metrics_file.is_file():
        try:
            run_id = json.loads(metrics_file.read_text()).get("mlflow_run_id")
        except (OSError, ValueError):
            run_id = None
        if run_id:
            links["mlflow_run_id"] = str(run_id)
    return links


def trial_run_dir(job: JobReturn) -> Path | None:
    """The job's run directory: Hydra's `runtime.output_dir` (`job.working_dir` is only that
    directory with `hydra.job.chdir=true`; stockml keeps the cwd)."""
    if job.hydra_cfg is None:
        return None
    output_dir = OmegaConf.select(job.hydra_cfg, "hydra.runtime.output_dir")
    return Path(output_dir).resolve() if output_dir else None


def _progress(study: optuna.Study, values: list[float]) -> str:
    """`value=... best=... (trial N)`, or the values and the Pareto front's size."""
    if len(values) > 1:
        shown = ", ".join(f"{v:.6g}" for v in values)
        return f"values=[{shown}] pareto front: {len(study.best_trials)} trial(s)"
    best = study.best_trial
    return f"value={values[0]:.6g} best={best.value:.6g} (trial {best.number})"


def _log_best(study: optuna.Study) -> None:
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
    log.info("best of study %s: trial %d value=%.6g %s %s", study.study_name, best.number,
             best.value, best.params, where)  # fmt: skip


def _job_values(job: JobReturn, n_objectives: int) -> tuple[list[float], str | None]:
    """The objective values a job returned, or why the trial counts as failed."""
    try:
        value = job.return_value  # re-raises the task's exception for a failed job
    except Exception as error:
        return [], f"{type(error).__name__}: {error}"
    raw = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(raw) != n_objectives or not all(isinstance(v, Real) for v in raw):
        return [], f"expected {n_objectives} number(s) from the task function, got {value!r}"
    values = [float(v) for v in raw]
    if not all(math.isfinite(v) for v in values):
        return [], f"non-finite objective value {values}"
    return values, None


def _check_failure_rate(settings: SweepSettings, outcome: SweepOutcome) -> None:
    rate = outcome.n_failed / outcome.n_trials
    if rate > settings.max_failure_rate:
        raise TooManyFailedTrials(
            f"{outcome.n_failed} of {outcome.n_trials} trials failed (rate {rate:.2f} > "
            f"max_failure_rate {settings.max_failure_rate}); stopping the sweep. "
            f"The failures are logged above and kept in study {outcome.study.study_name!r}."
        )
