"""Which errors count as the user's (one line) and which as bugs (traceback), and the checks
that refuse a wrong optimizer or tracking store before any data is loaded."""

from __future__ import annotations

import http.server
import pickle
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hydra.errors import InstantiationException
from sklearn.linear_model import Ridge

from stockml.config import ConfigError, compose_config
from stockml.config_checks import check_config
from stockml.errors import StockmlError, user_error_message
from stockml.messages import InputError
from stockml.tracking_uri import check_tracking_uri
from stockml.validation import WalkForwardSplit


def test_a_plain_value_error_is_a_bug_not_a_user_error() -> None:
    assert user_error_message(ValueError("y_true and y_pred must not contain NaN")) is None
    assert user_error_message(KeyError("state")) is None


def test_stockml_checks_and_sklearn_parameter_errors_are_user_errors() -> None:
    assert user_error_message(InputError("cv.n_splits bad\nmore")) == "cv.n_splits bad"
    with pytest.raises(ValueError) as caught:
        Ridge(alpha=-1).fit([[0.0], [1.0]], [0.0, 1.0])
    assert "alpha" in user_error_message(caught.value)
    with pytest.raises(ValueError) as caught:
        WalkForwardSplit(n_splits=1)
    wrapped = InstantiationException("Error in call to target ...")
    wrapped.__cause__ = caught.value
    assert (
        user_error_message(wrapped) == "WalkForwardSplit: n_splits must be an integer >= 2, got 1"
    )


def test_stockml_error_survives_pickling_with_one_prefix() -> None:
    # A joblib multirun pickles a trial's exception back to the parent process.
    error = pickle.loads(pickle.dumps(StockmlError("target.horizon must be >= 1")))
    assert str(error) == "stockml: error: target.horizon must be >= 1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["optimizer=bayesian", "optimizer.n_trials=0"],
            "optimizer.n_trials must be an integer >= 1, got 0",
        ),
        (
            ["optimizer=bayesian", "optimizer.n_trials=-3"],
            "optimizer.n_trials must be an integer >= 1, got -3",
        ),
        (
            ["optimizer=random", "optimizer.n_trials=2.5"],
            "optimizer.n_trials must be an integer >= 1",
        ),
        (
            ["optimizer=grid", "optimizer.grid_points=1"],
            "optimizer.grid_points must be an integer >= 2",
        ),
        (["optimizer=grid", "optimizer.max_candidates=0"], "optimizer.max_candidates must be"),
        (["optimizer=bayesian", "optimizer.timeout=-5"], "optimizer.timeout must be null or"),
        (["optimizer=bayesian", "optimizer.pruning_startup=-1"], "optimizer.pruning_startup must"),
        (["optimizer=bayesian", "optimizer.pruning=maybe"], "optimizer.pruning must be true or"),
        (["optimizer=random", "optimizer.metric=accuracy"], "optimizer.metric must be one of"),
        (["optimizer.method=simplex"], "optimizer.method must be one of"),
        (
            [
                "optimizer=random",
                "+optimizer.search_space={selector__k: {type: int, low: 5, high: 1}}",
            ],
            "optimizer: search space selector__k: needs low < high",
        ),
    ],
)
def test_wrong_optimizer_values_are_refused_before_data_loads(
    overrides: list[str], message: str
) -> None:
    cfg = compose_config([*overrides, "tracking.enabled=false"])
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_config(cfg)


@pytest.mark.parametrize("option", ["grid", "random", "bayesian", "none"])
def test_shipped_optimizer_defaults_pass(option: str) -> None:
    check_config(compose_config([f"optimizer={option}", "tracking.enabled=false"]))


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:///outputs/mlflow.db",
        "sqlite:////abs/mlflow.db",
        "file:///tmp/mlruns",
        "mlruns",
        "postgresql+psycopg://user@host/db",
        "mysql://user@host/db",
        "databricks",
    ],
)
def test_stores_mlflow_knows_are_accepted_without_contacting_them(uri: str) -> None:
    check_tracking_uri(uri)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("garbage://x", "MLflow has no store for scheme 'garbage'"),
        ("sqlite://mlflow.db", "an SQLite store is sqlite:///<path to file>"),
    ],
)
def test_unknown_store_schemes_are_refused(uri: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"tracking.uri={uri}: {message}")):
        check_tracking_uri(uri)


@pytest.fixture
def health_server() -> Iterator[str]:
    """An HTTP server that answers /health as an MLflow server does."""

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_tracking_server_that_answers_is_accepted(health_server: str) -> None:
    check_tracking_uri(health_server)
    check_tracking_uri(health_server + "/")


def test_a_tracking_server_that_does_not_answer_is_refused_quickly() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=rf"tracking.uri=http://127.0.0.1:{port}: no MLflow"):
        check_tracking_uri(f"http://127.0.0.1:{port}", timeout=2.0)
    assert time.perf_counter() - started < 2.5


def test_check_config_checks_the_tracking_uri_only_when_tracking_is_on() -> None:
    with pytest.raises(ConfigError, match="garbage"):
        check_config(compose_config(["tracking.uri=garbage://x"]))
    check_config(compose_config(["tracking.uri=garbage://x", "tracking.enabled=false"]))


def test_a_bad_data_file_format_is_a_user_error() -> None:
    from stockml.data.files import discover

    with pytest.raises(ValueError) as caught:
        discover(".", "xls")
    assert user_error_message(caught.value).startswith("file_format must be one of csv")
