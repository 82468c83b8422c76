"""The dataset input survives the race of a parallel sweep's jobs recording one dataset."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from omegaconf import OmegaConf

from stockml.data import load_sample
from stockml.tracking import dataset_input


def test_a_lost_insert_race_links_the_run_to_the_winners_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    panel = load_sample(tickers=["AAPL"])
    data = OmegaConf.create({"_target_": "stockml.data.load_sample"})
    real_log_input = mlflow.log_input
    calls: list[str] = []

    def another_job_inserted_it_first(dataset: object, context: str) -> None:
        calls.append(context)
        if len(calls) == 1:  # what the store raises on the unique (experiment, name, digest)
            raise MlflowException("UNIQUE constraint failed: datasets.experiment_id")
        real_log_input(dataset, context=context)

    monkeypatch.setattr(mlflow, "log_input", another_job_inserted_it_first)
    with mlflow.start_run() as run:
        dataset_input.log_dataset(panel, data, "fp123", {"data": "sample"})
    recorded = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert [d.dataset.digest for d in recorded] == ["fp123"]
    assert len(calls) == 2


def test_a_store_that_keeps_failing_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = OmegaConf.create({"_target_": "stockml.data.load_sample"})

    def broken(dataset: object, context: str) -> None:
        raise MlflowException("database is locked")

    monkeypatch.setattr(mlflow, "log_input", broken)
    with mlflow.start_run(), pytest.raises(MlflowException, match="locked"):
        dataset_input.log_dataset(load_sample(tickers=["AAPL"]), data, "fp", {"data": "sample"})
