"""MLflow recording: params, metrics, tags, artifacts and the fitted pipeline of a run.

MLflow is imported inside the functions (about two seconds of start-up), so
`tracking.enabled=false` runs never pay for it.
"""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from stockml.features.audit import audit_tags
from stockml.pipeline import RESERVED_MODEL_KEYS
from stockml.tracking.identity import RunIdentity, is_infrastructure, logged_model_name
from stockml.tracking.requirement_check import without_distribution_scan
from stockml.tracking.store_template import seed_sqlite_store
from stockml.tracking_uri import is_tracking_server, use_tracking_uri

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from stockml.dataset import ModellingData
    from stockml.experiment import ExperimentResult

TRACKED_PACKAGES: tuple[str, ...] = (
    "stockml",
    "scikit-learn",
    "pandas",
    "numpy",
    "scipy",
    "hydra-core",
    "optuna",
    "mlflow",
)
# Given explicitly: letting MLflow infer requirements costs about 3.5 s per logged model.
MODEL_REQUIREMENTS: tuple[str, ...] = ("scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")
INPUT_EXAMPLE_ROWS = 5
# The step whose metrics MLflow links to a model logged with the run (log_model's default).
MODEL_METRICS_STEP = 0
# Tells MLflow's UI the experiment holds model training runs, so it opens on the runs table
# (the "Model training" view) rather than asking or guessing a GenAI experiment.
EXPERIMENT_KIND_TAGS = {"mlflow.experimentKind": "custom_model_development"}


def flatten_config(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Dotted keys -> string values, the shape MLflow params take (`model.alpha` -> `10.0`)."""
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten_config(value, f"{dotted}.")
        else:
            yield dotted, str(value)


def run_params(config: Mapping[str, Any], choices: Mapping[str, str]) -> dict[str, str]:
    """What the run computed with: the chosen config group options (`model` -> `ridge`) and
    every value of the config, without where it was recorded (`tracking.*`, `paths.*`...)
    or the search spaces (`model.search_space.*`); the config snapshot artifact keeps all."""
    params = {
        key: value
        for key, value in flatten_config(config)
        if not is_infrastructure(key) and RESERVED_MODEL_KEYS.isdisjoint(key.split("."))
    }
    # A step left out (`scaler=none`) is a null node: its option says it better than `None`.
    return params | dict(choices)


@functools.cache
def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[f"version.{name}"] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[f"version.{name}"] = "not installed"
    return versions


@functools.cache
def git_commit() -> str | None:
    """The commit of the stockml checkout that ran, when it is a git checkout (asked once per
    process: a sweep's trials share it)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def requirement_pins() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in MODEL_REQUIREMENTS]


@contextmanager
def sqlite_init_lock(uri: str) -> Iterator[None]:
    """Serialise first use of an SQLite store across processes.

    MLflow creates its tables on first contact; two sweep workers or queue workers starting
    together would both try and one would fail with "table already exists".
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def experiment_id(tracking: DictConfig) -> str:
    """The id of the configured experiment, created (with its artifact root) on first use.

    A tracking server keeps artifacts where it was told to (`--serve-artifacts`): a local
    `artifact_location` would name a directory on the client, which other hosts cannot see.
    Two processes may create the experiment at once (concurrent sweeps on one server): the
    loser takes the winner's.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    name = str(tracking.experiment_name)
    with sqlite_init_lock(str(tracking.uri)):
        seed_sqlite_store(str(tracking.uri))
        use_tracking_uri(str(tracking.uri))
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = None
        if not is_tracking_server(str(tracking.uri)):
            artifact_root = Path(str(tracking.artifact_location)).resolve()
            artifact_root.mkdir(parents=True, exist_ok=True)
            location = artifact_root.as_uri()
        try:
            return str(
                mlflow.create_experiment(
                    name, artifact_location=location, tags=EXPERIMENT_KIND_TAGS
                )
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return str(mlflow.get_experiment_by_name(name).experiment_id)


def start_run(tracking: DictConfig, identity: RunIdentity) -> Any:
    """Open an MLflow run named and nested per ``identity``; the caller must end it.

    A sweep trial's identity carries its parent's experiment: the trial joins the sweep's
    experiment and skips the lookup.
    """
    import mlflow

    if identity.experiment_id is None:
        experiment = experiment_id(tracking)
    else:
        use_tracking_uri(str(tracking.uri))
        experiment = identity.experiment_id
    return mlflow.start_run(
        experiment_id=experiment, run_name=identity.name, tags=identity.run_tags()
    )


def log_result(
    cfg: DictConfig,
    result: ExperimentResult,
    files: list[Path],
    run_dir: Path,
    sweep_dir: Path | None = None,
    identity: RunIdentity | None = None,
) -> None:
    """Log everything about a finished experiment into the active MLflow run.

    Params, metrics and tags go in one batch (one store transaction instead of one per call
    and fold). A sweep trial (`sweep_dir` set) logs no holdout plot, report or model: they
    are most of a run's tracking cost, and the sweep's end logs them for the best trial only
    (`stockml.tracking.best_model`). ``identity`` (the one the run was started with) gives
    the config group options recorded as params and the dataset's name.
    """
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    from stockml.tracking.dataset_input import log_dataset

    config = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(config, dict)
    choices = identity.choices if identity is not None else {}
    params = run_params(config, choices)
    if result.search is not None:
        params |= {f"search.best.{k}": str(v) for k, v in result.search.best_params.items()}
    model_id = None
    if sweep_dir is None and cfg.tracking.log_model:
        # Before the metrics: MLflow 3 copies the run's step-0 metrics onto a new model by
        # reading back each metric's history and logging all of them again (each insert fails
        # as a duplicate, then is deduplicated), about half of what log_model costs. Logged
        # first, the model gets the same metrics from the one batch below, carrying its id.
        model_id = log_model(result.pipeline, result.data, params)
    stamp = int(time.time() * 1000)
    metrics = [
        Metric(key, float(value), stamp, 0, model_id=model_id)
        for key, value in result.flat_metrics().items()
        if np.isfinite(value)
    ]
    for fold in result.cv.folds:
        metrics += [
            Metric(f"cv_{key}", float(value), stamp, fold.fold,
                   model_id=model_id if fold.fold == MODEL_METRICS_STEP else None)
            for key, value in fold.metrics.items()
            if np.isfinite(value)
        ]  # fmt: skip
    tags = {
        "data_fingerprint": result.data.fingerprint,
        "target": result.data.target.describe(),  # the label every metric scores against
        "model": str(cfg.model._target_),
        "features": str(cfg.features.get("preset")),
        "run_dir": str(run_dir.resolve()),
        **package_versions(),
        **audit_tags(cfg.features),
    }
    if result.search is not None:
        # Its cv_* metrics come from the folds the search selected on: optimistic by design.
        tags["search_method"] = result.search.method
        metrics += [
            Metric(key, float(value), stamp, 0, model_id=model_id)
            for key, value in (
                ("search_best_score", result.search.best_score),
                ("search_n_candidates", result.search.n_candidates),
                ("search_seconds", result.search.seconds),
            )
            if np.isfinite(value)
        ]
    if sweep_dir is not None:
        tags["sweep_dir"] = str(sweep_dir.resolve())
    commit = git_commit()
    if commit:
        tags["git_commit"] = commit
    mlflow.MlflowClient().log_batch(
        mlflow.active_run().info.run_id,
        metrics=metrics,
        params=[Param(key, value) for key, value in params.items()],
        tags=[RunTag(key, value) for key, value in tags.items()],
    )
    log_dataset(result.data.panel, cfg.data, result.data.fingerprint, choices)
    snapshot = run_dir / ".hydra"
    if snapshot.is_dir():
        mlflow.log_artifacts(str(snapshot), artifact_path="config")
    for path in files:
        mlflow.log_artifact(str(path))
    if sweep_dir is not None:
        return
    if cfg.tracking.log_plots:
        log_plots(result)
    if cfg.tracking.log_report:
        log_report(result)


@without_distribution_scan()
def log_model(
    pipeline: Pipeline, data: ModellingData, params: Mapping[str, str] | None = None
) -> str:
    """Log the pipeline with the feature recipe it needs, so it predicts without its run;
    return its MLflow model id.

    Logged into the active run under the name its pipeline tag holds (`standard-ridge`),
    where `stockml.lifecycle.registry` looks for it. MLflow gives the model the run's params
    and step-0 metrics logged so far; ``params`` are for a run that logs its own later.
    """
    import mlflow
    from mlflow.models import infer_signature

    from stockml.lifecycle.metadata import METADATA_KEY, metadata_for

    example = data.X_holdout.head(INPUT_EXAMPLE_ROWS).reset_index(drop=True)
    signature = infer_signature(example, pipeline.predict(example))
    return mlflow.sklearn.log_model(
        pipeline,
        name=logged_model_name(mlflow.active_run().data.tags),
        params=dict(params or {}),
        signature=signature,
        input_example=example,
        pip_requirements=requirement_pins(),
        # Explicit, and matching the pinned requirements: MLflow 3's default (skops) would need
        # a package the requirements do not list, and refuses stockml's own estimator classes.
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        metadata={METADATA_KEY: metadata_for(data.features, data.X_dev, data.target).to_dict()},
    ).model_id


def log_plots(result: ExperimentResult) -> None:
    # Figures are built with matplotlib.figure.Figure directly: no pyplot, no GUI backend,
    # nothing to close, and 0.2 s less import time.
    import mlflow

    from stockml.plots import holdout_figure, search_history_figure

    holdout = holdout_figure(result.predictions, result.evaluation["holdout"]["ic_by_date"])
    figures = {"plots/holdout.png": holdout}
    if result.search is not None:
        figures["plots/search_history.png"] = search_history_figure(result.search)
    for path, figure in figures.items():
        mlflow.log_figure(figure, path)


def log_report(result: ExperimentResult) -> None:
    """The run's own `report.html`, drawn from its evaluation document, which MLflow's
    artifact view opens in place."""
    import mlflow

    from stockml.reporting.page import render_page
    from stockml.reporting.run_report import REPORT_FILE, run_sections

    title = f"stockml run {mlflow.active_run().info.run_name}"
    mlflow.log_text(render_page(title, run_sections(result.evaluation, title)), REPORT_FILE)
