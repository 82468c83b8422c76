"""`stockml-jobs`: submit, run and inspect queued experiments.

Every expected failure (unknown id, bad store, bad override, bad duration) ends with one
line on stderr and exit status 1 (2 for bad usage), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from stockml.commands import summary
from stockml.config import ConfigError
from stockml.console_table import table
from stockml.jobs import queue
from stockml.jobs.cleanup import cleanup, parse_duration
from stockml.jobs.db import Store, StoreError, default_url, open_store
from stockml.jobs.kinds import KINDS, KindError
from stockml.jobs.models import Job, JobOutput, JobStatus
from stockml.jobs.worker import WorkerOptions, run_workers

PROG = "stockml-jobs"
USAGE_ERROR = 2


class UsageError(ValueError):
    pass


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_seconds(text: str) -> float:
    """A lease of 0 would make every running job look abandoned to the other workers."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=summary("jobs"))
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="job store URL (default: $STOCKML_STORE_URL, else sqlite:///outputs/jobs.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="manage the store schema")
    db.add_subparsers(dest="db_command", required=True).add_parser(
        "upgrade", help="migrate the schema to the latest version"
    )

    submit = commands.add_parser("submit", help="queue a job: submit [options] -- OVERRIDES...")
    submit.add_argument("--kind", default="train", choices=list(KINDS))
    submit.add_argument("--priority", type=int, default=0, help="higher runs first")
    submit.add_argument("--max-attempts", type=_positive_int, default=3)
    submit.add_argument("--of", dest="target", metavar="RUN", help="run a retrain job derives from")
    submit.add_argument("overrides", nargs="*", metavar="OVERRIDES")

    work = commands.add_parser("work", help="run workers that execute queued jobs")
    work.add_argument("--workers", type=_positive_int, default=1)
    work.add_argument("--until-empty", action="store_true", help="exit when nothing is queued")
    work.add_argument(
        "--lease", type=_positive_seconds, default=30.0, help="lease seconds (default 30)"
    )
    work.add_argument(
        "--poll", type=_positive_seconds, default=1.0, help="idle poll seconds (default 1)"
    )
    work.add_argument(
        "--command",
        dest="command_json",
        metavar="JSON",
        help="job command as a JSON list (default: $STOCKML_JOB_COMMAND or python -m stockml)",
    )

    listing = commands.add_parser("list", help="show jobs, newest first")
    listing.add_argument("--status", choices=[s.value for s in JobStatus])
    listing.add_argument("--kind", choices=list(KINDS))
    listing.add_argument("--limit", type=_positive_int, default=50)

    for name, text in (
        ("show", "show one job in full"),
        ("cancel", "cancel a queued or running job"),
        ("retry", "queue a failed or cancelled job again"),
    ):
        commands.add_parser(name, help=text).add_argument("id", type=int)

    clean = commands.add_parser("cleanup", help="delete old finished jobs and their outputs")
    clean.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 30d, 12h, 90m")
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    return parser


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _duration(job: Job) -> str:
    if not job.started_at:
        return "-"
    elapsed = (job.finished_at or datetime.now(job.started_at.tzinfo)) - job.started_at
    seconds = int(elapsed.total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _value(job: Job) -> str:
    metrics = job.metrics or {}
    value = metrics.get("value")
    if value is None:
        return "-"
    if isinstance(value, list):  # a multi-objective run: one value per optimised metric
        names = metrics.get("optimized_metric") or ["value"] * len(value)
        return " ".join(
            f"{n}={'-' if v is None else f'{v:.4g}'}" for n, v in zip(names, value, strict=True)
        )
    return f"{metrics.get('optimized_metric') or 'value'}={value:.4g}"


def format_table(jobs: Sequence[Job]) -> str:
    header = ("ID", "KIND", "STATUS", "PRI", "TRY", "CREATED (UTC)", "TIME", "RESULT", "OVERRIDES")
    rows = (
        (
            str(job.id),
            job.kind,
            job.status + ("*" if job.cancel_requested and job.status == "running" else ""),
            str(job.priority),
            f"{job.attempts}/{job.max_attempts}",
            _when(job.created_at),
            _duration(job),
            _value(job),
            " ".join(job.overrides),
        )
        for job in jobs
    )
    return table(header, rows)


def format_job(job: Job, outputs: Sequence[JobOutput] = ()) -> str:
    fields = [
        ("id", job.id),
        ("kind", job.kind),
        ("status", job.status + (" (cancel requested)" if job.cancel_requested else "")),
        ("priority", job.priority),
        ("attempts", f"{job.attempts}/{job.max_attempts}"),
        ("overrides", " ".join(job.overrides) or "-"),
        ("created", _when(job.created_at)),
        ("started", _when(job.started_at)),
        ("finished", _when(job.finished_at)),
        ("worker", job.worker_id or "-"),
        ("pid", job.pid or "-"),
        ("output dir", job.output_dir or "-"),
        ("mlflow run id", job.mlflow_run_id or "-"),
        ("sweep", job.sweep_id or "-"),
        ("parent job", job.parent_id or "-"),
    ]
    fields += [(f"attempt {output.attempt or '?'}", output.path) for output in outputs]
    lines = [f"{name + ':':<15}{value}" for name, value in fields]
    lines.append("metrics:" + ("\n" + json.dumps(job.metrics, indent=2) if job.metrics else " -"))
    lines.append("error:" + (f"\n{job.error}" if job.error else " -"))
    lines.append("config:" + (f"\n{job.config_yaml.rstrip()}" if job.config_yaml else " -"))
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    url = args.db or default_url()
    if args.command == "cleanup":
        try:
            args.older_than = parse_duration(args.older_than)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if args.command == "work":
        command = _parse_command(args.command_json) if args.command_json else None
        options = WorkerOptions(
            url=url,
            lease_seconds=args.lease,
            poll_seconds=args.poll,
            until_empty=args.until_empty,
            command=command,
        )
        return run_workers(options, args.workers)
    store = open_store(url)
    try:
        return _store_command(store, args)
    finally:
        store.dispose()


def _parse_command(text: str) -> list[str]:
    try:
        command = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--command is not JSON: {exc}") from exc
    if not (isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        raise UsageError("--command must be a non-empty JSON list of strings")
    return command


def _store_command(store: Store, args: argparse.Namespace) -> int:
    if args.command == "db":
        shown = store.engine.url.render_as_string(hide_password=True)
        print(f"job store {shown} is at the latest schema")
    elif args.command == "submit":
        job_id = queue.submit(
            store,
            args.kind,
            args.overrides,
            priority=args.priority,
            max_attempts=args.max_attempts,
            target=args.target,
        )
        print(job_id)
    elif args.command == "list":
        queue.recover_expired(store)  # settle runs that died, so the status shown is true
        print(format_table(queue.list_jobs(store, args.status, args.kind, args.limit)))
    elif args.command == "show":
        queue.recover_expired(store)
        print(format_job(queue.get(store, args.id), queue.outputs(store, args.id)))
    elif args.command == "cancel":
        status = queue.cancel(store, args.id)
        if status == "cancelled":
            print(f"job {args.id}: cancelled")
        else:
            print(f"job {args.id}: cancel requested; it stops at its next lease renewal")
    elif args.command == "retry":
        queue.retry(store, args.id)
        print(f"job {args.id}: queued again")
    elif args.command == "cleanup":
        done = cleanup(store, args.older_than, dry_run=args.dry_run)
        verb, keep = ("would remove", "would keep") if args.dry_run else ("removed", "kept")
        for job in done.jobs:
            print(f"{verb} job {job.id} ({job.status})")
        for path in done.removed:
            print(f"{verb} {path}")
        for kept in done.kept:
            print(f"{keep} {kept.path} (job {kept.job_id}): {kept.reason}")
        print(
            f"{verb} {len(done.jobs)} job(s) and {len(done.removed)} directories; "
            f"{keep} {len(done.kept)} directories"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except (StoreError, ConfigError, KindError, queue.JobNotFound, queue.JobStateError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
