"""A new SQLite MLflow store is a copy of a cached, migrated empty one: the same store MLflow
would build (schema at head, its Default experiment pointing into this store's directory)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest
from mlflow.store.db import utils as db_utils
from omegaconf import OmegaConf

from stockml.tracking import store_template
from stockml.tracking.run_logging import experiment_id


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "stockml"


def tracking(root: Path) -> OmegaConf:
    return OmegaConf.create(
        {
            "uri": f"sqlite:///{root}/mlflow.db",
            "experiment_name": "stockml",
            "artifact_location": str(root / "mlartifacts"),
        }
    )


def schema(database: Path) -> dict[str, list[str]]:
    """Each table's and index's definition as sorted lines: MLflow's own builds of one version
    differ in the order of a table's constraints (its migrations iterate over sets)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master").fetchall()
    return {
        name: sorted(line.strip(" ,") for line in (sql or "").splitlines()) for name, sql in rows
    }


def test_new_stores_are_copies_of_one_template(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow's Default experiment points at ./mlruns
    reference = mlflow.MlflowClient(f"sqlite:///{tmp_path}/ref/mlflow.db")  # built by MLflow
    expected_default = reference.get_experiment("0").artifact_location
    experiment_id(tracking(tmp_path / "a"))
    assert [p.name for p in cache.iterdir()] == [store_template.template_path().name]
    # A second new store must not migrate anything: it is copied.
    monkeypatch.setattr(
        db_utils, "_initialize_tables", lambda engine: pytest.fail("migrated again")
    )
    copied = experiment_id(tracking(tmp_path / "b"))
    assert schema(tmp_path / "b" / "mlflow.db") == schema(tmp_path / "ref" / "mlflow.db")
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/b/mlflow.db")
    assert client.get_experiment("0").name == "Default"
    assert client.get_experiment("0").artifact_location == expected_default
    assert client.get_experiment(copied).name == "stockml"
    run = client.create_run(copied)
    client.log_metric(run.info.run_id, "ic", 0.25)
    assert client.get_run(run.info.run_id).data.metrics == {"ic": 0.25}
    assert not list((tmp_path / "b").glob(".*.tmp"))


def test_existing_and_non_sqlite_stores_are_left_alone(tmp_path: Path, cache: Path) -> None:
    existing = tmp_path / "mlflow.db"
    existing.write_bytes(b"")
    assert not store_template.seed_sqlite_store(f"sqlite:///{existing}")
    assert existing.read_bytes() == b""
    assert not store_template.seed_sqlite_store("http://localhost:5000")
    assert not cache.exists()


def test_unwritable_cache_falls_back_to_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    database = tmp_path / "store" / "mlflow.db"
    assert not store_template.seed_sqlite_store(f"sqlite:///{database}")
    assert not database.exists()
    assert experiment_id(tracking(tmp_path / "store"))  # MLflow builds it as before
