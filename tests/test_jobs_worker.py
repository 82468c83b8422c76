"""Workers running the fake job program against SQLite and PostgreSQL stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from jobs_helpers import FAKE_COMMAND_JSON, FAKE_PROGRAM, wait_until

from stockml.jobs import queue
from stockml.jobs.db import Store
from stockml.jobs.worker import Worker, WorkerOptions

pytest_plugins = ["jobs_fixtures"]
LEASE = 1.0


def _options(store: Store, **kwargs: object) -> WorkerOptions:
    values: dict = {"lease_seconds": LEASE, "poll_seconds": 0.1, "command": FAKE_PROGRAM}
    return WorkerOptions(url=store.url, **{**values, **kwargs})


def _submit(store: Store, *args: str, **kwargs: object) -> int:
    return queue.submit(store, "train", list(args), validate=False, **kwargs)  # type: ignore[arg-type]


def _started(marker: Path) -> list[tuple[int, int]]:
    """(job id, pid) of every start the fake program recorded."""
    if not marker.exists():
        return []
    return [tuple(map(int, line.split())) for line in marker.read_text().splitlines()]  # type: ignore[misc]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its dead parent's reaper) counts as stopped
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


def _worker_process(store: Store, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "stockml.jobs.cli", "--db", store.url, "work"]
    options = ["--lease", str(LEASE), "--poll", "0.1", "--command", FAKE_COMMAND_JSON]
    return subprocess.Popen([*command, *options, *args], stderr=subprocess.PIPE)


def test_failing_job_is_recorded_and_the_worker_goes_on(store: Store) -> None:
    failing = _submit(store, "exit=3", "stderr=model exploded", priority=1)
    passing = _submit(store, "exit=0")
    tally = Worker(_options(store, until_empty=True)).run()
    assert tally.by_status == {"failed": 1, "succeeded": 1}
    failed = queue.get(store, failing)
    assert failed.status == "failed"
    assert failed.error == "exit code 3: model exploded"
    assert queue.get(store, passing).status == "succeeded"


def test_cancelled_queued_job_never_starts(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = _submit(store, f"marker={marker}")
    queue.cancel(store, job_id)
    Worker(_options(store, until_empty=True)).run()
    assert queue.get(store, job_id).status == "cancelled"
    assert not marker.exists()


def test_cancel_running_job_stops_its_process(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = _submit(store, "sleep=60", f"marker={marker}")
    stop = threading.Event()
    worker = Worker(_options(store, stop_grace_seconds=2), stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_until(lambda: _started(marker), what="the job to start")
        [(_, pid)] = _started(marker)
        # The job's process can start before its worker records its pid: wait, never guess.
        wait_until(lambda: queue.get(store, job_id).pid == pid, what="its pid in the store")
        assert queue.cancel(store, job_id) == "running"
        wait_until(lambda: queue.get(store, job_id).status == "cancelled", timeout=10)
        assert not _alive(pid)
    finally:
        stop.set()
        thread.join(10)


def test_worker_killed_mid_job_is_recovered_by_another(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = _submit(store, "sleep=1", f"marker={marker}")
    doomed = _worker_process(store)
    wait_until(lambda: _started(marker), what="the job to start")
    doomed.kill()
    doomed.wait()
    [(_, first_pid)] = _started(marker)
    wait_until(lambda: not _alive(first_pid), timeout=5, what="the orphaned job to die")
    wait_until(lambda: queue.recover_expired(store), timeout=5, what="the lease to expire")

    Worker(_options(store, until_empty=True)).run()
    job = queue.get(store, job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert len(_started(marker)) == 2


def test_worker_killed_with_one_attempt_allowed_fails_the_job(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = _submit(store, "sleep=30", f"marker={marker}", max_attempts=1)
    doomed = _worker_process(store)
    wait_until(lambda: _started(marker), what="the job to start")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    wait_until(lambda: queue.recover_expired(store), timeout=5, what="the lease to expire")

    Worker(_options(store, until_empty=True)).run()
    job = queue.get(store, job_id)
    assert job.status == "failed"
    assert job.error == "worker lost (lease expired) after 1 attempts"
    assert len(_started(marker)) == 1


def test_interrupted_worker_returns_its_job_to_the_queue(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = _submit(store, "sleep=60", f"marker={marker}")
    worker = _worker_process(store)
    wait_until(lambda: _started(marker), what="the job to start")
    [(_, pid)] = _started(marker)
    worker.send_signal(signal.SIGINT)
    _, stderr = worker.communicate(timeout=20)
    assert worker.returncode == 0, stderr.decode()
    assert b"goes back to the queue" in stderr
    job = queue.get(store, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
    assert not _alive(pid)
