"""Workers: claim jobs, run each as a child process, keep its lease alive, record the end.

Each job runs in its own process group so that stopping it (cancel, Ctrl-C) reaches
everything it started, e.g. a multirun's launcher processes; the child also dies with its
worker (Linux parent-death signal), so a killed worker never leaves a job running that the
queue will hand to someone else.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from stockml.jobs import queue
from stockml.jobs.db import Store, StoreError, open_store
from stockml.jobs.env import JOB_ID_ENV, STORE_URL_ENV
from stockml.jobs.kinds import base_command, command_for
from stockml.jobs.models import Job, JobStatus
from stockml.jobs.results import read_result
from stockml.progress import bar, printing

if TYPE_CHECKING:
    from tqdm import tqdm

ERROR_TAIL_LINES = 20
ERROR_MAX_CHARS = 4000
PR_SET_PDEATHSIG = 1


@dataclass
class WorkerOptions:
    url: str
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    until_empty: bool = False
    command: list[str] | None = None
    stop_grace_seconds: float = 5.0
    worker_id: str | None = None


@dataclass
class Tally:
    """What this worker did: job status it left each job in -> how many."""

    by_status: dict[str, int] = field(default_factory=dict)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the worker process dies."""
    # Not Linux: no prctl, and the lease expiry still recovers the job.
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_process_group(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0)
    lines = stream.read().decode("utf-8", "replace").strip().splitlines()
    return "\n".join(lines[-ERROR_TAIL_LINES:])[-ERROR_MAX_CHARS:]


class _Heartbeat(threading.Thread):
    """Renews the lease every third of it; `stop_job` is set on cancel or a lost lease."""

    def __init__(self, options: WorkerOptions, store: Store, job_id: int, worker_id: str):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self._store = store
        self._options = options
        self._job_id = job_id
        self._worker_id = worker_id
        self._closed = threading.Event()
        self.stop_job = threading.Event()

    def run(self) -> None:
        interval = max(self._options.lease_seconds / 3, 0.1)
        while not self._closed.wait(interval):
            try:
                beat = queue.heartbeat(
                    self._store, self._job_id, self._worker_id, self._options.lease_seconds
                )
                if beat is not queue.Beat.RENEWED:
                    self.stop_job.set()
                    return
            except StoreError as exc:  # transient: the next beat may get through
                print(f"warning: heartbeat for job {self._job_id} failed: {exc}", file=sys.stderr)

    def close(self) -> None:
        self._closed.set()
        self.join()


class Worker:
    """One worker loop; `stop` (set by SIGINT/SIGTERM) ends it after returning its job."""

    def __init__(
        self, options: WorkerOptions, stop: threading.Event | None = None, progress: bool = False
    ):
        self.options = options
        self.progress = progress
        self.worker_id = options.worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.stop = stop or threading.Event()
        self.store = open_store(options.url)
        self.command = options.command or base_command()
        self.tally = Tally()

    def run(self) -> Tally:
        # One bar per terminal: several worker processes would draw over each other's.
        shown = bar("jobs", "job", disable=not self.progress)
        try:
            while not self.stop.is_set():
                queue.recover_expired(self.store)
                job = queue.claim(self.store, self.worker_id, self.options.lease_seconds)
                if job is None:
                    # A claim can lose a race for the last rows (SKIP LOCKED) while jobs are
                    # still queued: only an empty queue ends an --until-empty worker.
                    if self.options.until_empty and queue.counts(self.store)["queued"] == 0:
                        break
                    self.stop.wait(self.options.poll_seconds)
                    continue
                self._record(job, self.run_job(job), shown)
        finally:
            shown.close()
            self.store.dispose()
        return self.tally

    def run_job(self, job: Job) -> str:
        """Run one claimed job to its end; returns the status it was left in."""
        env = {**os.environ, JOB_ID_ENV: str(job.id), STORE_URL_ENV: self.store.url}
        with tempfile.TemporaryFile() as stderr:
            try:
                process = subprocess.Popen(
                    command_for(job.kind, job.overrides, self.command),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                return self._finish(job, JobStatus.FAILED, f"could not start the job: {exc}")
            queue.set_pid(self.store, job.id, self.worker_id, process.pid)
            heartbeat = _Heartbeat(self.options, self.store, job.id, self.worker_id)
            heartbeat.start()
            interrupted = False  # whether this worker cut the job short (not just stopping after)
            try:
                while process.poll() is None:
                    if heartbeat.stop_job.is_set() or self.stop.is_set():
                        interrupted = True
                        _stop_process_group(process, self.options.stop_grace_seconds)
                        break
                    heartbeat.stop_job.wait(0.1)
            finally:
                heartbeat.close()
            if interrupted and self.stop.is_set() and not heartbeat.stop_job.is_set():
                queue.release(self.store, job.id, self.worker_id)
                return JobStatus.QUEUED.value
            if heartbeat.stop_job.is_set():
                return self._finish(job, JobStatus.CANCELLED, queue.CANCELLED_WHILE_RUNNING)
            if process.returncode != 0:
                tail = _tail(stderr)
                error = f"exit code {process.returncode}" + (f": {tail}" if tail else "")
                return self._finish(job, JobStatus.FAILED, error)
            return self._finish(job, JobStatus.SUCCEEDED, None)

    def _finish(self, job: Job, status: JobStatus, error: str | None) -> str:
        """Record the end; what the run's callback stored wins, metrics.json fills gaps."""
        stored = queue.get(self.store, job.id)
        result = read_result(stored.output_dir) if stored.metrics is None else None
        recorded = queue.finish(
            self.store,
            job.id,
            status,
            error=error,
            metrics=result.metrics if result else None,
            mlflow_run_id=result.mlflow_run_id if result else None,
            worker_id=self.worker_id,
        )
        # Not recorded: the lease was lost and the job is someone else's (or recovered) now.
        return status.value if recorded else queue.get(self.store, job.id).status

    def _record(self, job: Job, status: str, shown: tqdm) -> None:
        """Count the job, print its line, and move the bar: its total is what this worker
        finished plus what is still queued or running."""
        self.tally.by_status[status] = self.tally.by_status.get(status, 0) + 1
        counts = queue.counts(self.store)
        with printing():
            print(
                f"[{self.worker_id}] job {job.id} ({job.kind}) {status} | "
                f"done {counts['succeeded']}  failed {counts['failed']}  "
                f"running {counts['running']}  queued {counts['queued']}",
                flush=True,
            )
        shown.total = shown.n + 1 + counts["queued"] + counts["running"]
        shown.update()


def _install_stop_handlers(stop: threading.Event) -> None:
    def _handler(signum: int, _frame: object) -> None:
        if not stop.is_set():
            print(
                f"[{os.getpid()}] {signal.Signals(signum).name}: stopping, "
                "the running job goes back to the queue",
                file=sys.stderr,
                flush=True,
            )
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def _worker_process(options: WorkerOptions, progress: bool = False) -> None:
    stop = threading.Event()
    _install_stop_handlers(stop)
    Worker(options, stop, progress).run()


def run_workers(options: WorkerOptions, count: int = 1) -> int:
    """Run `count` worker processes until stopped (or the queue is empty); exit status."""
    open_store(options.url).dispose()  # migrate once, and fail fast on a bad store
    if count == 1:
        _worker_process(options, progress=True)
        return 0
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker_process, args=(options,), name=f"stockml-worker-{i}")
        for i in range(count)
    ]
    for process in processes:
        process.start()
    # Ctrl-C reaches the workers too (same process group); they return their jobs and exit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _forward_sigterm(processes)
    for process in processes:
        process.join()
    return 0 if all(p.exitcode == 0 for p in processes) else 1


def _forward_sigterm(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    def _handler(_signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, _handler)
