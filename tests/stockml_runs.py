"""Running the real `stockml` command from tests, on a slice small enough to take seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The smoke-run preset users type (conf/debug/fast.yaml) is the one source of the fast slice.
# The preset keeps no fitted model and no job row; the tests here check exactly those records,
# so they turn them back on (a test about one record may turn the other off again).
FAST = ["debug=fast", "store.enabled=true", "tracking.log_model=true"]


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
