"""Every option of every config group composes and instantiates (a typo in any YAML fails here)."""

from __future__ import annotations

import re

import pytest
from hydra.utils import instantiate
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from stockml.config import ConfigError, compose_config, config_dir
from stockml.config_checks import check_config
from stockml.errors import EXTRAS
from stockml.pipeline import build_pipeline, build_step

PIPELINE_GROUPS = ("model", "scaler", "selection")


def group_options(group: str) -> list[str]:
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize(
    ("group", "option"),
    [(group, option) for group in PIPELINE_GROUPS for option in group_options(group)],
)
def test_every_pipeline_option_builds_a_pipeline(group: str, option: str) -> None:
    cfg = compose_config([f"{group}={option}"])
    pipeline = build_pipeline(cfg)
    assert isinstance(pipeline, Pipeline)
    step = dict(pipeline.steps)[{"selection": "selector"}.get(group, group)]
    if option == "none":
        assert step == "passthrough"
    else:
        assert isinstance(step, BaseEstimator)
        assert type(step).__module__.split(".")[0] in {"sklearn", "stockml", *EXTRAS}


@pytest.mark.parametrize("option", group_options("cv"))
def test_every_cv_option_instantiates_a_splitter_with_the_label_horizon(option: str) -> None:
    cfg = compose_config([f"cv={option}", "target.horizon=3"])
    splitter = instantiate(cfg.cv)
    assert splitter.horizon == 3
    assert hasattr(splitter, "split") and hasattr(splitter, "get_n_splits")


@pytest.mark.parametrize("option", group_options("features"))
def test_every_feature_preset_instantiates(option: str) -> None:
    builder = instantiate(compose_config([f"features={option}"]).features, _convert_="all")
    assert len(builder.get_feature_names_out()) >= 5


@pytest.mark.parametrize("option", group_options("data"))
def test_every_data_option_composes_to_a_loader(option: str) -> None:
    cfg = compose_config([f"data={option}"])
    assert str(cfg.data._target_).startswith("stockml.data.")


@pytest.mark.parametrize("option", group_options("experiment"))
def test_every_experiment_preset_composes_and_passes_checks(option: str) -> None:
    cfg = compose_config([f"experiment={option}"])
    check_config(cfg)
    build_pipeline(cfg)


def test_model_target_can_be_any_sklearn_estimator_from_the_command_line() -> None:
    cfg = compose_config(["model=linear", "model._target_=sklearn.svm.SVR", "+model.C=0.5"])
    model = build_step(cfg.model)
    assert type(model).__name__ == "SVR" and model.C == 0.5


def test_model_parameters_are_plain_keys_and_seed_flows_into_random_state() -> None:
    cfg = compose_config(["model=random_forest", "model.max_depth=3", "seed=7"])
    model = build_step(cfg.model)
    assert model.max_depth == 3 and model.random_state == 7


def test_experiment_preset_overrides_root_values() -> None:
    cfg = compose_config(["experiment=weekly_purged"])
    assert cfg.target.horizon == 5
    assert cfg.cv.horizon == 5 and cfg.cv.embargo == 10


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("target.horizon=-1", "target.horizon must be an integer >= 1"),
        ("target.horizon=0", "target.horizon must be an integer >= 1"),
        ("target.horizon=1.5", "target.horizon must be an integer >= 1"),
        ("holdout.fraction=1.0", "holdout.fraction must lie strictly between 0 and 1"),
        ("holdout.fraction=0", "holdout.fraction must lie strictly between 0 and 1"),
        ("optimized_metric=accuracy", "optimized_metric='accuracy' is not a CV metric"),
        ("seed=abc", "seed must be an integer"),
        ("optimized_metric=test_ic", "is not a CV metric"),
        ("registry.register=true tracking.enabled=false", "needs tracking.enabled=true"),
        ("registry.register=true tracking.log_model=false", "needs tracking.enabled=true"),
        ("experiment=rolling_retrain optimized_metric=cv_ic_std", "use cv_<metric>_mean"),
        ("cv.horizon=1", "cv.horizon=1 is smaller than target.horizon=5"),
        ("evaluation.quantiles=1", "evaluation.quantiles must be an integer >= 2"),
        ("evaluation.quantiles=2.5", "evaluation.quantiles must be an integer >= 2"),
        ("evaluation.top_k=0", "evaluation.top_k must be null (the top quantile) or an integer"),
        ("evaluation.cost_bps=-1", "evaluation.cost_bps must be a number >= 0"),
        ("evaluation.cost_bps=abc", "evaluation.cost_bps must be a number >= 0"),
        ("evaluation.max_decay_horizon=0", "evaluation.max_decay_horizon must be an integer"),
        ("optimized_metric=test_ls_sharpe", "is not a CV metric"),
        (
            "experiment=rolling_retrain optimized_metric=cv_ls_sharpe_mean",
            "not the portfolio ones",
        ),
    ],
)
def test_wrong_values_are_refused_with_the_key_named(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_config(compose_config(["target.horizon=5", *override.split()]))


def test_unknown_group_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="model/nope"):
        compose_config(["model=nope"])
