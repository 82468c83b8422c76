"""The Hydra callback, exercised through a real Hydra app run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stockml.jobs import queue
from stockml.jobs.db import Store, open_store
from stockml.jobs.worker import Worker, WorkerOptions

pytest_plugins = ["jobs_fixtures"]
APP = [sys.executable, str(Path(__file__).parent / "jobs_fake_app" / "app.py")]


def _run_app(tmp_path: Path, store_url: str, *overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAKE_OUT": str(tmp_path / "out"), "FAKE_STORE_URL": store_url}
    env.pop("STOCKML_JOB_ID", None)
    return subprocess.run([*APP, *overrides], env=env, capture_output=True, text=True, timeout=60)


def test_hand_started_run_records_its_own_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    done = _run_app(tmp_path, url, "value=0.25")
    assert done.returncode == 0, done.stderr
    store = open_store(url)
    [job] = queue.list_jobs(store)
    assert (job.status, job.kind, job.worker_id, job.overrides) == (
        "succeeded",
        "train",
        "cli",
        ["value=0.25"],
    )
    assert job.metrics == {
        "optimized_metric": "cv_ic_mean",
        "value": 0.25,
        "cv": {"ic": 0.25},
        "holdout": {"ic": 0.125},
    }
    assert job.mlflow_run_id == "mlflow-0.25"
    assert Path(job.output_dir, "metrics.json").is_file()  # type: ignore[arg-type]
    assert "value: 0.25" in job.config_yaml and "hydra" not in job.config_yaml  # type: ignore[operator]


def test_failing_run_is_recorded_failed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    done = _run_app(tmp_path, url, "fail=true")
    assert done.returncode != 0
    [job] = queue.list_jobs(open_store(url))
    assert job.status == "failed"
    assert job.error == "RuntimeError: the model diverged"


def test_multirun_trials_share_a_sweep_id(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    done = _run_app(tmp_path, url, "-m", "value=0.1,0.2")
    assert done.returncode == 0, done.stderr
    jobs = queue.list_jobs(open_store(url))
    assert sorted(job.metrics["value"] for job in jobs) == [0.1, 0.2]  # type: ignore[index]
    assert {job.status for job in jobs} == {"succeeded"}
    [sweep] = {job.sweep_id for job in jobs}
    assert sweep and all(job.output_dir.startswith(sweep) for job in jobs)  # type: ignore[union-attr]


def test_unreachable_store_warns_once_and_the_run_succeeds(tmp_path: Path) -> None:
    done = _run_app(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert done.returncode == 0, done.stderr
    output = (done.stdout + done.stderr).splitlines()
    warnings = [line for line in output if "job store" in line]
    assert len(warnings) == 1 and "run not recorded" in warnings[0]


def test_disabled_store_records_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    done = _run_app(tmp_path, url, "store.enabled=false")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "jobs.db").exists()


def test_worker_run_fills_in_the_queued_row(store: Store, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("FAKE_STORE_URL", "sqlite:///never-used.db")  # the worker's URL wins
    single = queue.submit(store, "train", ["value=0.75"], validate=False)
    sweep = queue.submit(store, "train", ["-m", "value=0.1,0.2"], validate=False)
    options = WorkerOptions(url=store.url, lease_seconds=5, until_empty=True, command=APP)
    assert Worker(options).run().by_status == {"succeeded": 2}

    job = queue.get(store, single)
    assert job.worker_id != "cli" and job.mlflow_run_id == "mlflow-0.75"
    assert job.metrics["value"] == 0.75  # type: ignore[index]
    assert Path(job.output_dir, "metrics.json").is_file()  # type: ignore[arg-type]
    trials = [j for j in queue.list_jobs(store) if j.parent_id == sweep]
    assert sorted(j.metrics["value"] for j in trials) == [0.1, 0.2]  # type: ignore[index]
    assert queue.get(store, sweep).output_dir == trials[0].sweep_id
    assert len(queue.list_jobs(store)) == 4
    assert not Path("never-used.db").exists()


def test_a_killed_hand_run_is_marked_failed_once_its_lease_expires(tmp_path: Path) -> None:
    import signal
    import time

    from stockml.jobs.cli import main as jobs_main

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    env = {**os.environ, "FAKE_OUT": str(tmp_path / "out"), "FAKE_STORE_URL": url}
    env.pop("STOCKML_JOB_ID", None)
    run = subprocess.Popen([*APP, "sleep=60", "+store.lease_seconds=1"], env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if Path(tmp_path / "jobs.db").exists() and queue.list_jobs(open_store(url)):
                break
            time.sleep(0.1)
        store = open_store(url)
        [job] = queue.list_jobs(store)
        first_lease = job.lease_expires_at
        time.sleep(1.5)  # the run renews every 0.25 s while it lives
        [job] = queue.list_jobs(store)
        assert job.status == "running" and job.lease_expires_at > first_lease
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    time.sleep(1.5)  # the lease runs out
    assert jobs_main(["--db", url, "list"]) == 0
    [job] = queue.list_jobs(store)
    assert job.status == "failed"
    assert "lease expired" in (job.error or "")


def _start_app(tmp_path: Path, url: str, *overrides: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FAKE_OUT": str(tmp_path / "out"), "FAKE_STORE_URL": url}
    env.pop("STOCKML_JOB_ID", None)
    return subprocess.Popen(
        [*APP, *overrides], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _running_rows(url: str) -> list[int]:
    if not Path(url.removeprefix("sqlite:///")).exists():
        return []
    store = open_store(url)
    try:
        return [job.id for job in queue.list_jobs(store, status="running")]
    finally:
        store.dispose()


def test_cancel_stops_a_hand_started_run(tmp_path: Path, capsys) -> None:
    from jobs_helpers import wait_until

    from stockml.jobs.cli import main as jobs_main

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    run = _start_app(tmp_path, url, "sleep=60", "+store.lease_seconds=1")
    try:
        wait_until(lambda: _running_rows(url), timeout=30, what="the run's row")
        [row] = _running_rows(url)
        assert jobs_main(["--db", url, "cancel", str(row)]) == 0
        assert "cancel requested" in capsys.readouterr().out
        _, stderr = run.communicate(timeout=20)  # not the 60 s the run would take
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 1
    assert "stockml: error: run cancelled (stockml-jobs cancel)" in stderr
    job = queue.get(open_store(url), row)
    assert (job.status, job.error) == ("cancelled", "cancelled while running")


def test_cancel_stops_one_trial_of_a_hand_started_sweep(tmp_path: Path) -> None:
    from jobs_helpers import wait_until

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    run = _start_app(tmp_path, url, "-m", "sleep=60,0", "+store.lease_seconds=1")
    try:
        wait_until(lambda: _running_rows(url), timeout=30, what="the first trial's row")
        [first] = _running_rows(url)
        queue.cancel(open_store(url), first)
        run.communicate(timeout=30)
    finally:
        run.kill()
        run.wait()
    jobs = sorted(queue.list_jobs(open_store(url)), key=lambda job: job.id)
    assert [(job.status, job.overrides) for job in jobs] == [
        ("cancelled", ["sleep=60", "+store.lease_seconds=1"]),
        ("succeeded", ["sleep=0", "+store.lease_seconds=1"]),
    ]


def test_cancel_reaches_a_run_off_the_main_thread(store: Store) -> None:
    """Launchers that run the task on another thread: the run gets RunCancelled there too."""
    import threading
    import time

    from stockml.jobs.lease import RunCancelled, RunLease

    row = queue.submit(store, "train", [], validate=False)
    assert queue.claim(store, "cli", 60) is not None
    outcome: list[str] = []

    def run() -> None:
        lease = RunLease(store, row, "cli", seconds=0.4)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                time.sleep(0.01)
            outcome.append("ran to the end")
        except RunCancelled:
            outcome.append("cancelled")
        finally:
            lease.stop()

    thread = threading.Thread(target=run)
    thread.start()
    queue.cancel(store, row)
    thread.join(timeout=30)
    assert outcome == ["cancelled"]

