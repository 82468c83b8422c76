"""The README's "Scaling out" recipe on a real Ray cluster, exactly as a user types it: two
concurrent Optuna sweeps launched on Ray, sharing one study in PostgreSQL, one MLflow tracking
server (on a PostgreSQL backend, serving the artifacts) and one PostgreSQL job store.

`.ci/run` starts the Ray head and the MLflow server (tests/ray_cluster.py) and names them in
STOCKML_TEST_RAY_ADDRESS and STOCKML_TEST_MLFLOW_URI; without those variables the fixture starts
its own, so the README's test command works on any machine with PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import optuna
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient
from optuna.trial import TrialState
from ray_cluster import Cluster, running_cluster
from test_readme_commands import README, readme_commands

from stockml.jobs.db import open_store
from stockml.jobs.models import Job, JobStatus

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
pytest_plugins = ["jobs_fixtures"]

SWEEP_TIMEOUT_S = 420
TRIALS_PER_SWEEP = 2
SMALL = [
    "data.tickers=[AAPL,MSFT]",
    "data.start=2010-01-01",
    "features=minimal",
    "cv.n_splits=2",
    "cv.train_size=250",
    "cv.test_size=60",
]


def readme_ray_command() -> list[str]:
    """The arguments of the README's `stockml ... hydra/launcher=ray ...` command."""
    [args] = [a for a in readme_commands(README.read_text()) if "hydra/launcher=ray" in a]
    return args


@pytest.fixture(scope="module")
def cluster(postgres_url: str) -> Iterator[Cluster]:
    """The cluster .ci/run started, or one started here for this module."""
    started = Cluster.from_environment()
    if started is not None:
        yield started
        return
    with running_cluster(postgres_url) as cluster:
        yield cluster


def test_two_ray_sweeps_share_one_study_one_mlflow_server_and_one_job_store(
    tmp_path: Path, cluster: Cluster, postgres_url: str, postgres_store_url: str
) -> None:
    study_name = f"ray_{uuid.uuid4().hex[:8]}"
    experiment_name = f"ray_recipe_{study_name}"
    # The README's command with this machine's stores in place of its placeholders, then small
    # settings (later overrides win in Hydra).
    stores = {
        "hydra.sweeper.storage": postgres_url,
        "tracking.uri": cluster.mlflow_uri,
        "store.url": postgres_store_url,
    }
    recipe = readme_ray_command()
    assert set(stores) <= {arg.partition("=")[0] for arg in recipe}
    command = [
        sys.executable, "-m", "stockml",
        *(f"{key}={stores[key]}" if key in stores else arg
          for arg in recipe for key in [arg.partition("=")[0]]),
        f"hydra.sweeper.study_name={study_name}", f"hydra.sweeper.n_trials={TRIALS_PER_SWEEP}",
        f"tracking.experiment_name={experiment_name}", *SMALL,
    ]  # fmt: skip
    env = {**os.environ, **cluster.env, "RAY_ADDRESS": cluster.ray_address}
    optuna.create_study(study_name=study_name, storage=postgres_url, direction="maximize")
    try:
        sweeps = []
        for index in range(2):
            (tmp_path / str(index)).mkdir()
            sweep = subprocess.Popen(
                command, cwd=tmp_path / str(index), env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            sweeps.append(sweep)
        for sweep in sweeps:
            output, _ = sweep.communicate(timeout=SWEEP_TIMEOUT_S)
            assert sweep.returncode == 0, output[-5000:]
        study = optuna.load_study(study_name=study_name, storage=postgres_url)
        trials, best = study.trials, study.best_trial
    finally:
        optuna.delete_study(study_name=study_name, storage=postgres_url)

    # Every trial of both sweeps in the one study, and no point proposed twice.
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2 * TRIALS_PER_SWEEP
    assert len({t.params["model.alpha"] for t in trials}) == len(trials)
    # Each trial ran in a Ray worker, whose working directory is not the sweep's, yet wrote its
    # run directory under the directory its sweep was launched from.
    launched_from = [tmp_path / "0" / "outputs", tmp_path / "1" / "outputs"]
    run_dirs = {t.number: Path(t.user_attrs["run_dir"]) for t in trials}
    for run_dir in run_dirs.values():
        assert any(run_dir.is_relative_to(root) for root in launched_from), run_dir
        assert (run_dir / "metrics.json").is_file()

    # Every run in the one MLflow server: a parent per sweep, each trial nested under its own.
    client = MlflowClient(tracking_uri=cluster.mlflow_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # the server keeps them
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    parents = {r.info.run_id: r for r in runs if r.data.tags.get("sweep_role") == "parent"}
    children = {r.info.run_id: r for r in runs if r.info.run_id not in parents}
    assert len(parents) == 2
    assert [(r.info.run_name, r.info.status) for r in runs if r.info.status != "FINISHED"] == []
    assert {t.user_attrs["mlflow_run_id"] for t in trials} == set(children)
    for trial in trials:
        run = children[trial.user_attrs["mlflow_run_id"]]
        parent = parents[run.data.tags["mlflow.parentRunId"]]
        assert run.data.tags["optuna.trial_number"] == str(trial.number)
        assert run.data.tags["sweep_dir"] == str(run_dirs[trial.number].parent)
        assert parent.data.tags["sweep_dir"] == run.data.tags["sweep_dir"]
    # The sweep's end logged the best trial's model, which loads back through the server.
    best_run_id = best.user_attrs["mlflow_run_id"]
    models = client.search_logged_models(experiment_ids=[experiment.experiment_id])
    # Once: both sweeps name the study's best, and only the sweep that ran it refits it.
    [model] = [m for m in models if m.source_run_id == best_run_id]
    mlflow.set_tracking_uri(cluster.mlflow_uri)
    features = json.loads((run_dirs[best.number] / "features.json").read_text())
    assert list(mlflow.sklearn.load_model(model.model_uri).feature_names_in_) == features

    # Every trial a succeeded row in the one job store, linked to its run and directory.
    store = open_store(postgres_store_url)
    with store.session() as session:
        sweep_dirs = {str(path.parent) for path in run_dirs.values()}
        rows = session.scalars(sa.select(Job).where(Job.sweep_id.in_(sweep_dirs))).all()
    store.dispose()
    assert sorted((row.output_dir, row.mlflow_run_id, row.status) for row in rows) == sorted(
        (str(run_dirs[t.number]), t.user_attrs["mlflow_run_id"], JobStatus.SUCCEEDED.value)
        for t in trials
    )
