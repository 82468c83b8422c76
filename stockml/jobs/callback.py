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
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from stockml.jobs.env import JOB_ID_ENV, STORE_URL_ENV
from stockml.messages import first_line

log = logging.getLogger(__name__)


def _cwd(config: DictConfig) -> Path:
    """Where the run was started: relative store URLs and output roots are relative to it.

    From the config, not HydraConfig: some launchers (submitit) call on_multirun_start
    before HydraConfig is set in the launching process.
    """
    return Path(OmegaConf.select(config, "hydra.runtime.cwd") or os.getcwd())


class JobStoreCallback(Callback):
    def __init__(self, **_: Any) -> None:
        self._row_id: int | None = None
        self._lease: Any = None  # lease.RunLease of a row this run owns
        self._warned = False

    def _guarded(self, what: str, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as exc:  # the run must go on whatever the store does
            if not self._warned:
                log.warning("job store: could not %s, run not recorded: %s", what, first_line(exc))
                self._warned = True

    def _target(self, config: DictConfig) -> tuple[Any, int | None] | None:
        """(store, queued job id or None), or None when nothing is to be recorded."""
        job_id = os.environ.get(JOB_ID_ENV)
        if job_id and os.environ.get(STORE_URL_ENV):
            url, queued = os.environ[STORE_URL_ENV], int(job_id)
        else:
            store_config = config.get("store")
            if not store_config or not store_config.get("enabled", False):
                return None
            url, queued = str(store_config.url), None
        from stockml.jobs.recording import store_for

        return store_for(url, _cwd(config)), queued

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._guarded("record the sweep directory", self._record_sweep, config)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._row_id, self._lease = None, None
        self._guarded("record the run start", self._start, config)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if self._lease is not None:
            self._lease.stop()  # first: a cancel must not interrupt the recording of the end
        if self._row_id is not None:
            self._guarded("record the run end", self._end, config, job_return)

    def _record_sweep(self, config: DictConfig) -> None:
        target = self._target(config)
        if target is None or target[1] is None:
            return
        from stockml.jobs.recording import output_root, record_sweep

        root = output_root(config, _cwd(config))
        record_sweep(target[0], target[1], str(config.hydra.sweep.dir), root)

    def _start(self, config: DictConfig) -> None:
        target = self._target(config)
        if target is None:
            return
        from stockml.jobs.recording import record_start

        hydra = HydraConfig.get()
        multirun = hydra.mode == RunMode.MULTIRUN
        lease_seconds = float(OmegaConf.select(config, "store.lease_seconds", default=120.0))
        self._row_id, self._lease = record_start(
            target[0], config, target[1], hydra, multirun, lease_seconds
        )

    def _end(self, config: DictConfig, job_return: JobReturn) -> None:
        target = self._target(config)
        assert target is not None and self._row_id is not None
        from stockml.jobs.recording import record_end

        output_dir = str(HydraConfig.get().runtime.output_dir)
        record_end(target[0], self._row_id, self._lease, output_dir, job_return)
