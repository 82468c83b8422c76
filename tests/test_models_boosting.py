"""model=lightgbm and model=xgboost: optional extras that build from config, take the job's
thread budget, reproduce bit for bit, and say which extra to install when missing."""

from __future__ import annotations

import json
import math
import sys
import tomllib
from pathlib import Path

import pytest
from hydra.errors import InstantiationException
from omegaconf import OmegaConf
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config
from stockml.errors import EXTRAS, user_error_message
from stockml.pipeline import build_step
from stockml.threads import limit_threads, threads_per_job

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
BOOSTERS = ("lightgbm", "xgboost")
SMALL = [
    "data.start=2008-01-01",
    "data.tickers=[AAPL,MSFT]",
    *FAST,
    "tracking.enabled=false",
    "store.enabled=false",
]


@pytest.mark.parametrize("model", BOOSTERS)
def test_seed_and_quiet_settings_reach_the_estimator(model: str) -> None:
    estimator = build_step(compose_config([f"model={model}", "seed=7"]).model)
    assert type(estimator).__module__.split(".")[0] == model
    params = estimator.get_params()
    assert params["random_state"] == 7
    assert params["verbosity"] <= 0
    assert params["n_jobs"] is None  # alone: the library's own default, every core


@pytest.mark.parametrize("model", BOOSTERS)
def test_search_space_names_real_estimator_parameters(model: str) -> None:
    cfg = compose_config([f"model={model}"])
    declared = set(cfg.model.search_space)
    assert declared and declared <= set(build_step(cfg.model).get_params())


@pytest.mark.parametrize("model", BOOSTERS)
def test_parallel_jobs_hand_their_thread_budget_to_the_booster(model: str) -> None:
    cfg = compose_config([f"model={model}"])
    launcher = OmegaConf.create({"n_jobs": 2})
    with limit_threads(launcher):
        estimator = build_step(cfg.model)
    assert estimator.get_params()["n_jobs"] == threads_per_job(launcher)
    assert build_step(cfg.model).get_params()["n_jobs"] is None  # the budget ends with the job


def test_an_explicit_n_jobs_is_kept_inside_a_budget() -> None:
    cfg = compose_config(["model=random_forest", "model.n_jobs=3"])
    with limit_threads(OmegaConf.create({"n_jobs": 2})):
        assert build_step(cfg.model).n_jobs == 3


@pytest.mark.parametrize("model", BOOSTERS)
def test_a_missing_library_names_the_extra_to_install(
    model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, model, None)  # `import lightgbm` now fails as if absent
    with pytest.raises(InstantiationException) as caught:
        build_step(compose_config([f"model={model}"]).model)
    assert user_error_message(caught.value) == (
        f"{model} is not installed (a _target_ in the config needs it): pip install -e '.[{model}]'"
    )


def test_extras_named_in_errors_exist_and_ci_installs_them() -> None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    for module, extra in EXTRAS.items():
        assert any(requirement.startswith(module) for requirement in extras[extra])
        assert any(requirement.startswith(module) for requirement in extras["dev"])


def document(root: Path) -> dict:
    (found,) = root.glob("outputs/runs/*/*/metrics.json")
    return json.loads(found.read_text())


def predictions(root: Path) -> bytes:
    (found,) = root.glob("outputs/runs/*/*/holdout_predictions.csv")
    return found.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("model", BOOSTERS)
def test_a_run_gives_finite_metrics_and_reruns_bit_identically(model: str, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        root.mkdir()
        completed = run_stockml(root, f"model={model}", "model.n_estimators=40", "seed=3", *SMALL)
        assert completed.returncode == 0, completed.stderr[-3000:]
    metrics = document(first)
    assert all(math.isfinite(metrics["cv"][name]["mean"]) for name in ("mse", "ic", "r2"))
    assert metrics["cv"] == document(second)["cv"]
    assert predictions(first) == predictions(second)


@pytest.mark.slow
def test_cli_missing_module_is_one_line(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path, "model=lightgbm", "model._target_=no_such_booster.Regressor", *SMALL
    )
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [
        "stockml: error: module 'no_such_booster' is not installed (a _target_ in the config "
        "needs it)"
    ]
