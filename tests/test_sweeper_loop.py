"""The ask/launch/tell loop with an in-process fake launcher: fast checks of its bookkeeping."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from hydra.core.utils import JobReturn, JobStatus
from optuna.trial import TrialState

from stockml.tuning.optuna_sweep import SweepSettings, TooManyFailedTrials, run_sweep
from stockml.tuning.samplers import GridSamplerConfig, RandomSamplerConfig, TPESamplerConfig

Objective = Callable[[dict[str, str]], Any]


class FakeLauncher:
    """Runs each job in-process like Hydra's launchers: a raising job comes back FAILED."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.batches: list[tuple[int, int]] = []
        self.overrides: list[list[str]] = []

    def __call__(self, batch: list[list[str]], first_job: int) -> Sequence[JobReturn]:
        self.batches.append((len(batch), first_job))
        self.overrides.extend(batch)
        returns = []
        for overrides in batch:
            job = JobReturn(overrides=overrides)
            try:
                job.return_value = self.objective(dict(o.split("=", 1) for o in overrides))
                job.status = JobStatus.COMPLETED
            except Exception as exc:
                job.return_value = exc
                job.status = JobStatus.FAILED
            returns.append(job)
        return returns


def quadratic(params: dict[str, str]) -> float:
    return (float(params["x"]) - 1.0) ** 2


def settings(**overrides: Any) -> SweepSettings:
    options: dict[str, Any] = {
        "sampler": vars(RandomSamplerConfig(seed=0)),
        "params": {"x": "interval(-2, 3)"},
        "n_trials": 5,
        "n_jobs": 2,
    }
    options.update(overrides)
    return SweepSettings(**options)


def test_trials_run_in_batches_of_n_jobs_and_stop_at_n_trials(tmp_path: Path) -> None:
    launch = FakeLauncher(quadratic)
    outcome = run_sweep(settings(n_trials=5, n_jobs=2), [], None, launch, tmp_path)
    assert launch.batches == [(2, 0), (2, 2), (1, 4)]
    assert (outcome.n_trials, outcome.n_failed) == (5, 0)
    values = [t.value for t in outcome.study.trials]
    results = yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())
    assert results["best_value"] == min(values)
    assert results["best_params"] == outcome.study.best_params
    assert (results["n_trials"], results["n_failed"], results["direction"]) == (5, 0, "minimize")


def test_failed_and_non_finite_trials_fail_while_the_sweep_goes_on(tmp_path: Path) -> None:
    def flaky(params: dict[str, str]) -> Any:
        x = float(params["x"])
        if x > 1.5:
            raise RuntimeError("boom")
        return math.nan if x < -1 else [x] if x > 1 else x

    sweep = settings(n_trials=12, max_failure_rate=1.0, sampler=vars(RandomSamplerConfig(seed=3)))
    outcome = run_sweep(sweep, [], None, FakeLauncher(flaky), tmp_path)
    failed = outcome.study.get_trials(states=(TrialState.FAIL,))
    assert outcome.n_trials == 12 and outcome.n_failed == len(failed) > 0
    reasons = {t.user_attrs["failure"].split(":")[0] for t in failed}
    assert reasons <= {"RuntimeError", "non-finite objective value [nan]"}
    assert all(t.value is not None for t in outcome.study.get_trials(states=(TrialState.COMPLETE,)))


def test_a_list_from_a_single_objective_task_fails_unless_it_has_one_number(tmp_path: Path) -> None:
    sweep = settings(n_trials=2, max_failure_rate=1.0)
    outcome = run_sweep(sweep, [], None, FakeLauncher(lambda p: [1.0, 2.0]), tmp_path)
    assert outcome.n_failed == 2
    assert "expected 1 number(s)" in outcome.study.trials[0].user_attrs["failure"]


def test_exceeding_max_failure_rate_stops_with_a_clear_error(tmp_path: Path) -> None:
    def always(params: dict[str, str]) -> float:
        raise ValueError("bad data")

    with pytest.raises(TooManyFailedTrials, match=r"2 of 2 trials failed \(rate 1.00 > max_"):
        run_sweep(settings(max_failure_rate=0.5), [], None, FakeLauncher(always), tmp_path)


def broken_launcher(batch: list[list[str]], first_job: int) -> Sequence[JobReturn]:
    raise KeyError("cannot compose")


def broken_search_space(cfg: Any, trial: optuna.Trial) -> None:
    raise KeyError("no such param")


@pytest.mark.parametrize(
    ("launch", "custom"),
    [(broken_launcher, None), (FakeLauncher(quadratic), f"{__name__}.broken_search_space")],
)
def test_an_error_outside_the_jobs_leaves_no_trial_running(
    tmp_path: Path, launch: Any, custom: str | None
) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    sweep = settings(storage=storage, study_name="s", custom_search_space=custom)
    with pytest.raises(KeyError):
        run_sweep(sweep, [], None, launch, tmp_path)
    states = {t.state for t in optuna.load_study(study_name="s", storage=storage).trials}
    assert states == {TrialState.FAIL}


def test_grid_stops_when_exhausted_also_across_resumed_sweeps(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'grid.db'}"
    grid = settings(
        sampler=vars(GridSamplerConfig()), params={"c": "a,b"}, storage=storage, study_name="g"
    )
    arguments = ["n=range(1,4)"]
    first = FakeLauncher(lambda p: float(p["n"]))
    run_sweep(replace(grid, n_trials=4), arguments, None, first, tmp_path)
    second = FakeLauncher(lambda p: float(p["n"]))
    run_sweep(replace(grid, n_trials=100), arguments, None, second, tmp_path)
    seen = {tuple(o) for o in first.overrides + second.overrides}
    assert (len(first.overrides), len(second.overrides), len(seen)) == (4, 2, 6)


def suggest_momentum(cfg: Any, trial: optuna.Trial) -> None:
    """A custom search space: momentum exists only for the sgd optimizer."""
    if trial.params["opt"] == "sgd":
        trial.suggest_float("momentum", 0.0, 0.9)


def test_custom_search_space_adds_conditional_params(tmp_path: Path) -> None:
    sweep = settings(
        sampler=vars(TPESamplerConfig(seed=1)),
        params={"opt": "choice(adam, sgd)"},
        custom_search_space=f"{__name__}.suggest_momentum",
        n_trials=8,
    )
    launch = FakeLauncher(lambda p: float(p.get("momentum", 1.0)))
    run_sweep(sweep, [], None, launch, tmp_path)
    for overrides in launch.overrides:
        assert any(o.startswith("momentum=") for o in overrides) == ("opt=sgd" in overrides)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"n_trials": 0}, "n_trials and n_jobs must be >= 1"),
        ({"n_jobs": 0}, "n_trials and n_jobs must be >= 1"),
        ({"max_failure_rate": 1.5}, r"max_failure_rate must be in \[0, 1\]"),
    ],
)
def test_settings_are_checked_before_any_trial(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**bad)


def test_bad_direction_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="direction must be minimize, maximize"):
        run_sweep(settings(direction="down"), [], None, FakeLauncher(quadratic), tmp_path)
