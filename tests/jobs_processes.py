"""Bodies of processes started by the job tests (top level, so `spawn` can import them)."""

from __future__ import annotations

import time

from stockml.jobs.db import open_store


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
