"""Thread budgets for parallel launcher workers."""

from __future__ import annotations

import os

import pytest
from omegaconf import OmegaConf

from stockml.threads import job_cores, limit_threads, parallel_workers, threads_per_job


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


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this OS")
def test_a_job_alone_uses_the_cores_it_may_run_on_not_the_machines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})  # as under `taskset -c 0`
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert job_cores() == 1


def test_a_parallel_jobs_budget_is_its_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with limit_threads(OmegaConf.create({"n_jobs": 4})):
        assert job_cores() == 2
