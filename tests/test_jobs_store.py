"""The store: migrated schema equals the models, SQLite settings, one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stockml.jobs import queue
from stockml.jobs.db import VERSION_TABLE, Store, StoreError, open_store
from stockml.jobs.migrate import head_revision, upgrade_to_head
from stockml.jobs.models import Base

pytest_plugins = ["jobs_fixtures"]


def test_migrated_schema_matches_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == head_revision()


def test_upgrade_runs_once_then_skips(store: Store) -> None:
    assert upgrade_to_head(store.engine) is False


def test_fresh_sqlite_store_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'jobs.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert upgrade_to_head(store.engine) is False
    store.dispose()


def test_relative_sqlite_url_is_made_absolute_for_child_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///outputs/jobs.db")
    assert store.url == f"sqlite:///{tmp_path / 'outputs' / 'jobs.db'}"
    store.dispose()


def test_timestamps_come_back_as_utc(store: Store) -> None:
    before = datetime.now(UTC)
    job = queue.get(store, queue.submit(store, "train", [], validate=False))
    assert job.created_at.tzinfo is not None
    assert before <= job.created_at <= datetime.now(UTC)


def test_corrupted_sqlite_file_gives_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(b"this is not a database at all " * 200)
    with pytest.raises(StoreError, match="not a valid SQLite database") as raised:
        open_store(f"sqlite:///{path}")
    assert "\n" not in str(raised.value)


def test_unreachable_postgres_gives_one_line_error() -> None:
    with pytest.raises(StoreError, match="unavailable") as raised:
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert "\n" not in str(raised.value)


def test_check_constraint_refuses_unknown_status(store: Store) -> None:
    job_id = queue.submit(store, "train", [], validate=False)
    with pytest.raises(StoreError), store.session() as session:
        session.execute(sa.text("UPDATE jobs SET status = 'bogus' WHERE id = :id"), {"id": job_id})


def test_the_fast_schema_check_names_alembics_head() -> None:
    from stockml.jobs.db import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION


def test_upgrading_a_0001_store_keeps_each_jobs_directory_on_record(tmp_path: Path) -> None:
    """Revision 0002 copies every known output_dir into job_outputs, output root unknown."""
    from datetime import timedelta

    from alembic import command

    from stockml.jobs.cleanup import cleanup
    from stockml.jobs.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    old = open_store(url, upgrade=False)
    with old.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(
            sa.text(
                "INSERT INTO jobs (kind, priority, status, overrides, created_at, finished_at, "
                "attempts, max_attempts, cancel_requested, output_dir) VALUES ('train', 0, "
                "'succeeded', '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 2, 3, 0, :dir)"
            ),
            {"dir": str(tmp_path / "run")},
        )
    old.dispose()
    (tmp_path / "run" / ".hydra").mkdir(parents=True)
    store = open_store(url)
    [output] = queue.outputs(store, 1)
    assert (output.attempt, output.path, output.output_root) == (2, str(tmp_path / "run"), None)
    done = cleanup(store, timedelta(days=1))
    assert [kept.reason for kept in done.kept] == [
        "no output root was recorded for it (a run from an older stockml)"
    ]
    assert (tmp_path / "run").is_dir() and queue.list_jobs(store) == []


def test_migrating_a_new_store_keeps_alembic_info_off_the_console(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run's first use of a store migrates it; Alembic's INFO lines must not reach the
    console (they were 14 lines under [HYDRA] on a first multirun)."""
    import logging

    alembic = logging.getLogger("alembic")
    with caplog.at_level(logging.INFO, logger="alembic"):  # whatever other tests set
        open_store(f"sqlite:///{tmp_path / 'new.db'}").engine.dispose()
        assert alembic.level == logging.INFO  # left as it was
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("study_first", [True, False])
def test_an_optuna_study_and_a_job_store_share_one_database(
    tmp_path: Path, study_first: bool
) -> None:
    """Both use Alembic; with one version table the second of them failed to open."""
    import optuna

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    if study_first:
        optuna.create_study(storage=url, study_name="s").optimize(lambda t: 1.0, n_trials=1)
    store = open_store(url)
    job_id = queue.submit(store, "train", [], validate=False)
    store.dispose()
    optuna.create_study(storage=url, study_name="s", load_if_exists=True).optimize(
        lambda t: 2.0, n_trials=1
    )
    assert len(optuna.load_study(storage=url, study_name="s").trials) == 1 + study_first
    reopened = open_store(url)
    assert queue.get(reopened, job_id).kind == "train"
    reopened.dispose()
    assert {"alembic_version", VERSION_TABLE, "jobs"} <= _tables(url)


def test_a_store_versioned_in_alembic_version_is_adopted_with_its_jobs(tmp_path: Path) -> None:
    """Stores made before the store had its own version table keep their rows and revision."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    old = open_store(url)
    job_id = queue.submit(old, "train", ["model=lasso"], validate=False)
    with old.engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {VERSION_TABLE} RENAME TO alembic_version"))
    old.dispose()

    store = open_store(url)
    assert queue.get(store, job_id).overrides == ["model=lasso"]
    with store.engine.connect() as connection:
        version = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        assert version.scalar() == head_revision()
    store.dispose()
    assert "alembic_version" not in _tables(url)
