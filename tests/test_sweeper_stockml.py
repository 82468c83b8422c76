"""The sweeper driving the real `stockml` command, as the issue's reproductions typed it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from stockml_runs import FAST, run_stockml

pytestmark = pytest.mark.slow

SMALL = [
    *FAST,
    "data.tickers=[AAPL,MSFT,IBM]",
    "data.start=2008-01-01",
    "tracking.enabled=false",
    "store.enabled=false",
    "hydra.sweep.dir=sweep",
]
ALPHA = "model.alpha=tag(log, interval(0.0001, 10.0))"

# lightning-hydra-template's configs/hparams_search/mnist_optuna.yaml, with stockml's keys.
LIGHTNING_PRESET = """\
# @package _global_
defaults:
  - override /hydra/sweeper: optuna

optimized_metric: "cv_ic_mean"

hydra:
  mode: "MULTIRUN"
  sweeper:
    _target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper
    storage: null
    study_name: null
    n_jobs: 1
    direction: maximize
    n_trials: 2
    sampler:
      _target_: optuna.samplers.TPESampler
      seed: 1234
      n_startup_trials: 10
    params:
      model.alpha: interval(0.01, 100.0)
      seed: range(1, 3)
"""


def results(tmp_path: Path) -> dict:
    return yaml.safe_load((tmp_path / "sweep" / "optimization_results.yaml").read_text())


def test_a_plain_optuna_sweep_infers_maximize_for_ic(tmp_path: Path) -> None:
    command = ["-m", "hydra/sweeper=optuna", "hydra.sweeper.n_trials=2", ALPHA, *SMALL]
    completed = run_stockml(tmp_path, *command)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = results(tmp_path)
    assert summary["direction"] == "maximize" and summary["n_failed"] == 0
    assert summary["best_run_dir"] == str(tmp_path / "sweep" / str(summary["best_trial_number"]))
    assert "trial 2/2 (#1) value=" in completed.stdout
    assert "best of study" in completed.stdout


def test_a_contradicting_direction_is_refused_in_one_line_before_any_trial(tmp_path: Path) -> None:
    command = ["-m", "hydra/sweeper=optuna", "hydra.sweeper.direction=minimize", ALPHA, *SMALL]
    completed = run_stockml(tmp_path, *command)
    assert completed.returncode == 1
    assert completed.stderr.count("stockml: error:") == 1
    assert (
        "stockml: error: hydra.sweeper.direction=minimize but optimized_metric=cv_ic_mean is "
        "better when higher" in completed.stderr
    )
    assert not list(tmp_path.glob("sweep/*/.hydra"))  # no trial was launched


def test_a_lightning_template_preset_runs_verbatim(tmp_path: Path) -> None:
    preset = tmp_path / "myconf" / "hparams_search" / "lightning.yaml"
    preset.parent.mkdir(parents=True)
    preset.write_text(LIGHTNING_PRESET)
    command = ["--config-dir", str(tmp_path / "myconf"), "hparams_search=lightning", *SMALL]
    completed = run_stockml(tmp_path, *command)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("range(start, stop) excludes stop") == 1
    assert results(tmp_path)["n_trials"] == 2
    seeds = {yaml.safe_load(p.read_text())["seed"]
             for p in tmp_path.glob("sweep/*/.hydra/config.yaml")}  # fmt: skip
    assert seeds and seeds <= {1, 2}  # range(1, 3) excludes 3


def test_a_two_objective_nsgaii_sweep_writes_its_pareto_front(tmp_path: Path) -> None:
    command = [
        "-m", "hydra/sweeper=optuna", "hydra/sweeper/sampler=nsgaii", "hydra.sweeper.n_trials=2",
        "optimized_metric=[cv_ic_mean,cv_mse_mean]", ALPHA, *SMALL,
    ]  # fmt: skip
    completed = run_stockml(tmp_path, *command)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = results(tmp_path)
    assert summary["directions"] == ["maximize", "minimize"] and summary["n_failed"] == 0
    assert summary["solutions"]
    for solution in summary["solutions"]:
        metrics = json.loads((Path(solution["run_dir"]) / "metrics.json").read_text())
        assert metrics["optimized_metric"] == ["cv_ic_mean", "cv_mse_mean"]
        assert solution["values"] == pytest.approx(metrics["value"])
        assert metrics["value"][1] == pytest.approx(metrics["cv"]["mse"]["mean"])
