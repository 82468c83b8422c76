"""A run whose MLflow logging fails is failed everywhere, its run directory included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stockml_runs import FAST

from stockml.jobs import queue
from stockml.jobs.db import open_store
from stockml.run_files import FAILED_FILE, METRICS_FILE

pytestmark = pytest.mark.slow

SMALL = [
    "data.tickers=[AAPL,MSFT]",
    "data.start=2008-01-01",
    "data.end=2011-12-31",
    *FAST,
    "tracking.log_plots=false",
    "tracking.log_model=false",
]
# The real `stockml` command, with MLflow's artifact logging failing as an unreachable
# artifact store makes it fail.
BROKEN_MLFLOW = """
import sys
import mlflow
from mlflow.exceptions import MlflowException

def unreachable(*args, **kwargs):
    raise MlflowException("artifact store unreachable")

mlflow.log_artifact = unreachable
from stockml.cli import main
sys.argv = ["stockml", *sys.argv[1:]]
main()
"""


def _run_patched(script: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`stockml *args` in `cwd`, through `script`, which breaks part of MLflow first."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_mlflow_failure_leaves_a_failed_run_directory(tmp_path: Path) -> None:
    done = _run_patched(BROKEN_MLFLOW, tmp_path, *SMALL)
    assert done.returncode == 1, done.stderr
    [job] = queue.list_jobs(open_store(f"sqlite:///{tmp_path / 'outputs' / 'jobs.db'}"))
    run_dir = Path(job.output_dir)  # type: ignore[arg-type]
    assert not (run_dir / METRICS_FILE).exists()  # nothing reads it as a complete run
    assert (run_dir / FAILED_FILE).read_text() == (
        "recording the run failed: MlflowException: artifact store unreachable\n"
    )
    assert job.status == "failed" and job.metrics is None and job.mlflow_run_id is None

    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    [run] = client.search_runs([client.get_experiment_by_name("stockml").experiment_id])
    assert run.info.status == "FAILED"
    from stockml.reporting.leaderboard import leaderboard

    assert leaderboard(uri, "stockml").empty  # the report leaves it out

    reproduce = subprocess.run(
        [sys.executable, "-m", "stockml", "reproduce", str(run_dir)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reproduce.returncode != 0
    assert "recorded no metrics.json" in reproduce.stderr


def test_a_successful_tracked_run_publishes_metrics_and_no_failure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stockml", *SMALL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [job] = queue.list_jobs(open_store(f"sqlite:///{tmp_path / 'outputs' / 'jobs.db'}"))
    run_dir = Path(job.output_dir)  # type: ignore[arg-type]
    assert (run_dir / METRICS_FILE).is_file() and not (run_dir / FAILED_FILE).exists()
    assert job.status == "succeeded" and job.mlflow_run_id

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(job.mlflow_run_id)}
    assert METRICS_FILE in artifacts  # logged from the staging copy under its own name


# Only the upload of metrics.json fails: the last thing a rolling run records.
BROKEN_CLIENT = BROKEN_MLFLOW.replace(
    "mlflow.log_artifact = unreachable",
    """logged = mlflow.MlflowClient.log_artifact

def metrics_unreachable(self, run_id, local_path, *args, **kwargs):
    if local_path.rsplit("/", 1)[-1] == "metrics.json":
        unreachable()
    return logged(self, run_id, local_path, *args, **kwargs)

mlflow.MlflowClient.log_artifact = metrics_unreachable""",
)


def test_a_rolling_run_whose_recording_fails_has_no_metrics_file(tmp_path: Path) -> None:
    """The rolling preset logs its metrics.json through MlflowClient; when that fails, the run
    directory says so and holds no metrics.json, as for any run."""
    done = _run_patched(
        BROKEN_CLIENT, tmp_path, *SMALL, "store.enabled=false",
        "experiment=rolling_retrain", "rolling.step=120", "holdout.start=2011-01-01",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    [run_dir] = [p.parent for p in tmp_path.glob("outputs/runs/*/*/.hydra")]
    assert (run_dir / "rolling_predictions.csv").is_file()  # the work itself was done
    assert not (run_dir / METRICS_FILE).exists()
    assert (run_dir / FAILED_FILE).read_text() == (
        "recording the run failed: MlflowException: artifact store unreachable\n"
    )
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("rolling_retrain").experiment_id])
    assert run.info.status == "FAILED"
