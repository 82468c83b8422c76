"""hparams_search presets: they sweep the space the configs declare, and run a real study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import BaseDistribution, IntDistribution

from stockml.config import compose_config, config_dir
from stockml.tuning.inner_search import search_specs
from stockml.tuning.sweep_plan import SweepSettings, plan_sweep

PRESETS = sorted(p.stem for p in (config_dir() / "hparams_search").glob("*.yaml"))


def sweep_space(cfg: DictConfig) -> dict[str, BaseDistribution]:
    """What the sweeper would sample for this composed config and no command-line sweeps."""
    sweeper = OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)
    assert isinstance(sweeper, dict)
    options = {k: sweeper[k] for k in ("direction", "params", "n_trials", "n_jobs")}
    plan = plan_sweep(SweepSettings(sampler=sweeper["sampler"], **options), [], cfg)
    assert plan.directions == ["maximize"]  # inferred from optimized_metric=cv_ic_mean
    return plan.space.distributions


def bayesian_space(overrides: list[str]) -> dict[str, BaseDistribution]:
    """What optimizer=bayesian's Optuna trials sample for the same model and selection."""
    trial = optuna.create_study().ask()
    for spec in search_specs(compose_config([*overrides, "optimizer=bayesian"])):
        spec.suggest(trial)
    return {name.replace("__", ".").replace("selector.", "selection."): dist
            for name, dist in trial.distributions.items()}  # fmt: skip


@pytest.mark.parametrize("preset", PRESETS)
def test_the_sweep_and_optimizer_bayesian_search_the_same_declared_space(preset: str) -> None:
    cfg = compose_config([f"hparams_search={preset}"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.storage.startswith("sqlite:///") and sweeper.study_name == preset
    assert sweeper.direction is None and not sweeper.params  # one declaration: the config's
    choices = cfg.hydra.runtime.choices
    space = sweep_space(cfg)
    overrides = [f"model={choices.model}", f"selection={choices.selection}", "features=full"]
    assert space and space == bayesian_space(overrides)
    for key in space:
        assert OmegaConf.select(cfg, key, default="<missing>") != "<missing>", key


def test_a_command_line_sweep_or_fixed_value_overrides_the_declared_space() -> None:
    cfg = compose_config(["hparams_search=random_forest_optuna"], return_hydra_config=True)
    plan = plan_sweep(
        SweepSettings(sampler={"_target_": "optuna.samplers.RandomSampler"}),
        ["model.max_depth=int(interval(2, 4))", "model.n_estimators=100"],
        cfg,
    )
    space = plan.space.distributions
    assert space["model.max_depth"] == IntDistribution(2, 4)
    assert "model.n_estimators" not in space and "model.n_estimators=100" in plan.space.fixed
    assert set(space) == {f"model.{k}" for k in cfg.model.search_space} - {"model.n_estimators"}
    group_swept = plan_sweep(SweepSettings(sampler={}), ["model=ridge,lasso"], cfg)
    assert set(group_swept.space.distributions) == {"model"}  # each model has its own space


@pytest.mark.slow
def test_preset_runs_an_optuna_study_in_parallel_and_resumes(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "stockml", "hparams_search=ridge_optuna",
        "hydra.sweeper.n_trials=4", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "data.tickers=[AAPL,MSFT,IBM]", "data.start=2008-01-01", "features=minimal",
        "cv.n_splits=3", "cv.train_size=250", "cv.test_size=60",
        "tracking.enabled=false", "store.enabled=false",
    ]  # fmt: skip
    for _ in range(2):
        completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                                   timeout=600)  # fmt: skip
        assert completed.returncode == 0, completed.stderr
    study = optuna.load_study(
        study_name="ridge_optuna", storage=f"sqlite:///{tmp_path}/outputs/optuna.db"
    )
    values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(values) == 8  # the second sweep added its trials to the same study
    assert len({t.params["model.alpha"] for t in study.trials}) == 8  # and replayed none
    results = sorted(tmp_path.glob("outputs/multiruns/*/*/optimization_results.yaml"))
    assert len(results) == 2
    latest = yaml.safe_load(results[-1].read_text())
    assert latest["best_value"] == pytest.approx(max(values))
    assert 1e-2 <= latest["best_params"]["model.alpha"] <= 1e4
    other_data = subprocess.run([*command, "data.start=2009-01-01"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
    assert other_data.returncode == 1
    assert (
        "stockml: error: study 'ridge_optuna' was run on a different problem (data.start: "
        "'2008-01-01' -> '2009-01-01')" in other_data.stderr
    )
