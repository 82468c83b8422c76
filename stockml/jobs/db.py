"""Engines, sessions and schema upgrades for the job store, with one-line errors.

Every entry point (CLI, worker, Hydra callback) goes through `open_store`, so this is where
SQLite gets the settings that make it safe for several processes and where driver errors
become a `StoreError` the CLI can print without a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from stockml.jobs.env import STORE_URL_ENV
from stockml.messages import first_line

DEFAULT_URL = "sqlite:///outputs/jobs.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. Every run opens the store, and asking Alembic for its head
# parses the migration scripts (~0.2 s with the import); one query against this constant
# is enough when the schema is current. A test keeps it equal to Alembic's head.
SCHEMA_REVISION = "0002"
# The store's own Alembic version table. Alembic's default name, `alembic_version`, is also
# what Optuna's RDB storage records its schema in: with it, a study and a job store could not
# share one database (whichever came second failed on the other's revision).
VERSION_TABLE = "stockml_jobs_version"


class StoreError(RuntimeError):
    """The store cannot be opened or used (bad URL, unreachable server, corrupted file)."""


def default_url() -> str:
    return os.environ.get(STORE_URL_ENV) or DEFAULT_URL


def _sqlite_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def absolute_url(url: str, base: Path | None = None) -> str:
    """The URL with a relative SQLite path made absolute against `base` (default: cwd).

    The URL is handed to job processes and Hydra runs, which may run in another directory.
    """
    parsed = make_url(url)
    path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None or path.is_absolute():
        return url
    absolute = (base or Path.cwd()) / path
    return parsed.set(database=str(absolute)).render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    """WAL + busy timeout + foreign keys on every connection, and BEGIN IMMEDIATE.

    pysqlite's own transaction handling starts transactions lazily with a deferred BEGIN;
    a deferred transaction that reads and then writes can fail with "database is locked"
    instead of waiting when another process wrote in between. Taking the write lock at
    BEGIN makes every transaction wait its turn for up to the busy timeout instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their parent directory created."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreError(f"invalid job store URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    except Exception as exc:
        raise StoreError(f"cannot use job store URL {parsed!r}: {exc}") from exc


def describe_error(url: str, exc: BaseException) -> str:
    """One line saying which store failed and why, without the SQL or a traceback."""
    cause = getattr(exc, "orig", None) or exc
    text = first_line(cause)
    safe_url = make_url(url).render_as_string(hide_password=True)
    if "file is not a database" in text:
        return f"job store {safe_url} is not a valid SQLite database (corrupted?): {text}"
    return f"job store {safe_url} is unavailable: {text}"


@dataclass
class Store:
    """An open job store: the URL it came from, its engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction, committed on success; driver errors -> StoreError."""
        try:
            with self.sessions.begin() as session:
                yield session
        except sa.exc.DBAPIError as exc:
            raise StoreError(describe_error(self.url, exc)) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _schema_is_current(engine: Engine) -> bool:
    """True when the store is already at SCHEMA_REVISION; any error means "migrate and see"."""
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return found.scalar() == SCHEMA_REVISION
    except sa.exc.DBAPIError:
        return False


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic's INFO lines (plugin set-up on import, 'Running upgrade ...') are for migration
    authors; on a run's first use of a store they flood the console, so only its warnings
    pass while it is imported and migrates (`stockml-jobs db upgrade` still shows them)."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def open_store(url: str | None = None, upgrade: bool = True, **engine_kwargs: Any) -> Store:
    """Open the store at `url` (default: $STOCKML_STORE_URL or outputs/jobs.db).

    With `upgrade`, the schema is migrated to head first; that costs one small query when it
    is already there, so every process can call this on start.
    """
    url = url or default_url()
    engine = make_engine(url, **engine_kwargs)
    url = absolute_url(url)
    store = Store(url, engine, sessionmaker(engine, expire_on_commit=False))
    if upgrade and not _schema_is_current(engine):
        try:
            with _alembic_quiet():
                from stockml.jobs.migrate import upgrade_to_head

                upgrade_to_head(engine)
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            raise StoreError(describe_error(url, exc)) from exc
    return store
