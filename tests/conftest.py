"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL_ENV = "STOCKML_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "STOCKML_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# stockml records where $MLFLOW_TRACKING_URI says: a developer's own server must not receive the
# test runs, nor tests reading outputs/mlflow.db find it empty. Tests that need it set it.
os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(autouse=True)
def _no_tracking_uri_left_behind() -> Iterator[None]:
    """`mlflow.set_tracking_uri` in a test also exports $MLFLOW_TRACKING_URI, which every later
    `stockml` subprocess would then take as its default store (also when a module-scoped
    fixture set it before this test)."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL server, or skip (fail on CI, where one must exist)."""
    import sqlalchemy as sa

    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network error means "no server here"
        reason = (
            f"no PostgreSQL server answers at {url} ({type(exc).__name__}); "
            f"set {POSTGRES_URL_ENV} to a reachable server"
        )
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url
