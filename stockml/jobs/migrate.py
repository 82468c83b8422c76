"""Run the Alembic migrations shipped in this package, programmatically.

No alembic.ini is involved: the script location is the package's `migrations/` directory, so
an installed wheel migrates its store exactly like a checkout does.
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_PACKAGE_DIR = "stockml.jobs:migrations"
# Any constant works; it only has to be the same in every process migrating one database.
PG_MIGRATION_LOCK_KEY = 0x570C_4D1  # "stockml"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_PACKAGE_DIR)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> bool:
    """Migrate to head unless already there; returns whether a migration ran.

    Several workers may open a fresh store at once, so the migration itself runs under a
    lock (PostgreSQL advisory lock, SQLite BEGIN IMMEDIATE) and Alembic re-reads the version
    inside it: the loser of the race finds the schema already at head and does nothing.
    """
    with engine.connect() as connection:
        if current_revision(connection) == head_revision():
            return False
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY}
            )
        if current_revision(connection) == head_revision():
            return False
        command.upgrade(alembic_config(connection), "head")
    return True
