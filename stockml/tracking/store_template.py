"""A new SQLite MLflow store copied from an empty, fully migrated one instead of built in place.

MLflow builds a new SQLite store by running every schema migration it ships (about seventy
Alembic scripts): over a second of CPU, paid by every new output root (each project, each
test's temporary directory, each fresh checkout). The result depends only on the MLflow
version, so it is built once per version in the user's cache and copied. Nothing else
changes: the template holds tables and no rows, MLflow still checks the schema revision of
every store it opens (a stale template fails loudly, never silently), and it adds its Default
experiment itself on first open, with this store's artifact location.
"""

from __future__ import annotations

import os
import shutil
import threading
from importlib import metadata
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/stockml`, by default `~/.cache/stockml`."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "stockml"


def template_path() -> Path:
    """The empty store for the installed MLflow version (one file per version)."""
    return cache_dir() / f"mlflow-{metadata.version('mlflow')}-empty.db"


def build_template(path: Path) -> Path:
    """Create every MLflow table in a new SQLite file at ``path``, atomically (a temporary
    file renamed into place, so concurrent builders never see half a template)."""
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(path)
    try:
        engine = sqlalchemy.create_engine(f"{SQLITE_PREFIX}{staging}")
        try:
            _initialize_tables(engine)
        finally:
            engine.dispose()
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path


def seed_sqlite_store(uri: str) -> bool:
    """Copy the empty template to ``uri``'s database file when that file does not exist yet;
    True when it did. Other stores (servers, PostgreSQL, existing files) are left alone, and
    so is a store whose template cannot be written (a read-only home): MLflow then builds
    it as before. Callers hold `run_logging.sqlite_init_lock` so no other process is
    creating the same file meanwhile."""
    if not uri.startswith(SQLITE_PREFIX):
        return False
    database = Path(uri.removeprefix(SQLITE_PREFIX))
    if database.exists():
        return False
    template = template_path()
    try:
        if not template.is_file():
            build_template(template)
        _copy_atomically(template, database)
    except OSError:
        return False
    return True


def _copy_atomically(source: Path, target: Path) -> None:
    """A crash mid-copy leaves no half a database at ``target`` for MLflow to trip on."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(target)
    try:
        shutil.copyfile(source, staging)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def _staging(path: Path) -> Path:
    """A name beside ``path`` private to this thread, created with the default permissions
    (a team's shared store must stay as readable as one MLflow would have made)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
