"""The MLflow model registry side: a run's logged model becomes a version, aliases move.

A new version only ever gets the `challenger` alias; `champion` moves only through
`stockml.lifecycle.promote`, which has to justify the move.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stockml.lifecycle.errors import LifecycleError
from stockml.tracking.identity import logged_model_name
from stockml.tracking_uri import use_tracking_uri

CHALLENGER = "challenger"
CHAMPION = "champion"
RUNS_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-f]{32})/(?P<path>.+?)/?$")


def store_uri(tracking_uri: str) -> str:
    """The URI with a relative SQLite path made absolute.

    MLflow caches one store per URI string, so a relative path would keep pointing at the
    directory that was current when it was first used.
    """
    prefix = "sqlite:///"
    if tracking_uri.startswith(prefix) and not Path(tracking_uri[len(prefix) :]).is_absolute():
        return f"{prefix}{Path(tracking_uri[len(prefix) :]).resolve()}"
    return tracking_uri


def client(tracking_uri: str) -> Any:
    """A client for the tracking store and the registry (one store), also made MLflow's
    default so that `models:/` URIs resolve in it."""
    import mlflow

    uri = store_uri(tracking_uri)
    use_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def logged_model_uri(mlflow_client: Any, run_id: str) -> str:
    """The `models:/<model id>` URI of the pipeline a run logged (MLflow 3 logged models),
    found by the name the run's pipeline tag gives it."""
    from mlflow.exceptions import MlflowException

    try:
        run = mlflow_client.get_run(run_id)
    except MlflowException as exc:
        raise LifecycleError(f"no MLflow run {run_id} in {mlflow_client.tracking_uri}") from exc
    models = mlflow_client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=(
            f"source_run_id = '{run_id}' AND name = '{logged_model_name(run.data.tags)}'"
        ),
    )
    if not models:
        raise LifecycleError(
            f"MLflow run {run_id} logged no model (was it run with tracking.log_model=false?)"
        )
    return models[0].model_uri


def logged_model_hint(mlflow_client: Any, uri: str) -> str:
    """Where a `runs:/<run id>/<name>` URI's run keeps its model when `<name>` is not it
    (runs name their model after the pipeline; those recorded earlier, `model`), else ""."""
    from mlflow.exceptions import MlflowException

    match = RUNS_URI.match(uri)
    if match is None:
        return ""
    run_id = match["run_id"]
    try:
        run = mlflow_client.get_run(run_id)
    except MlflowException:
        return ""
    name = logged_model_name(run.data.tags)
    return "" if name == match["path"] else f" (its run logged it as runs:/{run_id}/{name})"


def register_run(run_id: str, model_name: str, tracking_uri: str) -> Any:
    """Register the run's model under ``model_name`` and point `challenger` at the version."""
    import mlflow

    mlflow_client = client(tracking_uri)
    uri = logged_model_uri(mlflow_client, run_id)
    version = mlflow.register_model(uri, model_name, tags={"source_run_id": run_id})
    mlflow_client.set_registered_model_alias(model_name, CHALLENGER, version.version)
    return version


def version_by_alias(mlflow_client: Any, model_name: str, alias: str) -> Any | None:
    """The version behind ``alias``, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None
