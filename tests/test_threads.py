"""Thread budgets for parallel launcher workers."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from stockml.threads import parallel_workers, threads_per_job


@pytest.mark.parametrize(
    ("n_jobs", "cpus", "workers", "threads"),
    [
        (None, 8, 1, None),  # basic launcher: one job at a time, all cores
        (1, 8, 1, None),
        (2, 8, 2, 4),
        (-1, 8, 8, 1),  # joblib: all cores
        (-2, 8, 7, 1),
        (16, 8, 8, 1),  # more workers than cores: one thread each
        (2, 2, 2, 1),
    ],
)
def test_workers_times_threads_never_exceeds_the_cores(n_jobs, cpus, workers, threads) -> None:
    launcher = OmegaConf.create({} if n_jobs is None else {"n_jobs": n_jobs})
    assert parallel_workers(launcher, cpus) == workers
    assert threads_per_job(launcher, cpus) == threads
    assert workers * (threads or cpus) <= cpus
