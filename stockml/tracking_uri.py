"""Is `tracking.uri` a store MLflow can write to? Checked before any data is loaded.

Without this check a typo (`garbage://x`) or a tracking server that is down fails only when
the finished experiment is recorded, after minutes of work and with several tracebacks. The
check stays cheap: it reads the URI scheme as MLflow's store registry does, without importing
MLflow (seconds of start-up), and only an http(s) server costs a request.
"""

from __future__ import annotations

import importlib.metadata
import os
import urllib.parse

from stockml.config import ConfigError

# The schemes MLflow's tracking-store registry knows (mlflow.tracking._tracking_service.utils),
# with database URIs matched by prefix (postgresql+psycopg://...) as MLflow does.
FILE_SCHEMES = frozenset({"", "file"})
DATABASE_ENGINES = ("postgresql", "mysql", "sqlite", "mssql")
REMOTE_SCHEMES = frozenset({"databricks", "databricks-uc", "uc"})
HTTP_SCHEMES = frozenset({"http", "https"})
PLUGIN_GROUP = "mlflow.tracking_store"  # third-party stores register their scheme here
REACH_TIMEOUT_S = 3.0
# MLflow's own variable: set, it is where every stockml command records and reads runs unless
# told otherwise (`tracking.uri=...`, `--tracking-uri`). The config reads it too, through
# `${oc.env:MLFLOW_TRACKING_URI,...}` in `tracking.uri`.
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
# The store `stockml` writes by default, seen from the directory it was started in.
LOCAL_STORE_URI = "sqlite:///outputs/mlflow.db"


def default_tracking_uri() -> str:
    """The store the companion commands (report, reproduce, retrain...) read by default:
    $MLFLOW_TRACKING_URI when set, else the local store a default `stockml` run writes."""
    return os.environ.get(TRACKING_URI_ENV) or LOCAL_STORE_URI


def check_tracking_uri(uri: str, timeout: float = REACH_TIMEOUT_S) -> None:
    """Raise ConfigError naming `tracking.uri` if MLflow could not record a run there."""
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if len(scheme) == 1:
        scheme = ""  # a Windows drive letter: a local path
    if scheme.startswith(DATABASE_ENGINES):
        if scheme.startswith("sqlite") and not uri.split("://", 1)[-1].startswith("/"):
            raise ConfigError(f"tracking.uri={uri}: an SQLite store is sqlite:///<path to file>")
        return
    if scheme in HTTP_SCHEMES:
        _check_server(uri, timeout)
        return
    if scheme in FILE_SCHEMES | REMOTE_SCHEMES or scheme in _plugin_schemes():
        return
    raise ConfigError(
        f"tracking.uri={uri}: MLflow has no store for scheme {scheme!r}; use sqlite:///<file>, "
        "file:///<dir>, http(s)://<server>, postgresql://, mysql://, mssql:// or databricks "
        "(or tracking.enabled=false)"
    )


def is_tracking_server(uri: str) -> bool:
    """Whether `uri` is an MLflow tracking server (http or https), which stores artifacts
    itself rather than where the client says."""
    return urllib.parse.urlsplit(uri).scheme.lower() in HTTP_SCHEMES


def _plugin_schemes() -> set[str]:
    return {entry.name for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP)}


def _check_server(uri: str, timeout: float) -> None:
    """Any HTTP answer will do (a proxy may ask for credentials); no answer is refused."""
    # Imported here: urllib.request (http.client, email, ssl) is only needed for a server.
    import urllib.error
    import urllib.request

    health = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"tracking.uri={uri}: no MLflow server answers ({reason}); start it, fix the URI "
            "or set tracking.enabled=false"
        ) from exc


def use_tracking_uri(uri: str) -> None:
    """`mlflow.set_tracking_uri(uri)` without its side effect on the environment.

    MLflow also writes the URI into $MLFLOW_TRACKING_URI for subprocesses to inherit. stockml
    reads that variable as the user's default store (conf/tracking/mlflow.yaml), so the store one
    run set would become the default of the next job composed in this process, and of every
    launcher worker started after it (a sweep over `paths.output_root` would then record every
    job in the first job's store).
    """
    import mlflow

    before = os.environ.get(TRACKING_URI_ENV)
    mlflow.set_tracking_uri(uri)
    if before is None:
        os.environ.pop(TRACKING_URI_ENV, None)
    else:
        os.environ[TRACKING_URI_ENV] = before
