"""A Ray head and an MLflow tracking server on this machine, as the README's "Scaling out"
recipe starts them: the cluster tests/test_ray_recipe.py runs its sweeps on.

`.ci/run` starts one for the whole test run with `python tests/ray_cluster.py ENV_FILE`: once
both answer, ENV_FILE gets the variables a client needs (STOCKML_TEST_RAY_ADDRESS,
STOCKML_TEST_MLFLOW_URI, Ray's token), and SIGTERM stops both. Without those variables the test
fixture starts one of its own with `running_cluster`.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

import sqlalchemy as sa

RAY_ADDRESS_ENV = "STOCKML_TEST_RAY_ADDRESS"
MLFLOW_URI_ENV = "STOCKML_TEST_MLFLOW_URI"
POSTGRES_URL_ENV = "STOCKML_TEST_POSTGRES_URL"
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 5  # then SIGKILL: Ray drains for more than 30 s, and nothing here needs it


class ClusterError(RuntimeError):
    """The Ray head or the MLflow server did not come up; the message ends with its log."""


@dataclass
class Cluster:
    """Where the Ray head and the MLflow server answer, and what a client needs to join."""

    ray_address: str
    mlflow_uri: str
    env: dict[str, str] = field(default_factory=dict)  # Ray's settings for every client

    @classmethod
    def from_environment(cls) -> Cluster | None:
        """The cluster .ci/run started, when it named one."""
        ray_address, mlflow_uri = os.environ.get(RAY_ADDRESS_ENV), os.environ.get(MLFLOW_URI_ENV)
        return cls(ray_address, mlflow_uri) if ray_address and mlflow_uri else None

    def exports(self) -> str:
        names = {RAY_ADDRESS_ENV: self.ray_address, MLFLOW_URI_ENV: self.mlflow_uri, **self.env}
        return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in names.items())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _database(postgres_url: str) -> Iterator[str]:
    """A fresh database on the server of `postgres_url` for MLflow's backend store."""
    name = f"stockml_mlflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _start(command: list[str], env: dict[str, str], log: Path, stack: ExitStack) -> Popen:
    """Run `command` in a process group of its own, stopped when `stack` closes."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    stack.callback(_stop, process)
    return process


def _stop(process: Popen) -> None:
    """SIGTERM to the group: `ray start --block` stops its Ray processes on it, `mlflow server`
    its web workers; SIGKILL when that takes too long."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _wait(process: Popen, ready: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:]
            raise ClusterError(f"{what} did not start (exit code {process.poll()}):\n{tail}")
        time.sleep(1)


def _answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_cluster(postgres_url: str) -> Iterator[Cluster]:
    """`ray start --head` (2 CPUs, no dashboard) and `mlflow server` on a fresh PostgreSQL
    database with served artifacts, both on 127.0.0.1, for as long as the block runs."""
    bin_dir = Path(sys.executable).parent  # the environment's own `ray` and `mlflow`
    ray_port, mlflow_port = _free_port(), _free_port()
    cluster = Cluster(
        f"127.0.0.1:{ray_port}",
        f"http://127.0.0.1:{mlflow_port}",
        # A token of this cluster's own: Ray turns token authentication on whenever a token
        # exists on the machine, and clients then need the same one.
        {
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
        },
    )
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="stockml-ray-"))  # short: Ray's sockets live here
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        backend = stack.enter_context(_database(postgres_url))
        ray_log, mlflow_log = scratch / "ray.log", scratch / "mlflow.log"
        # Both start at once; each takes tens of seconds on a busy 2-core machine.
        ray_head = _start(
            [str(bin_dir / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
             f"--port={ray_port}", "--num-cpus=2", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={scratch / 'ray'}"],
            cluster.env, ray_log, stack,
        )  # fmt: skip
        mlflow_server = _start(
            [str(bin_dir / "mlflow"), "server", "--host=127.0.0.1", f"--port={mlflow_port}",
             "--workers=1", f"--backend-store-uri={backend}", "--serve-artifacts",
             f"--artifacts-destination={scratch / 'artifacts'}"],
            # No job runner (it serves MLflow's GenAI jobs): fewer processes to start and stop.
            {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}, mlflow_log, stack,
        )  # fmt: skip
        _wait(ray_head, lambda: "Ray runtime started" in ray_log.read_text(errors="replace"),
              "the Ray head", ray_log)  # fmt: skip
        _wait(mlflow_server, lambda: _answers(cluster.mlflow_uri), "the MLflow server",
              mlflow_log)  # fmt: skip
        yield cluster


def main(env_file: str) -> None:
    """Start the cluster, write its variables to `env_file`, and keep it until SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with running_cluster(os.environ[POSTGRES_URL_ENV]) as cluster:
        partial = Path(f"{env_file}.part")  # whole or not at all: .ci/run waits for the file
        partial.write_text(cluster.exports())
        partial.replace(env_file)
        while True:
            signal.pause()


if __name__ == "__main__":
    main(sys.argv[1])
