"""Where runs are recorded (issue 13): $MLFLOW_TRACKING_URI when set and `tracking.uri` is not
given, an explicit `tracking.uri` over both, and one store whatever the job's working
directory (`hydra.job.chdir=true`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config
from stockml.lifecycle.cli import _parser
from stockml.reporting.cli import parse_args as report_args
from stockml.tracking_uri import LOCAL_STORE_URI, TRACKING_URI_ENV, default_tracking_uri

ENV_URI = "sqlite:////srv/shared/mlflow.db"


def test_the_environment_variable_is_the_default_tracking_uri(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TRACKING_URI_ENV, ENV_URI)
    assert compose_config().tracking.uri == ENV_URI


def test_an_explicit_tracking_uri_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TRACKING_URI_ENV, ENV_URI)
    cfg = compose_config(["tracking.uri=sqlite:///explicit.db"])
    assert cfg.tracking.uri == "sqlite:///explicit.db"


def test_without_the_variable_runs_go_to_the_output_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TRACKING_URI_ENV, raising=False)
    cfg = compose_config([f"paths.output_root={tmp_path}"])
    assert cfg.tracking.uri == f"sqlite:///{tmp_path}/mlflow.db"


def test_the_companion_commands_read_the_variable_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TRACKING_URI_ENV, raising=False)
    assert default_tracking_uri() == LOCAL_STORE_URI
    monkeypatch.setenv(TRACKING_URI_ENV, ENV_URI)
    assert report_args([]).tracking_uri == ENV_URI
    assert _parser("reproduce").parse_args([]).tracking_uri == ENV_URI
    told = _parser("reproduce").parse_args(["--tracking-uri", "sqlite:///x.db"])
    assert told.tracking_uri == "sqlite:///x.db"


@pytest.mark.slow
def test_runs_in_their_own_directory_still_share_one_store(tmp_path: Path) -> None:
    """`hydra.job.chdir=true` moves each job into its run directory; the stores must stay under
    the output root of the directory stockml was started in."""
    for alpha in ("1.0", "2.0"):
        completed = run_stockml(
            tmp_path, "data.tickers=[AAPL,IBM]", "data.start=2008-01-01", *FAST,
            "hydra.job.chdir=true", "tracking.log_model=false", "tracking.log_plots=false",
            f"model.alpha={alpha}",
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
    stores = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.db"))
    assert stores == ["outputs/jobs.db", "outputs/mlflow.db"]
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    experiment = client.get_experiment_by_name("stockml")
    assert len(client.search_runs([experiment.experiment_id])) == 2


@pytest.mark.parametrize("users_value", [None, ENV_URI])
def test_setting_mlflows_uri_leaves_the_users_variable_as_it_was(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, users_value: str | None
) -> None:
    """MLflow exports the URI it is given; a later job must still see the user's default."""
    import mlflow

    from stockml.tracking_uri import use_tracking_uri

    if users_value is None:
        monkeypatch.delenv(TRACKING_URI_ENV, raising=False)
    else:
        monkeypatch.setenv(TRACKING_URI_ENV, users_value)
    run_store = f"sqlite:///{tmp_path}/mlflow.db"
    use_tracking_uri(run_store)
    assert mlflow.get_tracking_uri() == run_store
    assert os.environ.get(TRACKING_URI_ENV) == users_value
    expected = users_value or f"sqlite:///{tmp_path / 'next'}/mlflow.db"
    assert compose_config([f"paths.output_root={tmp_path / 'next'}"]).tracking.uri == expected
