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
from sqlalchemy import Connection, Engine, inspect, text

from stockml.jobs.db import VERSION_TABLE

MIGRATIONS_PACKAGE_DIR = "stockml.jobs:migrations"
# Where stores created before VERSION_TABLE recorded their revision.
LEGACY_VERSION_TABLE = "alembic_version"
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
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _adopt_legacy_version(connection: Connection) -> None:
    """Move a store's revision from `alembic_version` into VERSION_TABLE, once.

    Only a row stockml wrote is moved: the legacy table must hold one of this package's
    revisions and the store's `jobs` table must exist. Anything else in `alembic_version`
    (another tool's schema, e.g. Optuna's) is left untouched.
    """
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables or not {LEGACY_VERSION_TABLE, "jobs"} <= tables:
        return
    legacy = connection.execute(text(f"SELECT version_num FROM {LEGACY_VERSION_TABLE}")).all()
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if len(legacy) != 1 or legacy[0][0] not in known:
        return
    command.stamp(alembic_config(connection), legacy[0][0])
    connection.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))


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
        _adopt_legacy_version(connection)
        if current_revision(connection) == head_revision():
            return False
        command.upgrade(alembic_config(connection), "head")
    return True
