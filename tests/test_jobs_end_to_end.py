"""The queue running real stockml jobs: a train job, then a retrain job of the run it made."""

from __future__ import annotations

from pathlib import Path

import pytest
from stockml_runs import FAST

from stockml.jobs import queue
from stockml.jobs.cli import main as jobs_main
from stockml.jobs.db import open_store

pytestmark = pytest.mark.slow

SMALL = [
    "data.tickers=[AAPL,MSFT,IBM]",
    "data.start=2008-01-01",
    "data.end=2011-12-31",
    *FAST,
    "tracking.log_plots=false",
]


def test_train_then_retrain_through_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path}/outputs/jobs.db"
    assert jobs_main(["--db", db, "submit", "--priority", "5", "--", *SMALL]) == 0
    assert jobs_main(["--db", db, "work", "--workers", "1", "--until-empty", "--poll", "0.2"]) == 0
    store = open_store(db)
    (trained,) = queue.list_jobs(store)
    assert trained.status == "succeeded", trained.error
    assert trained.mlflow_run_id and Path(trained.output_dir, "metrics.json").is_file()

    code = jobs_main(
        ["--db", db, "submit", "--kind", "retrain", "--of", trained.mlflow_run_id, "--",
         "data.end=2012-12-31"]
    )  # fmt: skip
    assert code == 0
    assert jobs_main(["--db", db, "work", "--workers", "1", "--until-empty", "--poll", "0.2"]) == 0
    retrain = next(job for job in queue.list_jobs(store) if job.kind == "retrain")
    assert retrain.status == "succeeded", retrain.error

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    runs = client.search_runs(
        [client.get_experiment_by_name("stockml").experiment_id],
        filter_string=f"tags.retrain_of = '{trained.mlflow_run_id}'",
    )
    assert len(runs) == 1
    metrics = runs[0].data.metrics
    assert "retrain_old_test_mse" in metrics and "retrain_new_test_mse" in metrics
