"""Helpers shared by the tests/test_jobs_*.py modules (fixtures are in jobs_fixtures)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from stockml.jobs.db import open_store

FAKE_PROGRAM = [sys.executable, str(Path(__file__).with_name("jobs_fake_program.py"))]
FAKE_COMMAND_JSON = json.dumps(FAKE_PROGRAM)


def wait_until(predicate: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.05)


def claim_until_empty(url: str, worker_id: str, start_at: float) -> list[int]:
    """Claim and finish jobs until none is left; the ids this process got."""
    from stockml.jobs import queue

    store = open_store(url)
    time.sleep(max(0.0, start_at - time.time()))  # all processes start claiming together
    claimed = []
    while (job := queue.claim(store, worker_id, lease_seconds=60)) is not None:
        claimed.append(job.id)
        queue.finish(store, job.id, "succeeded", worker_id=worker_id)
    store.dispose()
    return claimed
