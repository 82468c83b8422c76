"""A run's own report.html as an MLflow artifact, and a run's evaluation document read back."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from report_documents import synthetic_document

from stockml.reporting.run_report import REPORT_FILE
from stockml.tracking.run_logging import log_report


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the module: creating MLflow's tables is most of a test's time."""
    folder = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    return mlflow.create_experiment("x", artifact_location=(folder / "art").as_uri())


@pytest.fixture
def active_run(experiment: str) -> Iterator[mlflow.ActiveRun]:
    with mlflow.start_run(experiment_id=experiment, run_name="j00 model=ridge") as run:
        yield run


def _artifacts(run_id: str) -> set[str]:
    return {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run_id)}


def test_the_report_is_logged_under_its_name_and_names_the_run(
    active_run: mlflow.ActiveRun, tmp_path: Path
) -> None:
    log_report(types.SimpleNamespace(evaluation=synthetic_document()))
    run_id = active_run.info.run_id
    assert _artifacts(run_id) == {REPORT_FILE}
    page = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=REPORT_FILE,
                                                    dst_path=str(tmp_path / "got")))  # fmt: skip
    assert "<title>stockml run j00 model=ridge</title>" in page.read_text()


def test_a_runs_evaluation_is_read_back_or_none(active_run: mlflow.ActiveRun) -> None:
    from stockml.reporting.sources import EVALUATION_FILE, run_evaluation

    client, run_id = mlflow.MlflowClient(), active_run.info.run_id
    assert run_evaluation(client, run_id) is None
    document = synthetic_document(seed=4)
    mlflow.log_dict(document, EVALUATION_FILE)
    assert run_evaluation(client, run_id) == document
