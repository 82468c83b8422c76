"""The ask/launch/tell loop with an in-process fake launcher: fast checks of its bookkeeping."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf
from optuna.trial import TrialState

from stockml.errors import StockmlError
from stockml.tuning.optuna_sweep import SweepRefused, TooManyFailedTrials, run_sweep
from stockml.tuning.samplers import GridSamplerConfig, RandomSamplerConfig, TPESamplerConfig
from stockml.tuning.sweep_observer import SweepObserver, build_observers
from stockml.tuning.sweep_plan import SweepSettings

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

    message = r"^stockml: error: 4 of 4 trials failed, more than the 2 that max_failure_rate=0.5 "
    with pytest.raises(TooManyFailedTrials, match=message):
        run_sweep(settings(max_failure_rate=0.5), [], None, FakeLauncher(always), tmp_path)
    stopped = yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())
    assert (stopped["n_trials"], stopped["n_failed"]) == (4, 4)  # written although it stopped


def test_one_early_failure_spends_the_budget_of_a_long_sweep_without_stopping_it(
    tmp_path: Path,
) -> None:
    def first_fails(params: dict[str, str]) -> float:
        if launch.batches == [(2, 0)] and first_fails.calls == 0:
            first_fails.calls += 1
            raise RuntimeError("one bad trial")
        return quadratic(params)

    first_fails.calls = 0  # type: ignore[attr-defined]
    launch = FakeLauncher(first_fails)
    sweep = settings(n_trials=12, n_jobs=2, max_failure_rate=0.25)
    outcome = run_sweep(sweep, [], None, launch, tmp_path)
    assert (outcome.n_trials, outcome.n_failed) == (12, 1)  # 1 of 2 failed after batch one


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
    with pytest.raises(SweepRefused, match="direction must be minimize, maximize"):
        run_sweep(settings(direction="down"), [], None, FakeLauncher(quadratic), tmp_path)


class RecordingObserver(SweepObserver):
    """Notes every hook call, and adds one override per trial."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_sweep_start(self, study: optuna.Study, sweep_dir: Path) -> None:
        self.calls.append(("start", len(study.trials)))

    def trial_overrides(self, trial: optuna.Trial) -> list[str]:
        return [f"+trial_number={trial.number}"]

    def on_trial_end(self, trial: optuna.trial.FrozenTrial, job: JobReturn) -> None:
        self.calls.append(("trial", (trial.number, trial.state, dict(trial.user_attrs))))

    def on_sweep_end(self, study: optuna.Study, sweep_dir: Path) -> None:
        written = (sweep_dir / "optimization_results.yaml").is_file()
        self.calls.append(("end", (len(study.trials), written)))


class RunDirLauncher(FakeLauncher):
    """Like Hydra's launchers: each job has a run directory; some hold a metrics.json."""

    def __init__(self, objective: Objective, root: Path) -> None:
        super().__init__(objective)
        self.root = root

    def __call__(self, batch: list[list[str]], first_job: int) -> Sequence[JobReturn]:
        returns = super().__call__(batch, first_job)
        for number, job in enumerate(returns, start=first_job):
            run_dir = self.root / str(number)
            run_dir.mkdir(parents=True)
            if number % 2 == 0:
                run_id = {"mlflow_run_id": f"run{number}"}
                (run_dir / "metrics.json").write_text(json.dumps(run_id))
            job.hydra_cfg = OmegaConf.create({"hydra": {"runtime": {"output_dir": str(run_dir)}}})
        return returns


def test_observers_see_each_trial_with_its_run_dir_and_mlflow_run_id(tmp_path: Path) -> None:
    observer = RecordingObserver()
    launch = RunDirLauncher(quadratic, tmp_path / "runs")
    run_sweep(settings(n_trials=3), [], None, launch, tmp_path, observers=[observer])
    assert observer.calls[0] == ("start", 0) and observer.calls[-1] == ("end", (3, True))
    trials = [args for kind, args in observer.calls if kind == "trial"]
    assert [(number, state) for number, state, _ in trials] == [
        (n, TrialState.COMPLETE) for n in range(3)
    ]
    for number, _, attrs in trials:
        assert attrs["run_dir"] == str((tmp_path / "runs" / str(number)).resolve())
        assert attrs.get("mlflow_run_id") == (f"run{number}" if number % 2 == 0 else None)
    assert all(f"+trial_number={n}" in launch.overrides[n] for n in range(3))


def test_results_name_the_best_trial_its_run_dir_and_mlflow_run(tmp_path: Path) -> None:
    launch = RunDirLauncher(quadratic, tmp_path / "r")
    outcome = run_sweep(settings(n_trials=4), [], None, launch, tmp_path)
    best = outcome.study.best_trial
    results = yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())
    assert results["best_trial_number"] == best.number
    assert results["best_run_dir"] == str((tmp_path / "r" / str(best.number)).resolve())
    expected_run = f"run{best.number}" if best.number % 2 == 0 else None
    assert results["best_mlflow_run_id"] == expected_run


def test_progress_lines_show_the_running_best(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    values = iter([3.0, 1.0, 2.0])
    caplog.set_level("INFO", logger="stockml.tuning.optuna_sweep")
    run_sweep(settings(n_trials=3), [], None, FakeLauncher(lambda p: next(values)), tmp_path)
    lines = [r.getMessage() for r in caplog.records]
    assert "trial 1/3 (#0) value=3 best=3 (trial 0)" in lines
    assert "trial 2/3 (#1) value=1 best=1 (trial 1)" in lines
    assert "trial 3/3 (#2) value=2 best=1 (trial 1)" in lines
    assert any(line.startswith("best of study") and "trial 1 value=1" in line for line in lines)


def test_a_user_error_from_a_job_is_recorded_as_its_one_line_message(tmp_path: Path) -> None:
    def refused(params: dict[str, str]) -> float:
        raise StockmlError("data.path does not exist\nsecond line")

    outcome = run_sweep(settings(n_trials=1, n_jobs=1, max_failure_rate=1.0), [], None,
                        FakeLauncher(refused), tmp_path)  # fmt: skip
    assert (
        outcome.study.trials[0].user_attrs["failure"] == "stockml: error: data.path does not exist"
    )


def observer_factory(config: Any) -> SweepObserver | None:
    return RecordingObserver() if config.get("observe") else None


def test_observers_are_built_from_dotted_factories_that_may_decline() -> None:
    factory = f"{__name__}.observer_factory"
    assert build_observers([factory], OmegaConf.create({"observe": False})) == []
    built = build_observers([factory], OmegaConf.create({"observe": True}))
    assert [type(observer) for observer in built] == [RecordingObserver]
