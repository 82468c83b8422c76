"""Thread budget per job, so parallel launcher workers do not oversubscribe the cores.

With `hydra/launcher=joblib hydra.launcher.n_jobs=N`, N processes each run NumPy/BLAS and
OpenMP code that would otherwise start one thread per core: N x cores threads fighting for
cores makes a sweep slower than running it serially. Each job gets cores // N threads.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from typing import Any


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


def limit_threads(launcher_cfg: Any) -> AbstractContextManager[Any]:
    """A context that caps BLAS/OpenMP pools for this job (a no-op when it runs alone)."""
    limit = threads_per_job(launcher_cfg)
    if limit is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit)
