"""Delete finished jobs older than an age, with the directories their runs wrote.

A directory is deleted only when it lies strictly inside the output root its run recorded
(after resolving symbolic links and `..`), no job that stays wrote there, and every entry in
it is a file stockml writes (`stockml.jobs.ownership`). Anything else is kept, and the reason
reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select

from stockml.jobs.clock import db_now
from stockml.jobs.db import Store
from stockml.jobs.models import FINISHED_STATUSES, Job, JobOutput
from stockml.jobs.ownership import Inventory, inventory

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w` -> timedelta; ValueError with the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and a unit s, m, h, d or w (30d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class Kept:
    """A directory of a removed job that cleanup left on disk, and why."""

    job_id: int
    path: str
    reason: str


@dataclass
class CleanupResult:
    jobs: list[Job] = field(default_factory=list)  # rows removed (or that would be)
    removed: list[str] = field(default_factory=list)  # directories removed (or would be)
    kept: list[Kept] = field(default_factory=list)
    # Directories of jobs that stay (not finished, or too recent), by the job that wrote them.
    in_use: dict[str, int] = field(default_factory=dict)

    def user_of(self, path: Path) -> int | None:
        """A staying job whose directory is `path` or lies inside it, if any."""
        for used, job_id in self.in_use.items():
            if Path(used).is_relative_to(path):
                return job_id
        return None


def outside_root(path: Path, root: str | None) -> str | None:
    """Why `path` may not be deleted for lying outside its output root, or None if inside."""
    if root is None:
        return "no output root was recorded for it (a run from an older stockml)"
    if not path.is_absolute():
        return "its recorded path is not absolute"
    real_root = Path(root).resolve()
    real = path.resolve()
    if real == real_root or not real.is_relative_to(real_root):
        return f"it is outside the output root {real_root}"
    return None


def _remove(
    job_id: int, path: Path, root: str | None, dry_run: bool, result: CleanupResult
) -> None:
    if not path.exists() and not path.is_symlink():
        return  # gone already (e.g. a sweep's trial, removed with its sweep directory)
    reason = outside_root(path, root)
    if reason is None and (user := result.user_of(path)) is not None:
        reason = f"job {user}, which stays, wrote there too"
    found = inventory(path) if reason is None else Inventory(foreign=reason)
    if found.foreign:
        result.kept.append(Kept(job_id, str(path), found.foreign))
        return
    if not dry_run:
        # Exactly the files classified, then their directories: a file that appeared since
        # is never touched, and its directory stays because it is no longer empty.
        try:
            for file in found.files:
                file.unlink(missing_ok=True)
            for directory in found.directories:
                directory.rmdir()
        except OSError as exc:
            result.kept.append(Kept(job_id, str(path), f"could not remove it: {exc}"))
            return
    result.removed.append(str(path))


def _remove_emptied_sweep(
    job_id: int, sweep_dir: Path, root: str | None, dry_run: bool, result: CleanupResult
) -> None:
    """A hand-started sweep's directory, once cleanup took (or would take) all its trials.

    Trial rows, not the sweep, are on record; the directory goes only when no trial
    directory is left in it, so trials that are not due yet are never removed with it.
    """
    if not sweep_dir.is_dir() or str(sweep_dir) in result.removed:
        return
    due = set(result.removed)
    trials = [child for child in sweep_dir.iterdir() if child.is_dir()]
    if all(str(child) in due for child in trials):
        _remove(job_id, sweep_dir, root, dry_run, result)


def cleanup(store: Store, older_than: timedelta, dry_run: bool = False) -> CleanupResult:
    """Remove (or with `dry_run` only list) finished jobs that ended before now - older_than,
    with every directory any attempt of theirs wrote, as far as it is safe to delete.

    Directories go first and rows after, so an interrupted cleanup leaves rows that the next
    one removes rather than directories nothing points to any more. "Now" is the store's
    clock, like every other time the store keeps.
    """
    ended = func.coalesce(Job.finished_at, Job.created_at)
    statement = (
        select(Job)
        .where(
            Job.status.in_([s.value for s in FINISHED_STATUSES]),
            ended < db_now(-older_than.total_seconds()),
        )
        .order_by(Job.id)
    )
    with store.session() as session:
        jobs = list(session.scalars(statement))
        due = [job.id for job in jobs]
        outputs = list(
            session.scalars(
                select(JobOutput)
                .where(JobOutput.job_id.in_(due))
                .order_by(JobOutput.job_id, JobOutput.id)
            )
        )
        staying = session.execute(
            select(JobOutput.path, JobOutput.job_id).where(JobOutput.job_id.not_in(due))
        )
        result = CleanupResult(jobs=jobs, in_use={path: job_id for path, job_id in staying})
    for output in outputs:
        _remove(output.job_id, Path(output.path), output.output_root, dry_run, result)
    roots = {output.job_id: output.output_root for output in outputs}
    for job in jobs:
        if job.sweep_id and job.parent_id is None:  # a queued sweep is its parent's output
            _remove_emptied_sweep(job.id, Path(job.sweep_id), roots.get(job.id), dry_run, result)
    if not dry_run and jobs:
        with store.session() as session:  # their job_outputs rows go with them (cascade)
            session.execute(delete(Job).where(Job.id.in_([job.id for job in jobs])))
    return result
