"""Hydra callback recording every run (and every multirun trial) in the job store.

Runs started by a worker carry STOCKML_JOB_ID / STOCKML_STORE_URL: a single run then fills
in its queued row (config, output dir, metrics) and leaves the status to the worker, which
knows the exit code; each trial of a multirun gets a child row of that job. Runs started by
hand (`stockml ...`) get a row of their own with worker_id "cli".

The store is a convenience, never a reason for an experiment to fail: any store error is
logged as one warning line and the run goes on.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn
from hydra.core.utils import JobStatus as HydraJobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from sqlalchemy import update

from stockml.jobs import queue
from stockml.jobs.db import Store, StoreError, absolute_url, open_store
from stockml.jobs.models import Job, JobStatus, utcnow
from stockml.jobs.results import read_result
from stockml.jobs.worker import JOB_ID_ENV, STORE_URL_ENV

log = logging.getLogger(__name__)

_stores: dict[str, Store] = {}
_failures: dict[str, StoreError] = {}


def _store(url: str) -> Store:
    """One store per process and URL: the schema check (or a connect timeout) happens once."""
    if url in _failures:
        raise _failures[url]
    if url not in _stores:
        try:
            _stores[url] = open_store(url)
        except StoreError as exc:
            _failures[url] = exc
            raise
    return _stores[url]


class JobStoreCallback(Callback):
    def __init__(self, **_: Any) -> None:
        self._row_id: int | None = None
        self._owns_row = False
        self._warned = False

    def _guarded(self, what: str, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as exc:  # the run must go on whatever the store does
            if not self._warned:
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                log.warning("job store: could not %s, run not recorded: %s", what, first_line)
                self._warned = True

    def _target(self, config: DictConfig) -> tuple[str, int | None] | None:
        """(store URL, queued job id or None), or None when nothing is to be recorded."""
        job_id = os.environ.get(JOB_ID_ENV)
        if job_id and os.environ.get(STORE_URL_ENV):
            return os.environ[STORE_URL_ENV], int(job_id)
        store_config = config.get("store")
        if not store_config or not store_config.get("enabled", False):
            return None
        # From the config, not HydraConfig: some launchers (submitit) call on_multirun_start
        # before HydraConfig is set in the launching process.
        cwd = Path(OmegaConf.select(config, "hydra.runtime.cwd") or os.getcwd())
        return absolute_url(str(store_config.url), cwd), None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._guarded("record the sweep directory", self._record_sweep, config)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._row_id = None
        self._guarded("record the run start", self._start, config)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if self._row_id is not None:
            self._guarded("record the run end", self._end, config, job_return)

    def _record_sweep(self, config: DictConfig) -> None:
        target = self._target(config)
        if target is None or target[1] is None:
            return
        url, job_id = target
        sweep_dir = str(Path(config.hydra.sweep.dir).resolve())
        with _store(url).session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.output_dir.is_(None))
                .values(output_dir=sweep_dir)
            )

    def _start(self, config: DictConfig) -> None:
        target = self._target(config)
        if target is None:
            return
        url, job_id = target
        hydra = HydraConfig.get()
        multirun = hydra.mode == RunMode.MULTIRUN
        task_keys = [key for key in config if key != "hydra"]
        values: dict[str, Any] = {
            "config_yaml": OmegaConf.to_yaml(OmegaConf.masked_copy(config, task_keys)),
            "output_dir": str(hydra.runtime.output_dir),
        }
        store = _store(url)
        if job_id is not None and not multirun:
            with store.session() as session:
                session.execute(update(Job).where(Job.id == job_id).values(values))
            self._row_id, self._owns_row = job_id, False
            return
        now = utcnow()
        row = Job(
            kind="train",
            priority=0,
            status=JobStatus.RUNNING.value,
            overrides=list(hydra.overrides.task),
            created_at=now,
            started_at=now,
            attempts=1,
            max_attempts=1,
            cancel_requested=False,
            worker_id="cli" if job_id is None else f"job:{job_id}",
            pid=os.getpid(),
            sweep_id=str(Path(hydra.sweep.dir).resolve()) if multirun else None,
            parent_id=job_id,
            **values,
        )
        with store.session() as session:
            session.add(row)
            session.flush()
            self._row_id, self._owns_row = row.id, True

    def _end(self, config: DictConfig, job_return: JobReturn) -> None:
        target = self._target(config)
        assert target is not None and self._row_id is not None
        store = _store(target[0])
        result = read_result(HydraConfig.get().runtime.output_dir)
        metrics = result.metrics if result else None
        mlflow_run_id = result.mlflow_run_id if result else None
        if not self._owns_row:
            values = {"metrics": metrics, "mlflow_run_id": mlflow_run_id}
            with store.session() as session:
                session.execute(update(Job).where(Job.id == self._row_id).values(values))
            return
        failed = job_return.status != HydraJobStatus.COMPLETED
        exc = job_return._return_value if failed else None
        queue.finish(
            store,
            self._row_id,
            JobStatus.FAILED if failed else JobStatus.SUCCEEDED,
            error=f"{type(exc).__name__}: {exc}" if exc is not None else None,
            metrics=metrics,
            mlflow_run_id=mlflow_run_id,
        )
