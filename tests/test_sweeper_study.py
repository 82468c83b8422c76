"""The study a sweep adds to: no replayed points, one problem per study, no trial left
RUNNING by a killed or interrupted sweep. In-process, with the fake launcher."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from omegaconf import OmegaConf
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RDBStorage
from optuna.trial import TrialState
from test_sweeper_loop import FakeLauncher, quadratic, settings

from stockml.tuning.optuna_sweep import SweepInterrupted, SweepRefused, run_sweep
from stockml.tuning.samplers import RandomSamplerConfig, TPESamplerConfig
from stockml.tuning.study_identity import problem_of


def storage_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'optuna.db'}"


def params_of(launch: FakeLauncher) -> list[tuple[str, ...]]:
    return [tuple(sorted(overrides)) for overrides in launch.overrides]


@pytest.mark.parametrize("sampler", [RandomSamplerConfig(seed=7), TPESamplerConfig(seed=7)])
def test_two_sweeps_on_one_study_never_propose_the_same_points(tmp_path: Path, sampler) -> None:
    sweep = settings(sampler=vars(sampler), storage=storage_url(tmp_path), study_name="s")
    first, second = FakeLauncher(quadratic), FakeLauncher(quadratic)
    run_sweep(sweep, [], None, first, tmp_path)
    run_sweep(sweep, [], None, second, tmp_path)
    assert len(set(params_of(first)) | set(params_of(second))) == 10
    study = optuna.load_study(study_name="s", storage=storage_url(tmp_path))
    seeds = [t.user_attrs["sampler_seed"] for t in study.trials]
    assert seeds[:5] == [seeds[0]] * 5 and seeds[5:] == [seeds[5]] * 5 and seeds[0] != seeds[5]


def test_the_same_config_and_study_history_give_the_same_points(tmp_path: Path) -> None:
    runs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        sweep = settings(storage=storage_url(tmp_path / folder), study_name="s")
        launches = [FakeLauncher(quadratic), FakeLauncher(quadratic)]
        for launch in launches:
            run_sweep(sweep, [], None, launch, tmp_path / folder)
        runs.append([params_of(launch) for launch in launches])
    assert runs[0] == runs[1]


def task_config(**changes: Any) -> Any:
    config = OmegaConf.create(
        {
            "seed": 1,
            "optimized_metric": "cv_ic_mean",
            "data": {"path": "prices_a.csv", "tickers": ["AAPL"]},
            "features": {"preset": "minimal"},
            "model": {"_target_": "Ridge", "alpha": 1.0, "random_state": "${seed}"},
            "tracking": {"enabled": False},
            "x": 0.0,
        }
    )
    for key, value in changes.items():
        OmegaConf.update(config, key, value)
    return config


def test_resuming_a_study_on_another_problem_is_refused_before_any_trial(tmp_path: Path) -> None:
    sweep = settings(storage=storage_url(tmp_path), study_name="ridge", direction=None)
    run_sweep(sweep, [], task_config(), FakeLauncher(lambda p: -quadratic(p)), tmp_path)
    # What may change between sessions: the seed, the swept param's default, tracking.
    same = task_config(seed=2, x=5.0, **{"tracking.enabled": True})
    run_sweep(sweep, [], same, FakeLauncher(lambda p: -quadratic(p)), tmp_path)
    other = FakeLauncher(quadratic)
    with pytest.raises(SweepRefused) as refused:
        run_sweep(sweep, [], task_config(**{"data.path": "prices_b.csv"}), other, tmp_path)
    message = str(refused.value)
    assert message.count("\n") == 0 and message.count("stockml: error:") == 1
    assert "study 'ridge' was run on a different problem" in message
    assert "data.path: 'prices_a.csv' -> 'prices_b.csv'" in message
    assert "hydra.sweeper.study_name=" in message
    assert other.batches == []
    assert len(optuna.load_study(study_name="ridge", storage=storage_url(tmp_path)).trials) == 10


def test_a_trial_left_running_by_a_killed_sweep_is_failed_when_the_study_is_reopened(
    tmp_path: Path,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        storage = RDBStorage(storage_url(tmp_path), heartbeat_interval=1, grace_period=1)
    killed = optuna.create_study(study_name="s", storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        orphan = killed.ask()
    storage.record_heartbeat(orphan._trial_id)  # its sweep beat once, then died
    time.sleep(2.5)
    sweep = settings(storage=storage_url(tmp_path), study_name="s", heartbeat_interval=1,
                     grace_period=1, n_trials=2)  # fmt: skip
    outcome = run_sweep(sweep, [], None, FakeLauncher(quadratic), tmp_path)
    states = [t.state for t in outcome.study.trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]


def test_a_running_trial_keeps_its_heartbeat_so_another_sweep_leaves_it_alone(
    tmp_path: Path,
) -> None:
    sweep = settings(storage=storage_url(tmp_path), study_name="s", heartbeat_interval=1,
                     grace_period=2, n_trials=1, n_jobs=1)  # fmt: skip
    seen: list[list[TrialState]] = []

    def slow_while_another_sweep_opens_the_study(params: dict[str, str]) -> float:
        time.sleep(3.5)  # longer than the grace period: only the heartbeat keeps it alive
        seen.append([t.state for t in run_sweep(sweep, [], None, FakeLauncher(quadratic),
                                                tmp_path / "other").study.trials])  # fmt: skip
        return quadratic(params)

    run_sweep(sweep, [], None, FakeLauncher(slow_while_another_sweep_opens_the_study), tmp_path)
    assert seen == [[TrialState.RUNNING, TrialState.COMPLETE]]


def test_ctrl_c_fails_the_trials_in_flight_and_the_next_sweep_resumes(tmp_path: Path) -> None:
    def interrupted(batch: list[list[str]], first_job: int) -> Any:
        raise KeyboardInterrupt

    sweep = settings(storage=storage_url(tmp_path), study_name="s", n_trials=4)
    with pytest.raises(SweepInterrupted, match="Run the same command to resume it"):
        run_sweep(sweep, [], None, interrupted, tmp_path)
    assert yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())["n_trials"] == 0
    outcome = run_sweep(sweep, [], None, FakeLauncher(quadratic), tmp_path)
    trials = outcome.study.trials
    assert [t.user_attrs.get("failure") for t in trials[:2]] == ["interrupted"] * 2
    assert [t.state for t in trials] == [TrialState.FAIL] * 2 + [TrialState.COMPLETE] * 4


def test_the_problem_resolves_interpolations_into_keys_it_keeps(tmp_path: Path) -> None:
    config = task_config(**{"paths.root": "/data/a", "data.path": "${paths.root}/prices.csv"})
    problem = problem_of(config, swept=["model.alpha"])
    assert problem["data"]["path"] == "/data/a/prices.csv"
    assert problem["model"] == {"_target_": "Ridge", "random_state": 0}  # seed kept out
    assert set(problem) == {"optimized_metric", "data", "features", "model", "x"}


def test_a_second_sweep_sharing_a_running_study_draws_other_points(tmp_path: Path) -> None:
    sweep = settings(storage=storage_url(tmp_path), study_name="s", n_trials=2, n_jobs=1)
    inner = FakeLauncher(quadratic)

    def start_another_sweep_meanwhile(params: dict[str, str]) -> float:
        if not inner.batches:  # as a second process would, while this trial runs
            run_sweep(sweep, [], None, inner, tmp_path / "other")
        return quadratic(params)

    outer = FakeLauncher(start_another_sweep_meanwhile)
    run_sweep(sweep, [], None, outer, tmp_path)
    assert len(set(params_of(outer)) | set(params_of(inner))) == 4
    study = optuna.load_study(study_name="s", storage=storage_url(tmp_path))
    assert len({t.user_attrs["sampler_seed"] for t in study.trials}) == 2
