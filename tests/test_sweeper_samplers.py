"""Sampler configs: every `hydra/sweeper/sampler` option composes and builds its Optuna sampler."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from stockml.tuning.optuna_grid import AskTellGridSampler
from stockml.tuning.samplers import SAMPLER_CONFIGS, build_sampler

APP_CONF = Path(__file__).parent / "apps" / "quadratic" / "conf"
EXPECTED = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "grid": AskTellGridSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "nsgaii": optuna.samplers.NSGAIISampler,
    "gp": optuna.samplers.GPSampler,
    "qmc": optuna.samplers.QMCSampler,
}


def hydra_config(*overrides: str):
    with initialize_config_dir(config_dir=str(APP_CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def test_sweeper_config_defaults_to_a_tpe_sampler_and_upstream_keys() -> None:
    sweeper = hydra_config().hydra.sweeper
    assert sweeper._target_.endswith("stockml_optuna_sweeper.optuna_sweeper.OptunaSweeper")
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    expected_keys = {"direction", "study_name", "storage", "n_trials", "n_jobs"}
    expected_keys |= {"max_failure_rate", "params", "custom_search_space", "sampler"}
    assert expected_keys <= set(sweeper)
    assert sweeper.storage is None


@pytest.mark.parametrize("name", sorted(SAMPLER_CONFIGS))
def test_each_sampler_option_composes_and_builds(name: str) -> None:
    if name == "cmaes" and importlib.util.find_spec("cmaes") is None:
        pytest.skip("CmaEsSampler needs the optional `cmaes` package")
    sampler_cfg = hydra_config(
        f"hydra/sweeper/sampler={name}", "hydra.sweeper.sampler.seed=7"
    ).hydra.sweeper.sampler
    assert sampler_cfg.seed == 7
    sampler = build_sampler(sampler_cfg, {"x": [1, 2]} if name == "grid" else None)
    assert type(sampler) is EXPECTED[name]


def test_grid_sampler_ignores_study_stop_so_ask_and_tell_can_exhaust_it() -> None:
    cfg = OmegaConf.structured(SAMPLER_CONFIGS["grid"])
    study = optuna.create_study(sampler=build_sampler(cfg, {"x": [1, 2]}))
    for _ in range(2):
        trial = study.ask({"x": optuna.distributions.IntDistribution(1, 2)})
        study.tell(trial, float(trial.params["x"]))  # a plain GridSampler raises on the last
    assert sorted(t.params["x"] for t in study.trials) == [1, 2]


def test_plugin_scan_finds_the_sweeper_without_importing_optuna() -> None:
    """Hydra scans plugins on every command; Optuna should load only when a sweep starts."""
    code = (
        "import sys\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.plugins.sweeper import Sweeper\n"
        "names = [c.__name__ for c in Plugins.instance().discover(Sweeper)]\n"
        "print('OptunaSweeper' in names, 'optuna' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "False"]
