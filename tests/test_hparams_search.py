"""hparams_search presets: every swept key exists, and a preset runs a real Optuna study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from omegaconf import OmegaConf

from stockml.config import compose_config, config_dir

PRESETS = sorted(p.stem for p in (config_dir() / "hparams_search").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_swept_key_exists_in_the_composed_config(preset: str) -> None:
    cfg = compose_config([f"hparams_search={preset}"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.storage.startswith("sqlite:///") and sweeper.study_name == preset
    assert sweeper.direction == "maximize" and cfg.optimized_metric.startswith("cv_ic")
    for key in sweeper.params:
        assert OmegaConf.select(cfg, key, default="<missing>") != "<missing>", key


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
    results = sorted(tmp_path.glob("outputs/multiruns/*/*/optimization_results.yaml"))
    assert len(results) == 2
    latest = yaml.safe_load(results[-1].read_text())
    assert latest["best_value"] == pytest.approx(max(values))
    assert 1e-2 <= latest["best_params"]["model.alpha"] <= 1e4
