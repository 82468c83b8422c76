"""Delete finished jobs older than an age, with their output directories."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select

from stockml.jobs.db import Store
from stockml.jobs.models import FINISHED_STATUSES, Job, utcnow

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w` -> timedelta; ValueError with the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and a unit s, m, h, d or w (30d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


# What Hydra leaves in every directory it creates for a run (.hydra/) or a sweep
# (multirun.yaml); a directory without either was not made by stockml and is never deleted.
RUN_DIRECTORY_MARKERS = (".hydra", "multirun.yaml")


def is_run_directory(path: Path) -> bool:
    return path.is_dir() and any((path / marker).exists() for marker in RUN_DIRECTORY_MARKERS)


def cleanup(store: Store, older_than: timedelta, dry_run: bool = False) -> list[Job]:
    """Remove (or with `dry_run` only list) finished jobs that ended before now - older_than.

    Output directories go first and rows after, so an interrupted cleanup leaves rows that
    the next one removes rather than directories nothing points to any more.
    """
    cutoff = utcnow() - older_than
    ended = func.coalesce(Job.finished_at, Job.created_at)
    statement = (
        select(Job)
        .where(Job.status.in_([s.value for s in FINISHED_STATUSES]), ended < cutoff)
        .order_by(Job.id)
    )
    with store.session() as session:
        jobs = list(session.scalars(statement))
    if dry_run or not jobs:
        return jobs
    for job in jobs:
        if not job.output_dir:
            continue
        if is_run_directory(Path(job.output_dir)):
            shutil.rmtree(job.output_dir, ignore_errors=True)
        elif Path(job.output_dir).exists():
            log.warning(
                "job %s: kept %s, which is not a stockml run directory (no .hydra/ or "
                "multirun.yaml); only its row is removed",
                job.id,
                job.output_dir,
            )
    with store.session() as session:
        session.execute(delete(Job).where(Job.id.in_([job.id for job in jobs])))
    return jobs
