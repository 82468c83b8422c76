"""Read a run's metrics.json into the headline numbers kept on its job row.

The row keeps what a `list`/`show` reader compares runs by; the full file (std, baselines)
stays in the output directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class RunResult:
    metrics: dict[str, Any]
    mlflow_run_id: str | None


def headline(payload: dict[str, Any]) -> dict[str, Any]:
    cv = payload.get("cv") or {}
    return {
        "optimized_metric": payload.get("optimized_metric"),
        "value": payload.get("value"),
        "cv": {name: stats.get("mean") for name, stats in cv.items() if isinstance(stats, dict)},
        "holdout": payload.get("holdout") or {},
    }


def read_result(output_dir: str | Path | None) -> RunResult | None:
    """The headline of `<output_dir>/metrics.json`, or None when absent or unreadable."""
    if not output_dir:
        return None
    path = Path(output_dir) / METRICS_FILE
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    return RunResult(headline(payload), payload.get("mlflow_run_id"))
