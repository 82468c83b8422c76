"""Every option of every config group composes and instantiates (a typo in any YAML fails here)."""

from __future__ import annotations

import re

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from stockml.config import ConfigError, compose_config, config_dir, hydra_settings
from stockml.config_checks import check_config
from stockml.data import load_sample
from stockml.errors import EXTRAS
from stockml.pipeline import build_pipeline, build_step
from stockml.tracking.identity import recorded_choices
from stockml.tuning.study_identity import problem_of

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
        ("cv.horizon=1", "cv.horizon=1 is smaller than the label's reach 5"),
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


# Where and how a run is recorded lives in groups; these single-value overrides predate them
# and are in tests, README and users' scripts.
@pytest.mark.parametrize(
    ("override", "key", "value"),
    [
        ("tracking.enabled=false", "tracking.enabled", False),
        ("store.enabled=false", "store.enabled", False),
        ("tracking.uri=sqlite:///elsewhere.db", "tracking.uri", "sqlite:///elsewhere.db"),
        ("store.url=sqlite:///jobs2.db", "store.url", "sqlite:///jobs2.db"),
        ("paths.output_root=/tmp/out", "tracking.uri", "sqlite:////tmp/out/mlflow.db"),
        ("paths.output_root=/tmp/out", "store.url", "sqlite:////tmp/out/jobs.db"),
        ("registry.register=true", "registry.register", True),
        ("tracking=none", "tracking.enabled", False),
        ("store=none", "store.enabled", False),
    ],
)
def test_recording_overrides_keep_working(override: str, key: str, value: object) -> None:
    assert OmegaConf.select(compose_config([override]), key) == value


@pytest.mark.parametrize(("group", "off"), [("tracking", "none"), ("store", "none")])
def test_the_off_option_is_the_enabled_one_switched_off(group: str, off: str) -> None:
    enabled_off = compose_config([f"{group}.enabled=false"])[group]
    assert compose_config([f"{group}={off}"])[group] == enabled_off


def test_postgres_store_takes_its_url_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("STOCKML_STORE_URL", "postgresql+psycopg://u@db/jobs")
    assert compose_config(["store=postgres"]).store.url == "postgresql+psycopg://u@db/jobs"
    monkeypatch.delenv("STOCKML_STORE_URL")
    with pytest.raises(InterpolationResolutionError, match="STOCKML_STORE_URL"):
        _ = compose_config(["store=postgres"]).store.url


def test_root_config_is_a_defaults_list_and_its_choices_are_recorded() -> None:
    root = OmegaConf.load(config_dir() / "config.yaml")
    assert not {"paths", "tracking", "store", "registry", "hydra"} & set(root)
    choices = compose_config(return_hydra_config=True).hydra.runtime.choices
    infrastructure = {"paths", "tracking", "store", "registry", "hydra"}
    assert infrastructure <= set(choices)
    for group in infrastructure:
        assert choices[group] in group_options(group)


def test_hydra_settings_come_from_their_group() -> None:
    hydra_cfg = compose_config(["paths.output_root=/tmp/out"], return_hydra_config=True).hydra
    assert set(hydra_cfg.callbacks) == set(hydra_settings().callbacks)
    assert hydra_cfg.run.dir.startswith("/tmp/out/runs/")
    assert hydra_cfg.job.chdir is False


def test_fast_debug_preset_shrinks_the_work_and_keeps_nothing_heavy() -> None:
    full, fast = compose_config(), compose_config(["debug=fast"])
    assert set(fast.data.tickers) < set(load_sample().index.get_level_values("ticker"))
    assert str(fast.data.start) > str(load_sample().index.get_level_values("date").min().date())
    assert fast.cv.n_splits < full.cv.n_splits
    assert len(instantiate(fast.features).get_feature_names_out()) < len(
        instantiate(full.features).get_feature_names_out()
    )
    assert full.tracking.log_model and not fast.tracking.log_model
    assert full.store.enabled and not fast.store.enabled


def test_fast_debug_preset_slices_synthetic_data_and_leaves_own_files_whole() -> None:
    full, fast = (
        compose_config(["data=synthetic"]),
        compose_config(["data=synthetic", "debug=fast"]),
    )
    assert fast.data.n_tickers < full.data.n_tickers and fast.data.n_days < full.data.n_days
    own = ["data=csv", "data.path=prices.csv"]
    assert compose_config([*own, "debug=fast"]).data == compose_config(own).data


def test_command_line_values_beat_the_fast_debug_preset() -> None:
    cfg = compose_config(["debug=fast", "store.enabled=true", "features=full", "cv.n_splits=4"])
    assert cfg.store.enabled and cfg.features.preset == "full" and cfg.cv.n_splits == 4


@pytest.mark.parametrize("preset", ["experiment=weekly_purged", "experiment=tune_ridge"])
def test_fast_debug_preset_composes_with_experiment_presets(preset: str) -> None:
    cfg = compose_config([preset, "debug=fast"])
    check_config(cfg)
    assert cfg.features.preset == "minimal" and not cfg.store.enabled


def test_recording_groups_stay_out_of_an_optuna_study_identity() -> None:
    recording = [
        "tracking=none",
        "store=none",
        "paths.output_root=/tmp/x",
        "registry.register=true",
    ]
    default = problem_of(compose_config(return_hydra_config=True), swept=())
    assert problem_of(compose_config(recording, return_hydra_config=True), swept=()) == default


@pytest.mark.parametrize("overrides", [[], ["debug=fast"]])
def test_recorded_choices_name_the_debug_preset_but_not_its_data_slice(overrides) -> None:
    choices = compose_config(overrides, return_hydra_config=True).hydra.runtime.choices
    recorded = recorded_choices(choices)
    assert recorded.get("debug") == (overrides[0].split("=")[1] if overrides else None)
    assert recorded["data"] == "sample"
    assert not any(group.startswith("debug_data") for group in recorded)
