"""Running the real `stockml` command from tests, on a slice small enough to take seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Minimal features and three short walk-forward folds: fits any multi-year slice of the sample.
FAST = ["features=minimal", "cv.n_splits=3", "cv.train_size=250", "cv.test_size=60"]


def run_stockml(
    cwd: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m stockml *args` in `cwd`, as a user would type it (no HYDRA_FULL_ERROR unless
    `env` sets it; `env` adds to the inherited environment)."""
    env = {
        **{key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"},
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "stockml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
