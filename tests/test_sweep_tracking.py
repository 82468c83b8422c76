"""Sweeps in MLflow, end to end (issue 9, item 9): the parent run, nested named trials, the
best result with the study's plots and the best model, the report, and tracking off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from stockml_runs import FAST, run_stockml

from stockml.lifecycle.registry import logged_model_uri
from stockml.reporting.cli import main
from stockml.reporting.leaderboard import leaderboard

pytestmark = pytest.mark.slow

SMALL = ["data.tickers=[AAPL,IBM]", "data.start=2008-01-01", *FAST, "store.enabled=false"]


def _runs(cwd: Path) -> dict[str, object]:
    """Every MLflow run of the store under `cwd`, by run id."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{cwd}/outputs/mlflow.db")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return {run.info.run_id: run for run in client.search_runs(experiments)}


def _has_model(run_id: str, cwd: Path) -> bool:
    import mlflow

    from stockml.lifecycle.errors import LifecycleError

    mlflow.set_tracking_uri(f"sqlite:///{cwd}/outputs/mlflow.db")
    try:
        uri = logged_model_uri(mlflow.MlflowClient(), run_id)
    except LifecycleError:
        return False
    mlflow.sklearn.load_model(uri)
    return True


@pytest.fixture(scope="module")
def optuna_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("optuna")
    completed = run_stockml(cwd, "hparams_search=ridge_optuna", "hydra.sweeper.n_trials=3", *SMALL)
    assert completed.returncode == 0, completed.stderr
    return cwd


def test_optuna_trials_are_nested_named_and_tagged(optuna_sweep: Path) -> None:
    runs = _runs(optuna_sweep)
    (parent,) = [r for r in runs.values() if r.data.tags.get("sweep_role") == "parent"]
    trials = [r for r in runs.values() if r is not parent]
    assert len(trials) == 3
    for trial in trials:
        tags = trial.data.tags
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["optuna.study_name"] == "ridge_optuna"
        number = int(tags["optuna.trial_number"])
        alpha = float(trial.data.params["model.alpha"])
        assert trial.info.run_name == f"t{number:02d} model.alpha={alpha:.4g}"
    assert sorted(int(t.data.tags["optuna.trial_number"]) for t in trials) == [0, 1, 2]


def test_the_parent_run_holds_the_best_trial_results_file_and_study_plots(
    optuna_sweep: Path,
) -> None:
    from mlflow import MlflowClient

    (sweep_dir,) = optuna_sweep.glob("outputs/multiruns/*/*")
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    runs = _runs(optuna_sweep)
    (parent,) = [r for r in runs.values() if r.data.tags.get("sweep_role") == "parent"]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_cv_ic_mean"] == pytest.approx(results["best_value"])
    assert float(parent.data.params["best.model.alpha"]) == pytest.approx(
        results["best_params"]["model.alpha"]
    )
    assert parent.data.tags["best_run_id"] == results["best_mlflow_run_id"]
    assert parent.data.tags["optuna.trial_number.best"] == str(results["best_trial_number"])
    client = MlflowClient(tracking_uri=f"sqlite:///{optuna_sweep}/outputs/mlflow.db")
    top = {a.path for a in client.list_artifacts(parent.info.run_id)}
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert "optimization_results.yaml" in top
    expected = {"optimization_history.png", "param_importances.png", "parallel_coordinate.png"}
    assert plots == {f"plots/{name}" for name in expected}
    assert {p.name for p in (sweep_dir / "plots").iterdir()} == expected


def test_only_the_best_trial_has_a_model_and_it_reproduces_its_forecasts(
    optuna_sweep: Path,
) -> None:
    (sweep_dir,) = optuna_sweep.glob("outputs/multiruns/*/*")
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    best = results["best_mlflow_run_id"]
    others = [run_id for run_id, run in _runs(optuna_sweep).items()
              if run_id != best and "mlflow.parentRunId" in run.data.tags]  # fmt: skip
    assert _has_model(best, optuna_sweep)
    assert not any(_has_model(run_id, optuna_sweep) for run_id in others)


def test_report_of_the_sweep_shows_swept_values_trial_numbers_and_run_ids(
    optuna_sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (sweep_dir,) = optuna_sweep.glob("outputs/multiruns/*/*")
    uri = f"sqlite:///{optuna_sweep}/outputs/mlflow.db"
    board = leaderboard(uri, sweep_dir=str(sweep_dir))
    assert len(board) == 3  # the parent run is no row of its own
    assert sorted(board["trial"].astype(int)) == [0, 1, 2]
    runs = _runs(optuna_sweep)
    for run_id, alpha in zip(board["run_id"], board["model.alpha"], strict=True):
        assert float(alpha) == float(runs[run_id].data.params["model.alpha"])
    assert main(["--tracking-uri", uri, "--sweep-dir", str(sweep_dir)]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:4] == ["run_id", "run_name", "trial", "model.alpha"]


def test_a_plain_multirun_is_a_parent_run_whose_jobs_are_named_by_their_overrides(
    tmp_path: Path,
) -> None:
    # After SMALL: its FAST turns model logging back on, and the later override wins.
    completed = run_stockml(tmp_path, "-m", "model=ridge,lasso", *SMALL,
                            "tracking.log_model=false")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    runs = _runs(tmp_path)
    (parent,) = [r for r in runs.values() if r.data.tags.get("sweep_role") == "parent"]
    names = sorted(r.info.run_name for r in runs.values() if r is not parent)
    assert names == ["j00 model=ridge", "j01 model=lasso"]
    jobs = {r.info.run_name: r for r in runs.values() if r is not parent}
    best = max(jobs.values(), key=lambda r: r.data.metrics["cv_ic_mean"])
    assert parent.data.tags["best_run_id"] == best.info.run_id
    assert (
        parent.data.params["best.model"] == json.loads(best.data.tags["sweep_overrides"])["model"]
    )
    assert not _has_model(best.info.run_id, tmp_path)  # tracking.log_model=false is obeyed


def test_a_failed_multirun_ends_its_parent_run_failed(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "-m", "model.alpha=1,-1", *SMALL)
    assert completed.returncode == 1
    runs = _runs(tmp_path)
    (parent,) = [r for r in runs.values() if r.data.tags.get("sweep_role") == "parent"]
    assert parent.info.status == "FAILED"


def test_a_sweep_with_tracking_off_never_imports_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = tmp_path / "poison" / "mlflow"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('mlflow was imported')\n")
    monkeypatch.setenv("PYTHONPATH", f"{poisoned.parent}:{os.environ.get('PYTHONPATH', '')}")
    completed = run_stockml(
        tmp_path, "hparams_search=ridge_optuna", "hydra.sweeper.n_trials=2",
        "tracking.enabled=false", *SMALL,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    (sweep_dir,) = tmp_path.glob("outputs/multiruns/*/*")
    assert not (sweep_dir / "mlflow_sweep.json").exists()
    assert (sweep_dir / "plots" / "optimization_history.png").is_file()
    assert not (tmp_path / "outputs" / "mlflow.db").exists()


def test_a_rolling_sweep_is_ranked_on_its_forecasts_before_the_holdout(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path, "-m", "experiment=rolling_retrain", "rolling.start=2011-01-01",
        "rolling.step=40,80", "data.tickers=[AAPL,MSFT,IBM]", "data.start=2009-01-01",
        "data.end=2012-06-30", "features=minimal", "store.enabled=false",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    runs = _runs(tmp_path)
    (parent,) = [r for r in runs.values() if r.data.tags.get("sweep_role") == "parent"]
    jobs = {r.info.run_name: r for r in runs.values() if r is not parent}
    assert set(jobs) == {"j00 rolling.step=40", "j01 rolling.step=80"}
    for job in jobs.values():
        document = json.loads(Path(job.data.tags["run_dir"], "metrics.json").read_text())
        assert job.data.metrics["cv_ic_mean"] == pytest.approx(document["validation"]["ic"])
        assert job.data.metrics["test_ic"] == pytest.approx(document["holdout"]["ic"])
        assert job.data.tags["mlflow.parentRunId"] == parent.info.run_id
    best = max(jobs.values(), key=lambda r: r.data.metrics["cv_ic_mean"])
    assert parent.data.tags["best_run_id"] == best.info.run_id


def test_cleanup_owns_every_file_a_tracked_sweep_wrote_and_nothing_else(
    optuna_sweep: Path,
) -> None:
    """Cleanup deletes a sweep directory only when stockml wrote all of it: the link file and
    the study plots must count as stockml's, a file the user adds beside them must not."""
    from stockml.jobs.ownership import inventory
    from stockml.sweep_files import LINK_FILE, PLOTS_DIR

    (sweep,) = optuna_sweep.glob("outputs/multiruns/*/*")
    plots = sorted(path.name for path in (sweep / PLOTS_DIR).iterdir())
    assert (sweep / LINK_FILE).is_file() and "optimization_history.png" in plots
    owned = inventory(sweep)
    assert owned.foreign is None
    assert {path.name for path in owned.files} >= {LINK_FILE, *plots}
    note = sweep / PLOTS_DIR / "my_notes.txt"
    note.write_text("keep me")
    try:
        assert inventory(sweep).foreign == f"{note} was not written by stockml"
    finally:
        note.unlink()


def test_a_first_multirun_keeps_schema_migrations_off_the_console(tmp_path: Path) -> None:
    """A new output root and an empty cache: the job store and MLflow's store template are
    both built by Alembic migrations, whose INFO lines are for migration authors."""
    completed = run_stockml(
        tmp_path, "-m", "model=ridge,lasso", *FAST, "tracking.log_model=false",
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "outputs" / "jobs.db").is_file()
    assert list((tmp_path / "cache" / "stockml").glob("mlflow-*-empty.db"))  # built here
    console = completed.stdout + completed.stderr
    assert "Running upgrade" not in console
    assert "alembic" not in console.lower()
