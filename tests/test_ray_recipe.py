"""The README's "Scaling out" recipe on a real Ray cluster, exactly as a user types it: two
concurrent Optuna sweeps launched on Ray, sharing one study in PostgreSQL, one MLflow tracking
server (on a PostgreSQL backend, serving the artifacts) and one PostgreSQL job store.

`.ci/run` starts the Ray head and the MLflow server and names them in STOCKML_TEST_RAY_ADDRESS
and STOCKML_TEST_MLFLOW_URI; without those variables the fixture starts its own, so the README's
test command works on any machine with PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import optuna
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient
from optuna.trial import TrialState

from stockml.jobs.db import open_store
from stockml.jobs.models import Job, JobStatus

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
pytest_plugins = ["jobs_fixtures"]

RAY_ADDRESS_ENV = "STOCKML_TEST_RAY_ADDRESS"
MLFLOW_URI_ENV = "STOCKML_TEST_MLFLOW_URI"
START_TIMEOUT_S = 180
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


@dataclass
class Cluster:
    """Where the Ray head and the MLflow server answer, and what a client needs to join."""

    ray_address: str
    mlflow_uri: str
    env: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(ready: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():  # type: ignore[operator]
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"{what} did not start (exit code {process.poll()}):\n{tail}")
        time.sleep(1)


def _mlflow_answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group this fixture started (`ray start --block` stops its Ray
    processes on it; `mlflow server` its web workers), SIGKILL if it does not end."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster(postgres_url: str) -> Iterator[Cluster]:
    """The cluster .ci/run started, or a Ray head and an MLflow server started here."""
    ray_address, mlflow_uri = os.environ.get(RAY_ADDRESS_ENV), os.environ.get(MLFLOW_URI_ENV)
    if ray_address and mlflow_uri:
        yield Cluster(ray_address, mlflow_uri)
        return
    bin_dir = Path(sys.executable).parent
    scratch = Path(tempfile.mkdtemp(prefix="stockml-ray-"))  # short: Ray's sockets live here
    database = f"stockml_mlflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    backend = sa.make_url(postgres_url).set(database=database)
    ray_port, mlflow_port = _free_port(), _free_port()
    # A token of this cluster's own: Ray turns token authentication on whenever one exists.
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    ray_log, mlflow_log = scratch / "ray.log", scratch / "mlflow.log"
    with ray_log.open("wb") as ray_out, mlflow_log.open("wb") as mlflow_out:
        ray_head = subprocess.Popen(
            [bin_dir / "ray", "start", "--head", "--block", "--node-ip-address=127.0.0.1",
             f"--port={ray_port}", "--num-cpus=2", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={scratch / 'ray'}"],
            env={**os.environ, **env}, stdout=ray_out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        mlflow_server = subprocess.Popen(
            [bin_dir / "mlflow", "server", "--host=127.0.0.1", f"--port={mlflow_port}",
             "--workers=1", f"--backend-store-uri={backend.render_as_string(False)}",
             "--serve-artifacts", f"--artifacts-destination={scratch / 'artifacts'}"],
            stdout=mlflow_out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    mlflow_uri = f"http://127.0.0.1:{mlflow_port}"
    try:
        _wait_for(lambda: "Ray runtime started" in ray_log.read_text(errors="replace"),
                  "the Ray head", ray_head, ray_log)  # fmt: skip
        _wait_for(lambda: _mlflow_answers(mlflow_uri), "the MLflow server", mlflow_server,
                  mlflow_log)  # fmt: skip
        yield Cluster(f"127.0.0.1:{ray_port}", mlflow_uri, env)
    finally:
        _stop(ray_head)
        _stop(mlflow_server)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
        subprocess.run(["rm", "-rf", str(scratch)], check=False)


def test_two_ray_sweeps_share_one_study_one_mlflow_server_and_one_job_store(
    tmp_path: Path, cluster: Cluster, postgres_url: str, postgres_store_url: str
) -> None:
    study_name = f"ray_{uuid.uuid4().hex[:8]}"
    experiment_name = f"ray_recipe_{study_name}"
    command = [
        sys.executable, "-m", "stockml", "-m", "hparams_search=ridge_optuna",
        "hydra/launcher=ray", "hydra.launcher.ray.init.address=auto",
        f"hydra.sweeper.storage={postgres_url}", f"tracking.uri={cluster.mlflow_uri}",
        f"store.url={postgres_store_url}",
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
    assert all(r.info.status == "FINISHED" for r in runs)
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
    model = next(m for m in models if m.source_run_id == best_run_id)
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
