"""Hydra callback that mirrors every multirun (plain `-m` or Optuna) as a parent MLflow run.

`on_multirun_start` runs once in the launching process before any job: it opens the parent
run and writes the link file the jobs nest under (see `stockml.tracking.sweep_run`).
`on_multirun_end` completes the parent. Hydra skips `on_multirun_end`
when the sweep raises, so the parent is then ended FAILED by `end_open_sweeps`, which
`stockml.cli.main` calls once Hydra has returned or raised. Not in an atexit hook (that is
only the fallback for other callers): ending a sweep refits its best trial, and by the time
atexit hooks run, the interpreter's thread pools refuse new work.

Tracking is a convenience: an MLflow error is one warning line, never a failed sweep. With
`tracking.enabled=false` nothing here imports MLflow.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from stockml.messages import first_line
from stockml.tracking.identity import SweepLink

log = logging.getLogger(__name__)
# Sweeps whose parent run is open, in start order; `end_open_sweeps` ends them.
_OPEN_SWEEPS: list[MlflowSweepCallback] = []


def end_open_sweeps() -> None:
    """End FAILED the parent run of every sweep that started and did not complete."""
    while _OPEN_SWEEPS:
        _OPEN_SWEEPS[-1]._finish("FAILED")


class MlflowSweepCallback(Callback):
    def __init__(self, **_: Any) -> None:
        self._link: SweepLink | None = None
        self._sweep_dir: Path | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not OmegaConf.select(config, "tracking.enabled", default=False):
            return
        from stockml.tracking.sweep_run import start_sweep

        try:
            self._link = start_sweep(config)
        except Exception as exc:  # the sweep runs untracked rather than not at all
            log.warning("MLflow: no parent run for this sweep: %s", first_line(exc))
            return
        self._sweep_dir = Path(str(config.hydra.sweep.dir))
        _OPEN_SWEEPS.append(self)
        atexit.register(self._finish, "FAILED")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._finish("FINISHED")

    def _finish(self, status: str) -> None:
        if self in _OPEN_SWEEPS:
            _OPEN_SWEEPS.remove(self)
        link, self._link = self._link, None
        if link is None or self._sweep_dir is None:
            return
        from stockml.tracking.sweep_run import finish_sweep

        try:
            finish_sweep(link, self._sweep_dir, status)
        except Exception as exc:
            log.warning("MLflow: could not complete sweep run %s: %s", link.parent_run_id,
                        first_line(exc))  # fmt: skip
