"""Run a recorded config again through the real `stockml` command.

Going through the command rather than calling `run_experiment` keeps a re-run recorded like
any other run (run directory, config snapshot, job store, MLflow) and lets the lifecycle
commands compare against it with the files they compare.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from stockml.config import CONFIG_NAME
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.snapshot import RunSnapshot, config_dir_for
from stockml.run_files import METRICS_FILE
from stockml.tracking.identity import choices_override


@dataclass(frozen=True)
class Rerun:
    run_dir: Path
    metrics: dict[str, Any]

    @property
    def run_id(self) -> str | None:
        return self.metrics.get("mlflow_run_id")


def new_run_dir(cfg: DictConfig) -> Path:
    """Where the re-run writes: the usual layout under the composed `paths.output_root`.

    Chosen here, not by Hydra's `${now:...}`, so the caller knows which directory to read.
    """
    return Path(str(cfg.paths.output_root)) / "runs" / f"{datetime.now():%Y-%m-%d/%H-%M-%S-%f}"


def rerun(snapshot: RunSnapshot, overrides: Sequence[str], cfg: DictConfig) -> Rerun:
    """Run ``snapshot`` with ``overrides`` (``cfg`` is their composed result) in a subprocess."""
    run_dir = new_run_dir(cfg)
    with config_dir_for(snapshot) as folder:
        command = [
            sys.executable,
            "-m",
            "stockml",
            "--config-path",
            str(folder),
            "--config-name",
            CONFIG_NAME,
            *overrides,
            f"hydra.run.dir='{run_dir}'",
            *choices_override(snapshot.choices),
        ]
        completed = subprocess.run(command, check=False)
    metrics_path = run_dir / METRICS_FILE
    if completed.returncode != 0 or not metrics_path.is_file():
        raise LifecycleError(f"the re-run of {snapshot.ref} failed (exit {completed.returncode})")
    return Rerun(run_dir=run_dir, metrics=json.loads(metrics_path.read_text()))
