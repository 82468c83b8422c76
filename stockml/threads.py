"""Thread budget per job, so parallel launcher workers do not oversubscribe the cores.

With `hydra/launcher=joblib hydra.launcher.n_jobs=N`, N processes each run NumPy/BLAS and
OpenMP code that would otherwise start one thread per core: N x cores threads fighting for
cores makes a sweep slower than running it serially. Each job gets cores // N threads.

threadpoolctl caps the thread pools loaded when the job starts. LightGBM and XGBoost load their
own OpenMP runtime later, when the model is built, and would start one thread per core; so the
budget is also handed to them as ``n_jobs`` (a model config's ``n_jobs: null``, see
`stockml.pipeline.build_step`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The running job's budget; None when it runs alone (every core is its own).
_JOB_THREADS: ContextVar[int | None] = ContextVar("job_threads", default=None)


def parallel_workers(launcher_cfg: Any, cpu_count: int) -> int:
    """How many jobs the configured launcher runs at once (joblib's n_jobs; else 1)."""
    n_jobs = launcher_cfg.get("n_jobs") if launcher_cfg is not None else None
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:  # joblib's convention: -1 = all cores, -2 = all but one, ...
        n_jobs = max(1, cpu_count + 1 + n_jobs)
    return max(1, min(n_jobs, cpu_count))


def threads_per_job(launcher_cfg: Any, cpu_count: int | None = None) -> int | None:
    """Threads each job may use, or None when the job runs alone and may use every core."""
    cores = cpu_count or os.cpu_count() or 1
    workers = parallel_workers(launcher_cfg, cores)
    return None if workers == 1 else max(1, cores // workers)


def job_threads() -> int | None:
    """The thread budget of the job running now, or None when it may use every core."""
    return _JOB_THREADS.get()


def job_cores() -> int:
    """Threads the job running now may keep busy: its budget, else every core this process
    may run on (its CPU affinity where the OS has one, which a container or `taskset` can
    narrow below the machine's count)."""
    budget = job_threads()
    if budget is not None:
        return budget
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def limit_threads(launcher_cfg: Any) -> Iterator[None]:
    """A context that caps BLAS/OpenMP pools for this job and publishes the cap as
    `job_threads` (a no-op when the job runs alone)."""
    limit = threads_per_job(launcher_cfg)
    if limit is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    token = _JOB_THREADS.set(limit)
    try:
        with threadpool_limits(limits=limit):
            yield
    finally:
        _JOB_THREADS.reset(token)
