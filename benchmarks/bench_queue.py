"""Claim-and-finish throughput of the job queue, without running any job.

Measures what the queue itself adds per job (the goal is < 50 ms): N processes each loop
claim -> finish on no-op jobs until the queue is empty.

    python benchmarks/bench_queue.py [--jobs 400] [--postgres postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from multiprocessing import get_context
from pathlib import Path

import sqlalchemy as sa

from stockml.jobs import queue
from stockml.jobs.db import open_store
from stockml.jobs.models import Job


def _drain(url: str, worker_id: str, start_at: float) -> int:
    store = open_store(url)
    time.sleep(max(0.0, start_at - time.time()))
    done = 0
    while (job := queue.claim(store, worker_id, lease_seconds=60)) is not None:
        queue.finish(store, job.id, "succeeded", worker_id=worker_id)
        done += 1
    store.dispose()
    return done


def _fill(url: str, jobs: int) -> None:
    store = open_store(url)
    with store.session() as session:
        session.execute(sa.delete(Job))
        session.add_all(
            Job(kind="train", overrides=[f"seed={i}"], priority=i % 3, attempts=0, max_attempts=3)
            for i in range(jobs)
        )
    store.dispose()


def measure(url: str, workers: int, jobs: int) -> float:
    """Seconds to drain `jobs` no-op jobs with `workers` processes."""
    _fill(url, jobs)
    start_at = time.time() + 1.0
    with get_context("fork").Pool(workers) as pool:
        results = [pool.apply_async(_drain, (url, f"w{i}", start_at)) for i in range(workers)]
        done = sum(result.get() for result in results)
    assert done == jobs, f"{done} of {jobs} jobs drained"
    return time.time() - start_at


def _postgres_database(admin_url: str) -> tuple[str, sa.Engine, str]:
    name = f"stockml_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", metavar="URL", help="also benchmark this server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{Path(tmp) / 'jobs.db'}")]
        cleanup = None
        if args.postgres:
            url, admin, name = _postgres_database(args.postgres)
            backends.append(("postgresql", url))
            cleanup = (admin, name)
        print(f"{'backend':<11} {'workers':>7} {'jobs':>6} {'jobs/s':>9} {'ms/job':>8}")
        try:
            for backend, url in backends:
                for workers in args.workers:
                    seconds = measure(url, workers, args.jobs)
                    print(
                        f"{backend:<11} {workers:>7} {args.jobs:>6} "
                        f"{args.jobs / seconds:>9.0f} {1000 * seconds / args.jobs:>8.2f}"
                    )
        finally:
            if cleanup:
                admin, name = cleanup
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
