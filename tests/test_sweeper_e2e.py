"""Real sweeps of the toy quadratic app in a subprocess, as a user runs `-m` with the plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

APP = Path(__file__).parent / "apps" / "quadratic" / "quadratic.py"
DB = "db/optuna.db"  # relative to the sweep's cwd; its directory does not exist beforehand

pytestmark = pytest.mark.slow


def sweep(cwd: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(APP), "-m", *overrides],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def results(sweep_dir: Path) -> dict:
    return yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())


def job_values(sweep_dir: Path) -> list[float]:
    return [float(p.read_text()) for p in sorted(sweep_dir.glob("*/value.txt"))]


def stored_study(cwd: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{cwd / DB}")


def test_joblib_sweep_writes_the_best_of_the_trials_it_ran(tmp_path: Path) -> None:
    result = sweep(
        tmp_path,
        "hydra/launcher=joblib",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.n_jobs=2",
        f"hydra.sweeper.storage=sqlite:///{DB}",
        "hydra.sweeper.study_name=quad",
        "hydra.sweep.dir=out",
    )
    assert "Joblib.Parallel" in result.stdout
    values = job_values(tmp_path / "out")
    summary = results(tmp_path / "out")
    assert len(values) == 6 == summary["n_trials"]
    assert summary["best_value"] == min(values)
    assert set(summary["best_params"]) == {"x", "y"}
    assert summary["n_failed"] == 0
    assert len(stored_study(tmp_path, "quad").trials) == 6


def test_crashing_trial_is_failed_in_the_study_and_the_sweep_finishes(tmp_path: Path) -> None:
    sweep(
        tmp_path,
        "hydra/sweeper/sampler=grid",
        "hydra.sweeper.params={y: '0'}",
        "x=range(-1,3)",
        "crash_above=1.5",
        "hydra.sweeper.max_failure_rate=0.5",
        f"hydra.sweeper.storage=sqlite:///{DB}",
        "hydra.sweeper.study_name=crash",
        "hydra.sweep.dir=out",
    )
    trials = stored_study(tmp_path, "crash").trials
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.params["x"] for t in failed] == [2]
    assert "crash for x=2" in failed[0].user_attrs["failure"]
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 3
    assert (results(tmp_path / "out")["n_failed"], results(tmp_path / "out")["n_trials"]) == (1, 4)


def test_exceeding_max_failure_rate_aborts_with_a_clear_message(tmp_path: Path) -> None:
    result = sweep(tmp_path, "crash_above=-10", "hydra.sweeper.n_trials=4", check=False)
    assert result.returncode != 0
    assert "stockml: error: 2 of 2 trials failed, more than the 0 that max_failure_rate=0.0" in (
        result.stderr
    )


def test_rerunning_with_the_same_storage_adds_trials_to_the_study(tmp_path: Path) -> None:
    storage = (f"hydra.sweeper.storage=sqlite:///{DB}", "hydra.sweeper.study_name=again")
    sweep(tmp_path, *storage, "hydra.sweeper.n_trials=3", "hydra.sweep.dir=first")
    sweep(tmp_path, *storage, "hydra.sweeper.n_trials=3", "hydra.sweep.dir=second")
    assert len(stored_study(tmp_path, "again").trials) == 6
    assert results(tmp_path / "second")["n_trials_in_study"] == 6


def test_grid_runs_each_point_once_however_many_trials_are_asked(tmp_path: Path) -> None:
    sweep(
        tmp_path,
        "hydra/sweeper/sampler=grid",
        "hydra.sweeper.n_trials=100",
        "hydra.sweeper.params={y: '0'}",
        "choice=choice(a,b)",
        "x=range(1,4)",
        "hydra.sweep.dir=out",
    )
    overrides = [
        tuple(yaml.safe_load(p.read_text()))
        for p in (tmp_path / "out").glob("*/.hydra/overrides.yaml")
    ]
    expected = {frozenset({f"choice={c}", f"x={x}", "y=0"}) for c in "ab" for x in (1, 2, 3)}
    assert len(overrides) == 6
    assert {frozenset(o) for o in overrides} == expected


def test_multi_objective_sweep_writes_a_pareto_front(tmp_path: Path) -> None:
    sweep(
        tmp_path,
        "hydra.sweeper.direction=[minimize,maximize]",
        "two_objectives=true",
        "hydra.sweeper.n_trials=4",
        "hydra.sweep.dir=out",
    )
    summary = results(tmp_path / "out")
    assert summary["directions"] == ["minimize", "maximize"]
    assert summary["solutions"]
    for solution in summary["solutions"]:
        assert set(solution["params"]) == {"x", "y"} and len(solution["values"]) == 2


def start_slow_sweep(cwd: Path, *overrides: str) -> subprocess.Popen[str]:
    """A sweep whose first trial sleeps; returns once that trial is running."""
    process = subprocess.Popen(
        [sys.executable, str(APP), "-m", "hydra.sweeper.n_jobs=1",
         "hydra.sweeper.heartbeat_interval=1", f"hydra.sweeper.storage=sqlite:///{DB}",
         "hydra.sweeper.study_name=slow", "hydra.sweep.dir=out", *overrides],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "QUADRATIC_SLEEP": "60"},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (cwd / "out" / "0" / ".hydra").is_dir():
        assert process.poll() is None and time.monotonic() < deadline, "the trial never started"
        time.sleep(0.2)
    return process


def test_sigint_ends_the_sweep_in_one_line_and_the_next_sweep_resumes(tmp_path: Path) -> None:
    process = start_slow_sweep(tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert (
        "stockml: sweep interrupted; its running trials are marked FAIL in study 'slow'" in stderr
    )
    storage = (f"hydra.sweeper.storage=sqlite:///{DB}", "hydra.sweeper.study_name=slow")
    sweep(tmp_path, *storage, "hydra.sweeper.n_trials=2", "hydra.sweep.dir=again")
    states = [t.state for t in stored_study(tmp_path, "slow").trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]


def test_a_trial_of_a_sigkilled_sweep_is_failed_when_the_study_is_next_opened(
    tmp_path: Path,
) -> None:
    process = start_slow_sweep(tmp_path, "hydra.sweeper.grace_period=1")
    process.kill()
    process.communicate(timeout=60)
    assert [t.state for t in stored_study(tmp_path, "slow").trials] == [TrialState.RUNNING]
    time.sleep(2)  # past the grace period
    storage = (f"hydra.sweeper.storage=sqlite:///{DB}", "hydra.sweeper.study_name=slow")
    heartbeat = ("hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=1")
    result = sweep(
        tmp_path, *storage, *heartbeat, "hydra.sweeper.n_trials=1", "hydra.sweep.dir=again"
    )
    assert "marked 1 trial(s) FAIL that a stopped sweep left running (#0)" in result.stdout
    states = [t.state for t in stored_study(tmp_path, "slow").trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]


def test_bad_sweeper_settings_are_one_line_before_any_trial(tmp_path: Path) -> None:
    result = sweep(tmp_path, "hydra.sweeper.n_trials=0", "hydra.sweep.dir=out", check=False)
    assert result.returncode == 1
    assert "stockml: error: hydra.sweeper: n_trials and n_jobs must be >= 1, got 0/2" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "0").exists()
