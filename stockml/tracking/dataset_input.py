"""The run's data as an MLflow dataset input, so the UI's Dataset column names what it ran on.

A metadata-only dataset (`mlflow.data.meta_dataset.MetaDataset`): its digest is stockml's own
data fingerprint, the one `stockml-reproduce` compares, and its schema comes from a few rows.
`mlflow.data.from_pandas` would infer the schema and profile of the whole panel instead,
seconds for the bundled sample, for nothing the UI shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

if TYPE_CHECKING:
    import pandas as pd

CONTEXT = "training"  # the `mlflow.data.context` tag the UI shows beside the dataset
SCHEMA_ROWS = 5


def dataset_name(data: DictConfig, choices: Mapping[str, str]) -> str:
    """The `data` config group option (`sample`, `csv`), or the loader's name when the run was
    composed from a snapshot (`load_sample`)."""
    return choices.get("data") or str(data._target_).rsplit(".", 1)[-1]


def dataset_source(data: DictConfig) -> Any:
    """Where the bars came from: the file or directory a loader read (`data.path`), else the
    loader function itself."""
    from mlflow.data.sources import CodeDatasetSource, LocalArtifactDatasetSource

    path = data.get("path")
    if path:
        return LocalArtifactDatasetSource(Path(str(path)).resolve().as_uri())
    return CodeDatasetSource({"loader": str(data._target_)})


def log_dataset(
    panel: pd.DataFrame, data: DictConfig, fingerprint: str, choices: Mapping[str, str]
) -> None:
    """Record the panel as the active run's training input (one dataset per fingerprint).

    The jobs of a parallel sweep record the same dataset at the same moment: the store keeps
    one row per (experiment, name, digest), so all but one insert fail on its unique
    constraint. By then the winner's row exists, and a second attempt links to it.
    """
    import mlflow
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature

    dataset = MetaDataset(
        dataset_source(data),
        name=dataset_name(data, choices),
        digest=fingerprint,
        schema=infer_signature(panel.head(SCHEMA_ROWS).reset_index()).inputs,
    )
    try:
        mlflow.log_input(dataset, context=CONTEXT)
    except MlflowException:
        mlflow.log_input(dataset, context=CONTEXT)
