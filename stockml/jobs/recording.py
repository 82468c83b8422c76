"""Writes to the job store on behalf of the Hydra callback, one function per moment of a run.

Kept apart from `callback.py` so that Hydra, which imports the callback for every run, pays
for SQLAlchemy and the store only when a run is actually recorded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.core.utils import JobStatus as HydraJobStatus
from omegaconf import DictConfig, OmegaConf
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stockml.jobs import queue
from stockml.jobs.clock import db_now
from stockml.jobs.db import Store, StoreError, absolute_url, open_store
from stockml.jobs.lease import RunLease
from stockml.jobs.models import Job, JobOutput, JobStatus
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


def output_root(config: DictConfig, cwd: Path) -> str | None:
    """`paths.output_root` as an absolute, symlink-free path: all cleanup may delete under."""
    root = OmegaConf.select(config, "paths.output_root")
    if root is None:
        return None
    return str((cwd / Path(str(root)).expanduser()).resolve())


def _add_output(session: Session, job_id: int, path: str, root: str | None) -> None:
    """Remember a directory the job's current attempt writes (once per job and path)."""
    known = select(JobOutput.id).where(JobOutput.job_id == job_id, JobOutput.path == path)
    if session.scalar(known) is not None:
        return
    attempt = session.scalar(select(Job.attempts).where(Job.id == job_id))
    session.add(JobOutput(job_id=job_id, attempt=attempt, path=path, output_root=root))


def record_sweep(store: Store, job_id: int, sweep_dir: str, root: str | None) -> None:
    """A queued multirun job's output directory is its sweep directory (one per attempt)."""
    path = str(Path(sweep_dir).resolve())
    with store.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(output_dir=path))
        _add_output(session, job_id, path, root)


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
    output_dir = str(Path(hydra.runtime.output_dir).resolve())
    root = output_root(config, Path(hydra.runtime.cwd))
    values: dict[str, Any] = {
        "config_yaml": OmegaConf.to_yaml(OmegaConf.masked_copy(config, task_keys)),
        "output_dir": output_dir,
    }
    if job_id is not None and not multirun:
        with store.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(values))
            _add_output(session, job_id, output_dir, root)
        return job_id, None
    worker_id = "cli" if job_id is None else f"job:{job_id}"
    row = Job(
        kind="train",
        priority=0,
        status=JobStatus.RUNNING.value,
        overrides=list(hydra.overrides.task),
        created_at=db_now(),
        started_at=db_now(),
        attempts=1,
        max_attempts=1,
        cancel_requested=False,
        worker_id=worker_id,
        pid=os.getpid(),
        heartbeat_at=db_now(),
        lease_expires_at=db_now(lease_seconds),
        sweep_id=str(Path(hydra.sweep.dir).resolve()) if multirun else None,
        parent_id=job_id,
        **values,
    )
    with store.session() as session:
        session.add(row)
        session.flush()
        row_id = row.id
        _add_output(session, row_id, output_dir, root)
    return row_id, RunLease(store, row_id, worker_id, lease_seconds)


def record_end(
    store: Store, row_id: int, lease: RunLease | None, output_dir: str, job_return: JobReturn
) -> None:
    """Metrics and MLflow run id from metrics.json; the status too when the run owns its row
    (`lease` is then its lease; a worker sets its job's status itself, from the exit code)."""
    result = read_result(output_dir)
    metrics = result.metrics if result else None
    mlflow_run_id = result.mlflow_run_id if result else None
    if lease is None:
        values = {"metrics": metrics, "mlflow_run_id": mlflow_run_id}
        with store.session() as session:
            session.execute(update(Job).where(Job.id == row_id).values(values))
        return
    failed = job_return.status != HydraJobStatus.COMPLETED
    exc = job_return._return_value if failed else None
    if failed and lease.cancelled.is_set():
        status, error = JobStatus.CANCELLED, queue.CANCELLED_WHILE_RUNNING
    elif failed:
        error = f"{type(exc).__name__}: {exc}" if exc is not None else None
        status = JobStatus.FAILED
    else:
        status, error = JobStatus.SUCCEEDED, None
    queue.finish(store, row_id, status, error=error, metrics=metrics, mlflow_run_id=mlflow_run_id)
