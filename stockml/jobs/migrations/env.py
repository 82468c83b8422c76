"""Alembic environment: migrates the connection handed over by stockml.jobs.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from stockml.jobs.db import VERSION_TABLE
from stockml.jobs.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Plain `alembic` CLI use (e.g. `alembic revision --autogenerate`) with -x url=...
        url = context.get_x_argument(as_dictionary=True)["url"]
        with create_engine(url).begin() as own_connection:
            _run(own_connection)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
