"""The real `stockml` command in a subprocess: files, MLflow store, exit codes and messages."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config

SMALL = [
    "data.tickers=[AAPL,IBM]",
    "data.start=2008-01-01",
    *FAST,
]

pytestmark = pytest.mark.slow


def only_run_dir(root: Path) -> Path:
    runs = [p.parent for p in root.glob("outputs/runs/*/*/metrics.json")]
    assert len(runs) == 1, runs
    return runs[0]


def test_run_records_files_and_mlflow_run(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, *SMALL, "store.enabled=false")
    assert completed.returncode == 0, completed.stderr
    run_dir = only_run_dir(tmp_path)
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / ".hydra" / "overrides.yaml").is_file()
    document = json.loads((run_dir / "metrics.json").read_text())
    assert document["optimized_metric"] == "cv_ic_mean"
    assert (run_dir / "holdout_predictions.csv").stat().st_size > 0

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    experiment = client.get_experiment_by_name("stockml")
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [document["mlflow_run_id"]]
    run = runs[0]
    assert run.data.params["model._target_"] == compose_config(SMALL).model._target_
    assert run.data.params["features.preset"] == "minimal"
    assert run.data.metrics["test_mse"] == pytest.approx(document["holdout"]["mse"])
    assert run.data.metrics["cv_ic_mean"] == pytest.approx(document["cv"]["ic"]["mean"])
    assert "baseline_test_mse" in run.data.metrics
    assert len(client.get_metric_history(run.info.run_id, "cv_mse")) == 3
    assert run.data.tags["data_fingerprint"] == document["data_fingerprint"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "config",
        "metrics.json",
        "features.json",
        "holdout_predictions.csv",
        "evaluation.json",
    } <= artifacts
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert run.data.metrics["test_ls_net_sharpe"] == pytest.approx(
        evaluation["holdout"]["metrics"]["ls_net_sharpe"]
    )
    assert run.data.metrics["cv_q_spread_mean"] == pytest.approx(document["cv"]["q_spread"]["mean"])
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {"plots/holdout.png"}
    snapshot = {a.path for a in client.list_artifacts(run.info.run_id, "config")}
    assert "config/config.yaml" in snapshot
    mlflow.set_tracking_uri(client.tracking_uri)
    models = client.search_logged_models(experiment_ids=[experiment.experiment_id])
    assert [m.source_run_id for m in models] == [run.info.run_id]
    # The model page shows the run's params and its step-0 metrics (each logged once).
    assert models[0].params == run.data.params
    histories = {key: client.get_metric_history(run.info.run_id, key) for key in run.data.metrics}
    assert all(len({m.step for m in h}) == len(h) for h in histories.values())
    step_0 = {m.key: m.value for h in histories.values() for m in h if m.step == 0}
    assert {m.key: m.value for m in models[0].metrics} == pytest.approx(step_0)
    flavor = mlflow.models.get_model_info(models[0].model_uri).flavors["sklearn"]
    assert flavor["serialization_format"] == "cloudpickle"  # what the requirements pin
    loaded = mlflow.sklearn.load_model(models[0].model_uri)
    feature_names = json.loads((run_dir / "features.json").read_text())
    assert list(loaded.feature_names_in_) == feature_names
    assert loaded.predict(pd.DataFrame([dict.fromkeys(feature_names, 0.0)])).shape == (1,)


def test_tracking_disabled_writes_no_mlflow_store(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, *SMALL, "tracking.enabled=false", "store.enabled=false")
    assert completed.returncode == 0, completed.stderr
    assert (
        json.loads((only_run_dir(tmp_path) / "metrics.json").read_text())["mlflow_run_id"] is None
    )
    assert not (tmp_path / "outputs" / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["target.horizon=-2"], "target.horizon must be an integer >= 1"),
        (["data=csv", "data.path=missing_dir"], "missing_dir"),
        (["data=csv"], "data.path"),
        (["holdout.start=2030-01-01"], "holdout"),
        (["cv.n_splits=1"], "n_splits"),
        (["data.tickers=[ZZZ]"], "ZZZ"),
        (["model.alpha=-1"], "alpha"),
        (["optimizer=bayesian", "optimizer.n_trials=0"], "optimizer.n_trials must be"),
        (["optimizer=random", "optimizer.n_trials=-1"], "optimizer.n_trials must be"),
        (["evaluation.quantiles=1"], "evaluation.quantiles must be an integer >= 2"),
        (["evaluation.cost_bps=-5"], "evaluation.cost_bps must be a number >= 0"),
    ],
)
def test_bad_input_exits_1_with_exactly_one_line(
    tmp_path: Path, overrides: list[str], message: str
) -> None:
    completed = run_stockml(tmp_path, *overrides, "tracking.enabled=false", "store.enabled=false")
    assert completed.returncode == 1
    # Nothing else: no traceback, no "Error executing job ...", no HYDRA_FULL_ERROR hint.
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("stockml: error: ") and message in lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("uri", ["garbage://x", "http://127.0.0.1:{port}"])
def test_bad_tracking_store_is_refused_in_one_line_before_data_loads(
    tmp_path: Path, uri: str
) -> None:
    uri = uri.format(port=closed_port())
    completed = run_stockml(tmp_path, f"tracking.uri={uri}", "store.enabled=false")
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [completed.stderr.strip()], completed.stderr
    assert completed.stderr.startswith(f"stockml: error: tracking.uri={uri}: ")
    assert not list(tmp_path.glob("outputs/runs/*/*/metrics.json"))


def test_hydra_full_error_still_shows_the_traceback(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path,
        "target.horizon=-2",
        "tracking.enabled=false",
        "store.enabled=false",
        env={"HYDRA_FULL_ERROR": "1"},
    )
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr and "Error executing job" in completed.stderr
    assert "target.horizon must be an integer >= 1" in completed.stderr


def test_a_refused_multirun_trial_prints_one_unprefixed_line(tmp_path: Path) -> None:
    # The joblib launcher pickles each trial's exception back to the parent process.
    completed = run_stockml(
        tmp_path,
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "target.horizon=-2,-3",
        "tracking.enabled=false",
        "store.enabled=false",
    )
    assert completed.returncode == 1
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("stockml: error: target.horizon must be an integer >= 1")
    assert lines[0].count("stockml: error:") == 1


def test_unknown_config_option_lists_the_available_ones(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "model=nope", "store.enabled=false")
    assert completed.returncode == 1
    assert "Could not find 'model/nope'" in completed.stderr and "ridge" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_bad_data_file_names_the_file_and_column(tmp_path: Path) -> None:
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "XYZ.csv").write_text("Date,Open,High,Low,Volume\n2020-01-02,1,2,1,10\n")
    completed = run_stockml(
        tmp_path, "data=csv", "data.path=prices", "tracking.enabled=false", "store.enabled=false"
    )
    assert completed.returncode == 1
    assert "XYZ" in completed.stderr and "close" in completed.stderr
    assert "Traceback" not in completed.stderr
