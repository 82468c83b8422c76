"""Ending a sweep's parent run when sweeps share one Optuna study (the Ray recipe's two
concurrent sweeps): each sweep touches only runs it owns, and its parent always ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from stockml.run_files import METRICS_FILE
from stockml.sweep_files import RESULTS_FILE
from stockml.tracking.best_model import MODEL_TAG
from stockml.tracking.identity import SweepLink
from stockml.tracking.sweep_run import finish_sweep


def _trial_dir(sweep_dir: Path, number: int, run_id: str, value: float) -> Path:
    run_dir = sweep_dir / str(number)
    run_dir.mkdir(parents=True)
    document = {"optimized_metric": "cv_ic_mean", "value": value, "mlflow_run_id": run_id}
    (run_dir / METRICS_FILE).write_text(json.dumps(document))
    return run_dir


@pytest.fixture
def shared_study(tmp_path: Path) -> tuple[MlflowClient, SweepLink, Path, str]:
    """Sweep A's directory, whose results name sweep B's trial as the study's best; B's
    trial run is FINISHED and B is still live."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("shared", artifact_location=str(tmp_path / "art"))
    parent = client.create_run(experiment, tags={"sweep_role": "parent"}).info.run_id
    own = client.create_run(experiment).info.run_id
    foreign = client.create_run(experiment).info.run_id
    for run_id in (own, foreign):
        client.set_terminated(run_id, "FINISHED")
    sweep_a, sweep_b = tmp_path / "a" / "multirun", tmp_path / "b" / "multirun"
    _trial_dir(sweep_a, 0, own, 0.01)
    best = _trial_dir(sweep_b, 0, foreign, 0.05)
    results = {"name": "shared", "best_trial_number": 1, "best_run_dir": str(best)}
    (sweep_a / RESULTS_FILE).write_text(yaml.safe_dump(results))
    link = SweepLink(parent, experiment, uri, ["hparams_search=ridge_optuna"])
    return client, link, sweep_a, foreign


def test_a_sweep_leaves_another_sweeps_best_trial_alone_and_ends_its_parent(
    shared_study: tuple[MlflowClient, SweepLink, Path, str],
) -> None:
    client, link, sweep_a, foreign = shared_study
    before = client.get_run(foreign).info
    finish_sweep(link, sweep_a, "FINISHED")
    parent = client.get_run(link.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_cv_ic_mean"] == pytest.approx(0.05)  # the study's view
    after = client.get_run(foreign)
    assert (after.info.status, after.info.end_time) == (before.status, before.end_time)
    assert MODEL_TAG not in after.data.tags


def test_the_parent_ends_even_when_logging_the_outcome_fails(
    shared_study: tuple[MlflowClient, SweepLink, Path, str],
) -> None:
    client, link, sweep_a, _ = shared_study
    (sweep_a / RESULTS_FILE).write_text("{unclosed: [")  # a corrupt results file
    with pytest.raises(yaml.YAMLError):
        finish_sweep(link, sweep_a, "FAILED")
    assert client.get_run(link.parent_run_id).info.status == "FAILED"
