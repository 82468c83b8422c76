"""Writes to the job store on behalf of the Hydra callback, one function per moment of a run.

Kept apart from `callback.py` so that Hydra, which imports the callback for every run, pays
for SQLAlchemy and the store only when a run is actually recorded.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.core.utils import JobStatus as HydraJobStatus
from omegaconf import DictConfig, OmegaConf
from sqlalchemy import update

from stockml.jobs import queue
from stockml.jobs.db import Store, StoreError, absolute_url, open_store
from stockml.jobs.models import Job, JobStatus, utcnow
from stockml.jobs.results import read_result

_stores: dict[str, Store] = {}
_failures: dict[str, StoreError] = {}


def store_for(url: str, cwd: Path) -> Store:
    """One store per process and URL: the schema check (or a connect timeout) happens once."""
    url = absolute_url(url, cwd)
    if url in _failures:
        raise _failures[url]
    if url not in _stores:
        try:
            _stores[url] = open_store(url)
        except StoreError as exc:
            _failures[url] = exc
            raise
    return _stores[url]


def record_sweep(store: Store, job_id: int, sweep_dir: str) -> None:
    """A queued multirun job's output directory is its sweep directory."""
    with store.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.output_dir.is_(None))
            .values(output_dir=str(Path(sweep_dir).resolve()))
        )


class RunLease:
    """Keeps a hand-started run's lease alive from a daemon thread while the run lives.

    A run killed outright (SIGKILL, Ctrl-C before Hydra's end callback) stops renewing, its
    lease expires, and the queue's usual recovery marks the row failed instead of leaving it
    "running" for ever.
    """

    def __init__(self, store: Store, row_id: int, worker_id: str, seconds: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, args=(store, row_id, worker_id, seconds), daemon=True
        )
        self._thread.start()

    def _renew(self, store: Store, row_id: int, worker_id: str, seconds: float) -> None:
        while not self._stop.wait(seconds / 4):
            try:
                queue.heartbeat(store, row_id, worker_id, seconds)
            except Exception:  # a store hiccup must not kill the run; the next beat retries
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def record_start(
    store: Store,
    config: DictConfig,
    job_id: int | None,
    hydra: Any,
    multirun: bool,
    lease_seconds: float,
) -> tuple[int, RunLease | None]:
    """Fill in the queued row, or add one with a lease; returns (row id, the lease when this
    run owns its row; None when a worker owns it and keeps its lease itself)."""
    task_keys = [key for key in config if key != "hydra"]
    values: dict[str, Any] = {
        "config_yaml": OmegaConf.to_yaml(OmegaConf.masked_copy(config, task_keys)),
        "output_dir": str(hydra.runtime.output_dir),
    }
    if job_id is not None and not multirun:
        with store.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(values))
        return job_id, None
    now = utcnow()
    worker_id = "cli" if job_id is None else f"job:{job_id}"
    row = Job(
        kind="train",
        priority=0,
        status=JobStatus.RUNNING.value,
        overrides=list(hydra.overrides.task),
        created_at=now,
        started_at=now,
        attempts=1,
        max_attempts=1,
        cancel_requested=False,
        worker_id=worker_id,
        pid=os.getpid(),
        heartbeat_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        sweep_id=str(Path(hydra.sweep.dir).resolve()) if multirun else None,
        parent_id=job_id,
        **values,
    )
    with store.session() as session:
        session.add(row)
        session.flush()
        row_id = row.id
    return row_id, RunLease(store, row_id, worker_id, lease_seconds)


def record_end(
    store: Store, row_id: int, owns_row: bool, output_dir: str, job_return: JobReturn
) -> None:
    """Metrics and MLflow run id from metrics.json; the status too when the run owns its row
    (a worker sets its job's status itself, from the exit code)."""
    result = read_result(output_dir)
    metrics = result.metrics if result else None
    mlflow_run_id = result.mlflow_run_id if result else None
    if not owns_row:
        values = {"metrics": metrics, "mlflow_run_id": mlflow_run_id}
        with store.session() as session:
            session.execute(update(Job).where(Job.id == row_id).values(values))
        return
    failed = job_return.status != HydraJobStatus.COMPLETED
    exc = job_return._return_value if failed else None
    queue.finish(
        store,
        row_id,
        JobStatus.FAILED if failed else JobStatus.SUCCEEDED,
        error=f"{type(exc).__name__}: {exc}" if exc is not None else None,
        metrics=metrics,
        mlflow_run_id=mlflow_run_id,
    )
