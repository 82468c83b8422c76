"""Job store fixtures: an empty store on SQLite and on PostgreSQL (fresh database per session)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stockml.jobs.db import Store, open_store
from stockml.jobs.models import Job


@pytest.fixture(scope="session")
def postgres_store_url(postgres_url: str) -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    name = f"stockml_jobs_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty job store on each backend (rows deleted before the test on PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    url = request.getfixturevalue("postgres_store_url")
    store = open_store(url)
    with store.session() as session:
        session.execute(sa.delete(Job))
    store.dispose()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.dispose()
