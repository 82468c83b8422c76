"""A recorded run as the lifecycle commands see it: its config snapshot, metrics and ids.

A run is named either by its directory (Hydra's `.hydra/config.yaml` beside `metrics.json`)
or by its MLflow run id (the same files logged as artifacts), so a run can be reproduced or
retrained after its directory is gone, and a directory works without MLflow.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stockml.config import CONFIG_NAME, ConfigError, config_dir
from stockml.lifecycle.errors import LifecycleError
from stockml.messages import first_line
from stockml.run_files import METRICS_FILE

SNAPSHOT_DIR = ".hydra"
SNAPSHOT_ARTIFACTS = "config"
HYDRA_SNAPSHOT = "hydra.yaml"  # Hydra's own config beside the run's, with its group choices
RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class RunSnapshot:
    """The composed, unresolved config a run ran with, and what it recorded."""

    ref: str
    config: DictConfig
    metrics: dict[str, Any] | None
    run_id: str | None
    fingerprint: str | None
    # The config group options the run was composed from (`model` -> `ridge`), so a re-run
    # records and names itself as the run did; empty when the snapshot does not say.
    choices: dict[str, str] = field(default_factory=dict)


def load_snapshot(ref: str, tracking_uri: str) -> RunSnapshot:
    """The snapshot of a run directory, or of an MLflow run id in ``tracking_uri``."""
    if Path(ref).expanduser().is_dir():
        return _from_run_dir(Path(ref).expanduser())
    if RUN_ID.match(ref):
        return _from_mlflow(ref, tracking_uri)
    raise LifecycleError(f"{ref!r} is neither a run directory nor an MLflow run id")


def _from_run_dir(run_dir: Path) -> RunSnapshot:
    config_path = run_dir / SNAPSHOT_DIR / f"{CONFIG_NAME}.yaml"
    if not config_path.is_file():
        raise LifecycleError(f"{run_dir} holds no config snapshot ({config_path} is missing)")
    metrics_path = run_dir / METRICS_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    return RunSnapshot(
        ref=str(run_dir),
        config=_load_config(config_path),
        metrics=metrics,
        run_id=(metrics or {}).get("mlflow_run_id"),
        fingerprint=(metrics or {}).get("data_fingerprint"),
        choices=_load_choices(config_path.with_name(HYDRA_SNAPSHOT)),
    )


def _from_mlflow(run_id: str, tracking_uri: str) -> RunSnapshot:
    from mlflow.exceptions import MlflowException

    from stockml.lifecycle.registry import client as mlflow_client

    client = mlflow_client(tracking_uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise LifecycleError(f"no MLflow run {run_id} in {tracking_uri}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = client.download_artifacts(run_id, SNAPSHOT_ARTIFACTS, tmp)
        except (MlflowException, OSError) as exc:
            raise LifecycleError(f"MLflow run {run_id} has no config snapshot artifact") from exc
        config = _load_config(Path(folder) / f"{CONFIG_NAME}.yaml")
        choices = _load_choices(Path(folder) / HYDRA_SNAPSHOT)
        try:
            metrics_path = Path(client.download_artifacts(run_id, METRICS_FILE, tmp))
            metrics = json.loads(metrics_path.read_text())
        except (MlflowException, OSError):
            metrics = None
    return RunSnapshot(
        ref=run_id,
        config=config,
        metrics=metrics,
        run_id=run_id,
        fingerprint=run.data.tags.get("data_fingerprint"),
        choices=choices,
    )


def _load_config(path: Path) -> DictConfig:
    if not path.is_file():
        raise LifecycleError(f"config snapshot {path} is missing")
    config = OmegaConf.load(path)
    if not isinstance(config, DictConfig):
        raise LifecycleError(f"config snapshot {path} is not a mapping")
    return config


def _load_choices(path: Path) -> dict[str, str]:
    """The config group options recorded in a Hydra snapshot (`hydra.yaml`); empty when it
    is missing."""
    from stockml.tracking.identity import job_choices

    return job_choices(OmegaConf.load(path).hydra) if path.is_file() else {}


@contextmanager
def config_dir_for(snapshot: RunSnapshot) -> Iterator[Path]:
    """A temporary Hydra config dir whose primary config is the snapshot.

    The snapshot lacks the `hydra:` node (Hydra saves it apart), so today's run-directory
    layout and callbacks are added: where outputs go stays the usual
    `${paths.output_root}/runs/...`, while every experiment value comes from the snapshot.
    """
    hydra_node = OmegaConf.load(config_dir() / f"{CONFIG_NAME}.yaml").get("hydra")
    primary = OmegaConf.merge(snapshot.config, {"hydra": hydra_node})
    with tempfile.TemporaryDirectory(prefix="stockml-snapshot-") as tmp:
        OmegaConf.save(primary, Path(tmp) / f"{CONFIG_NAME}.yaml")
        yield Path(tmp)


def refuse_group_choices(overrides: Sequence[str]) -> None:
    """A snapshot is fully composed: `features=minimal` would set the node to a string.

    Choosing another option of a config group needs the defaults list the snapshot no longer
    has, so such overrides are refused with what to write instead.
    """
    groups = {path.name for path in config_dir().iterdir() if path.is_dir()}
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in groups:
            raise ConfigError(
                f"{override!r} chooses a config group option, but a recorded run's config is "
                f"already composed: change its values instead (e.g. {key}.<key>=...), or start "
                "a new run with `stockml`"
            )


def compose_snapshot(snapshot: RunSnapshot, overrides: Sequence[str] = ()) -> DictConfig:
    """The config the re-run will see: the snapshot with ``overrides`` applied."""
    from hydra import compose, initialize_config_dir

    refuse_group_choices(overrides)
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with config_dir_for(snapshot) as folder:
        try:
            with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
                return compose(config_name=CONFIG_NAME, overrides=list(overrides))
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(
                f"bad overrides {list(overrides)} for {snapshot.ref}: {first_line(exc)}"
            ) from exc
