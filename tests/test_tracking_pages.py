"""MLflow pages people can read (issue 13): what a run, its model, its params and its dataset
are called, checked on configs composed as the command composes them, then on a real run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config
from stockml.tracking.identity import (
    LEGACY_MODEL_NAME,
    PIPELINE_TAG,
    job_identity,
    logged_model_name,
    override_pairs,
    pipeline_name,
    recorded_choices,
)
from stockml.tracking.run_logging import run_params

NOW = datetime(2026, 11, 27, 18, 10, 34)


def _composed(*overrides: str) -> tuple[DictConfig, DictConfig]:
    """(job config, Hydra's config) as `stockml *overrides` would see them."""
    hydra_cfg = compose_config(list(overrides), return_hydra_config=True).hydra
    return compose_config(list(overrides)), hydra_cfg


def test_recorded_choices_keep_experiment_groups_only() -> None:
    choices = {
        "model": "ridge",
        "cv": "walk_forward",
        "experiment": None,
        "hydra/launcher": "basic",
        "tracking": "mlflow",
        "store": "sqlite",
        "paths": "default",
        "registry": "default",
    }
    assert recorded_choices(choices) == {"model": "ridge", "cv": "walk_forward"}


def test_infrastructure_overrides_name_no_run() -> None:
    pairs = override_pairs(["tracking=none", "store.enabled=false", "+paths.x=1", "cv=expanding"])
    assert pairs == {"cv": "expanding"}


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        (["selection=kbest_f"], "standard-kbest_f-ridge"),
        (["scaler=none", "model=lasso"], "lasso"),
        (["scaler=robust", "selection=kbest_mi", "model=random_forest"],
         "robust-kbest_mi-random_forest"),
    ],
)  # fmt: skip
def test_the_model_is_named_after_the_pipeline_options(overrides: list[str], name: str) -> None:
    cfg, hydra_cfg = _composed(*overrides)
    identity = job_identity(hydra_cfg, cfg, NOW)
    assert identity.tags[PIPELINE_TAG] == name
    assert logged_model_name(identity.run_tags()) == name


def test_a_retargeted_step_or_a_snapshot_run_is_named_by_estimator_class() -> None:
    cfg, hydra_cfg = _composed("model._target_=sklearn.linear_model.Lasso")
    assert job_identity(hydra_cfg, cfg, NOW).tags[PIPELINE_TAG] == "standard-lasso"
    # A config re-composed from a snapshot has no defaults list, hence no choices.
    assert pipeline_name(cfg, {}) == "standardscaler-lasso"


def test_runs_recorded_before_the_pipeline_tag_keep_their_model_name() -> None:
    assert logged_model_name({"model": "sklearn.linear_model.Ridge"}) == LEGACY_MODEL_NAME


def test_params_are_the_options_and_values_a_run_computed_with() -> None:
    cfg, hydra_cfg = _composed("scaler=none", "cv=expanding", "optimizer=grid")
    identity = job_identity(hydra_cfg, cfg, NOW)
    params = run_params(OmegaConf.to_container(cfg, resolve=True), identity.choices)
    assert params["model"] == "ridge"
    assert params["cv"] == "expanding"
    assert params["optimizer"] == "grid"
    assert params["scaler"] == "none"  # the option, not the null node's "None"
    assert params["model.alpha"] == str(cfg.model.alpha)
    assert "experiment" not in params and "hparams_search" not in params  # none chosen
    recording = ("tracking.", "paths.", "store.", "registry.", "hydra")
    assert not [key for key in params if key.startswith(recording)]
    assert not [key for key in params if "search_space" in key]
    assert cfg.model.search_space  # there was one to leave out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One tracked run, and its MLflow run read back from the store."""
    from mlflow import MlflowClient

    cwd = tmp_path_factory.mktemp("pages")
    completed = run_stockml(
        cwd, "data.tickers=[AAPL,IBM]", "data.start=2008-01-01", *FAST,
        "selection=kbest_f", "store.enabled=false", "tracking.log_plots=false",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{cwd}/outputs/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("stockml").experiment_id])
    return cwd, run


@pytest.mark.slow
class TestARecordedRun:
    def test_the_dataset_input_is_the_data_option_with_the_fingerprint_as_digest(
        self, recorded: tuple[Path, Any]
    ) -> None:
        cwd, run = recorded
        (run_dir,) = [p.parent for p in cwd.glob("outputs/runs/*/*/metrics.json")]
        fingerprint = json.loads((run_dir / "metrics.json").read_text())["data_fingerprint"]
        (dataset_input,) = run.inputs.dataset_inputs
        assert dataset_input.dataset.name == "sample"
        assert dataset_input.dataset.digest == fingerprint
        assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"
        columns = [c["name"] for c in json.loads(dataset_input.dataset.schema)["mlflow_colspec"]]
        assert {"date", "ticker", "close", "volume"} <= set(columns)

    def test_the_model_carries_the_pipeline_name_and_the_registry_finds_it(
        self, recorded: tuple[Path, Any]
    ) -> None:
        import mlflow

        from stockml.lifecycle.registry import client, logged_model_uri, register_run

        cwd, run = recorded
        uri = f"sqlite:///{cwd}/outputs/mlflow.db"
        assert run.data.tags[PIPELINE_TAG] == "standard-kbest_f-ridge"
        found = logged_model_uri(client(uri), run.info.run_id)
        assert mlflow.get_logged_model(found.removeprefix("models:/")).name == (
            "standard-kbest_f-ridge"
        )
        pipeline = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/standard-kbest_f-ridge")
        assert list(pipeline.named_steps) == ["scaler", "selector", "model"]
        version = register_run(run.info.run_id, "pages", uri)
        assert version.source == found

    def test_params_hold_options_but_not_where_the_run_was_recorded(
        self, recorded: tuple[Path, Any]
    ) -> None:
        _, run = recorded
        params = run.data.params
        assert (params["model"], params["selection"], params["cv"]) == (
            "ridge", "kbest_f", "walk_forward",
        )  # fmt: skip
        assert params["data"] == "sample" and params["features"] == "minimal"
        # what stockml-report's leaderboard reads
        assert params["model._target_"] == compose_config([]).model._target_
        assert params["features.preset"] == "minimal" and params["target.horizon"] == "1"
        assert "tracking.uri" not in params and "paths.output_root" not in params
        assert not [key for key in params if "search_space" in key]

    def test_the_experiment_opens_as_a_model_training_experiment(
        self, recorded: tuple[Path, Any]
    ) -> None:
        from mlflow import MlflowClient

        cwd, run = recorded
        client = MlflowClient(tracking_uri=f"sqlite:///{cwd}/outputs/mlflow.db")
        experiment = client.get_experiment(run.info.experiment_id)
        assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"

    def test_a_rerun_from_the_snapshot_keeps_the_options_and_the_model_name(
        self, recorded: tuple[Path, Any]
    ) -> None:
        """A config composed from a snapshot has no defaults list; the re-run gets the
        recorded options handed down, so it is named, and its params read, as the run's."""
        from hydra import compose, initialize_config_dir

        from stockml.config import CONFIG_NAME
        from stockml.lifecycle.snapshot import config_dir_for, load_snapshot
        from stockml.tracking.identity import choices_override

        cwd, run = recorded
        (run_dir,) = [p.parent for p in cwd.glob("outputs/runs/*/*/metrics.json")]
        for ref in (str(run_dir), run.info.run_id):
            snapshot = load_snapshot(ref, f"sqlite:///{cwd}/outputs/mlflow.db")
            assert snapshot.choices["selection"] == run.data.params["selection"] == "kbest_f"
            with (
                config_dir_for(snapshot) as folder,
                initialize_config_dir(config_dir=str(folder), version_base="1.3"),
            ):
                handed = choices_override(snapshot.choices)
                full = compose(CONFIG_NAME, overrides=handed, return_hydra_config=True)
                bare = compose(CONFIG_NAME, return_hydra_config=True)
            identity = job_identity(full.hydra, full, NOW)
            assert identity.tags[PIPELINE_TAG] == run.data.tags[PIPELINE_TAG]
            assert dict(identity.choices) == snapshot.choices
            # without them, the steps' classes name it
            assert job_identity(bare.hydra, bare, NOW).tags[PIPELINE_TAG] == (
                "standardscaler-selectkbest-ridge"
            )

    def test_a_runs_uri_with_another_model_name_says_where_the_model_is(
        self, recorded: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
    ) -> None:
        from stockml.lifecycle.cli import predict_main

        cwd, run = recorded
        uri = f"sqlite:///{cwd}/outputs/mlflow.db"
        old_habit = f"runs:/{run.info.run_id}/{LEGACY_MODEL_NAME}"
        assert predict_main([f"model={old_habit}", "--tracking-uri", uri]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"stockml-predict: error: cannot load model {old_habit} ")
        where = f"runs:/{run.info.run_id}/standard-kbest_f-ridge"
        assert line.endswith(f"(its run logged it as {where})")
