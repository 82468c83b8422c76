"""The queue operations: submit, claim, heartbeat, finish, cancel, retry, recover, list.

Worker-side state changes (claim, heartbeat, finish, release, recover) are single guarded
UPDATEs (`... WHERE status = 'running' AND worker_id = ...`), so two processes racing on one
job cannot both win. cancel and retry read, then write, inside one transaction that SQLite's
BEGIN IMMEDIATE or PostgreSQL's row lock (FOR UPDATE) makes exclusive.

Lease times come from the database's clock (`db_now`), so workers and runs on hosts whose
clocks disagree never expire each other's live jobs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, literal, select, update

from stockml.jobs.clock import db_now
from stockml.jobs.db import Store
from stockml.jobs.kinds import get_kind, job_overrides
from stockml.jobs.models import FINISHED_STATUSES, Job, JobOutput, JobStatus
from stockml.jobs.validate import compose_job_config, config_snapshot

# The error recorded for a job stopped by `cancel` while it ran (by its worker or itself).
CANCELLED_WHILE_RUNNING = "cancelled while running"


class JobNotFound(LookupError):
    pass


class JobStateError(ValueError):
    """The operation does not apply to the job's current status."""


def submit(
    store: Store,
    kind: str,
    overrides: Sequence[str] = (),
    priority: int = 0,
    max_attempts: int = 3,
    target: str | None = None,
    validate: bool = True,
    parent_id: int | None = None,
) -> int:
    """Queue a job and return its id; with `validate`, bad overrides raise ConfigError here."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    spec = get_kind(kind)
    full_overrides = job_overrides(kind, overrides, target)
    snapshot = None
    if validate:
        if spec.subcommand == "retrain":
            # A retrain changes values of the recorded config; a group choice cannot apply.
            from stockml.lifecycle.snapshot import refuse_group_choices

            refuse_group_choices(overrides)
        composed = compose_job_config(full_overrides, spec.multirun)
        snapshot = config_snapshot(composed)
    job = Job(
        kind=kind,
        priority=priority,
        status=JobStatus.QUEUED.value,
        overrides=full_overrides,
        config_yaml=snapshot,
        max_attempts=max_attempts,
        attempts=0,
        cancel_requested=False,
        parent_id=parent_id,
    )
    with store.session() as session:
        session.add(job)
        session.flush()
        return job.id


def claim(store: Store, worker_id: str, lease_seconds: float) -> Job | None:
    """Take the highest-priority, oldest queued job, or None when the queue is empty.

    PostgreSQL locks the candidate row with FOR UPDATE SKIP LOCKED so concurrent claimers
    pick different rows without waiting; SQLite serialises writers (BEGIN IMMEDIATE), and the
    outer `status = 'queued'` guard keeps the UPDATE atomic on both.
    """
    candidate = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED.value)
        .order_by(Job.priority.desc(), Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Job)
        .where(Job.id == candidate, Job.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            worker_id=worker_id,
            attempts=Job.attempts + 1,
            started_at=db_now(),
            finished_at=None,
            heartbeat_at=db_now(),
            lease_expires_at=db_now(lease_seconds),
            cancel_requested=False,
            pid=None,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    with store.session() as session:
        return session.scalars(statement).first()


def _running_by(job_id: int, worker_id: str | None) -> list[Any]:
    conditions = [Job.id == job_id, Job.status == JobStatus.RUNNING.value]
    if worker_id is not None:
        conditions.append(Job.worker_id == worker_id)
    return conditions


class Beat(enum.Enum):
    """What a lease renewal found."""

    RENEWED = "renewed"
    CANCEL = "cancel"  # renewed, but someone asked for the job to stop
    LOST = "lost"  # no longer running as this worker's: it was recovered or finished


def heartbeat(store: Store, job_id: int, worker_id: str, lease_seconds: float) -> Beat:
    """Extend the lease by `lease_seconds` of the database's clock; say what was found.

    A worker stops its job on CANCEL and on LOST (finishing a job someone else now owns is
    wasted work); a hand-started run stops itself on CANCEL.
    """
    statement = (
        update(Job)
        .where(*_running_by(job_id, worker_id))
        .values(heartbeat_at=db_now(), lease_expires_at=db_now(lease_seconds))
        .returning(Job.cancel_requested)
    )
    with store.session() as session:
        cancel_requested = session.execute(statement).scalar_one_or_none()
    if cancel_requested is None:
        return Beat.LOST
    return Beat.CANCEL if cancel_requested else Beat.RENEWED


def set_pid(store: Store, job_id: int, worker_id: str, pid: int) -> None:
    with store.session() as session:
        session.execute(update(Job).where(*_running_by(job_id, worker_id)).values(pid=pid))


def finish(
    store: Store,
    job_id: int,
    status: JobStatus | str,
    error: str | None = None,
    metrics: dict[str, Any] | None = None,
    mlflow_run_id: str | None = None,
    worker_id: str | None = None,
) -> bool:
    """Record a running job's end; False when it was not running (or not this worker's).

    Values left as None keep what the run's Hydra callback already stored on the row.
    """
    status = JobStatus(status)
    if status not in FINISHED_STATUSES:
        raise ValueError(f"finish needs a final status, not {status.value!r}")
    values: dict[str, Any] = {
        "status": status.value,
        "finished_at": db_now(),
        "lease_expires_at": None,
        "error": error,
    }
    for column, value in (("metrics", metrics), ("mlflow_run_id", mlflow_run_id)):
        if value is not None:
            values[column] = value
    with store.session() as session:
        result = session.execute(update(Job).where(*_running_by(job_id, worker_id)).values(values))
        return result.rowcount == 1


def release(store: Store, job_id: int, worker_id: str) -> bool:
    """Put a job this worker is giving up (shutdown) back in the queue, attempt not counted."""
    values = {
        "status": JobStatus.QUEUED.value,
        "attempts": Job.attempts - 1,
        "worker_id": None,
        "lease_expires_at": None,
        "heartbeat_at": None,
        "started_at": None,
        "pid": None,
    }
    with store.session() as session:
        result = session.execute(update(Job).where(*_running_by(job_id, worker_id)).values(values))
        return result.rowcount == 1


def get(store: Store, job_id: int) -> Job:
    with store.session() as session:
        job = session.get(Job, job_id)
    if job is None:
        raise JobNotFound(f"no job with id {job_id}")
    return job


def outputs(store: Store, job_id: int) -> list[JobOutput]:
    """Every directory the job's attempts wrote, oldest first (`output_dir` is the last)."""
    statement = select(JobOutput).where(JobOutput.job_id == job_id).order_by(JobOutput.id)
    with store.session() as session:
        return list(session.scalars(statement))


def cancel(store: Store, job_id: int) -> str:
    """Cancel a job; returns its status afterwards.

    A queued job is cancelled at once and never starts; a running one gets `cancel_requested`
    and its worker stops the process at the next heartbeat and marks it cancelled.
    """
    with store.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no job with id {job_id}")
        if job.status == JobStatus.QUEUED.value:
            job.status = JobStatus.CANCELLED.value
            job.finished_at = db_now()
            job.error = "cancelled before it started"
        elif job.status == JobStatus.RUNNING.value:
            job.cancel_requested = True
        else:
            raise JobStateError(f"job {job_id} already {job.status}; nothing to cancel")
        return job.status


def retry(store: Store, job_id: int) -> None:
    """Queue a failed or cancelled job again with a fresh attempt budget.

    Attempts are reset to 0: retrying is a person deciding the cause is fixed, so the job
    gets its full `max_attempts` of lease-expiry recoveries again. Results of the previous
    run (error, metrics, output dir) are cleared; its directory stays on disk and on record
    (`outputs`), so cleanup still finds it.
    """
    with store.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no job with id {job_id}")
        if job.status not in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
            raise JobStateError(f"job {job_id} is {job.status}; only failed or cancelled retry")
        job.status = JobStatus.QUEUED.value
        job.attempts = 0
        job.created_at = db_now()
        for column in (
            "started_at",
            "finished_at",
            "worker_id",
            "lease_expires_at",
            "heartbeat_at",
            "pid",
            "error",
            "metrics",
            "mlflow_run_id",
            "output_dir",
        ):
            setattr(job, column, None)
        job.cancel_requested = False


@dataclass(frozen=True)
class Recovered:
    job_id: int
    status: str


def recover_expired(store: Store) -> list[Recovered]:
    """Running jobs whose worker stopped renewing the lease: re-queue, fail or cancel them."""
    now = db_now()
    expired = [
        Job.status == JobStatus.RUNNING.value,
        Job.lease_expires_at.is_not(None),
        Job.lease_expires_at < now,
    ]
    lost = "worker lost (lease expired) after " + cast(Job.attempts, String) + literal(" attempts")
    cleared = {"worker_id": None, "lease_expires_at": None, "pid": None}
    rules: list[tuple[list[Any], dict[str, Any]]] = [
        (
            [Job.cancel_requested.is_(True)],
            {"status": JobStatus.CANCELLED.value, "finished_at": now, "error": "cancelled"},
        ),
        (
            [Job.cancel_requested.is_(False), Job.attempts < Job.max_attempts],
            {"status": JobStatus.QUEUED.value, "started_at": None},
        ),
        (
            [Job.cancel_requested.is_(False), Job.attempts >= Job.max_attempts],
            {"status": JobStatus.FAILED.value, "finished_at": now, "error": lost},
        ),
    ]
    recovered: list[Recovered] = []
    with store.session() as session:
        for conditions, values in rules:
            statement = (
                update(Job)
                .where(*expired, *conditions)
                .values(**cleared, **values)
                .returning(Job.id)
            )
            recovered += [Recovered(i, values["status"]) for i in session.scalars(statement)]
    return recovered


def list_jobs(
    store: Store,
    status: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[Job]:
    """Jobs newest first, optionally filtered."""
    statement = select(Job).order_by(Job.id.desc())
    if status:
        statement = statement.where(Job.status == JobStatus(status).value)
    if kind:
        statement = statement.where(Job.kind == kind)
    if limit:
        statement = statement.limit(limit)
    with store.session() as session:
        return list(session.scalars(statement))


def counts(store: Store) -> dict[str, int]:
    """Number of jobs per status, every status present."""
    statement = select(Job.status, func.count()).group_by(Job.status)
    with store.session() as session:
        found = {status: count for status, count in session.execute(statement)}
    return {status.value: found.get(status.value, 0) for status in JobStatus}
