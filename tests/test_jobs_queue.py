"""Queue semantics on SQLite and PostgreSQL: order, atomic claims, leases, cancel, retry."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

import pytest
from jobs_helpers import claim_until_empty
from omegaconf import OmegaConf

import stockml.config
import stockml.config_checks
from stockml.config import ConfigError
from stockml.jobs import queue
from stockml.jobs.cleanup import parse_duration
from stockml.jobs.db import Store
from stockml.jobs.kinds import KINDS, KindError, command_for, job_overrides

pytest_plugins = ["jobs_fixtures"]


def _submit(store: Store, *overrides: str, **kwargs: object) -> int:
    return queue.submit(store, "train", list(overrides), validate=False, **kwargs)  # type: ignore[arg-type]


def test_claims_highest_priority_first_then_oldest(store: Store) -> None:
    low_old = _submit(store, "n=1")
    high_old = _submit(store, "n=2", priority=5)
    low_new = _submit(store, "n=3")
    high_new = _submit(store, "n=4", priority=5)
    claimed = [queue.claim(store, "w", 30) for _ in range(5)]
    assert [job.id if job else None for job in claimed] == [
        high_old,
        high_new,
        low_old,
        low_new,
        None,
    ]
    first = claimed[0]
    assert first is not None and first.status == "running" and first.attempts == 1
    assert first.worker_id == "w" and first.lease_expires_at > first.started_at


def test_concurrent_processes_claim_each_job_exactly_once(store: Store, store_url: str) -> None:
    submitted = {_submit(store, f"n={i}") for i in range(60)}
    start_at = [time.time() + 1] * 4
    with ProcessPoolExecutor(4, mp_context=get_context("fork")) as pool:
        workers = [f"w{i}" for i in range(4)]
        results = list(pool.map(claim_until_empty, [store_url] * 4, workers, start_at))
    claimed = [job_id for ids in results for job_id in ids]
    assert sorted(claimed) == sorted(submitted)
    assert sum(1 for ids in results if ids) >= 2, "the claims did not overlap; test proves nothing"
    assert queue.counts(store)["succeeded"] == 60


def test_heartbeat_extends_the_lease_and_reports_cancel(store: Store) -> None:
    _submit(store)
    job = queue.claim(store, "w", 1)
    assert job is not None
    assert queue.heartbeat(store, job.id, "w", 60) is queue.Beat.RENEWED
    assert queue.get(store, job.id).lease_expires_at > job.lease_expires_at
    assert queue.cancel(store, job.id) == "running"
    assert queue.heartbeat(store, job.id, "w", 60) is queue.Beat.CANCEL
    assert queue.heartbeat(store, job.id, "someone-else", 60) is queue.Beat.LOST


def test_cancel_queued_job_never_starts(store: Store) -> None:
    job_id = _submit(store)
    assert queue.cancel(store, job_id) == "cancelled"
    assert queue.claim(store, "w", 30) is None
    with pytest.raises(queue.JobStateError):
        queue.cancel(store, job_id)
    with pytest.raises(queue.JobNotFound):
        queue.cancel(store, 10_000)


def test_finish_only_by_the_owning_worker(store: Store) -> None:
    job_id = _submit(store)
    queue.claim(store, "w", 30)
    assert queue.finish(store, job_id, "succeeded", worker_id="other") is False
    assert queue.finish(store, job_id, "failed", error="boom", worker_id="w") is True
    job = queue.get(store, job_id)
    assert (job.status, job.error, job.lease_expires_at) == ("failed", "boom", None)
    assert queue.finish(store, job_id, "succeeded") is False


def test_expired_lease_requeues_then_fails_after_max_attempts(store: Store) -> None:
    job_id = _submit(store, max_attempts=2)
    for attempt in (1, 2):
        job = queue.claim(store, f"w{attempt}", 0.2)
        assert job is not None and job.attempts == attempt
        assert queue.recover_expired(store) == []
        time.sleep(0.3)
        recovered = queue.recover_expired(store)
        assert recovered == [queue.Recovered(job_id, "queued" if attempt == 1 else "failed")]
    job = queue.get(store, job_id)
    assert job.status == "failed"
    assert job.error == "worker lost (lease expired) after 2 attempts"


def test_expired_lease_with_cancel_requested_ends_cancelled(store: Store) -> None:
    job_id = _submit(store)
    queue.claim(store, "w", 0.2)
    queue.cancel(store, job_id)
    time.sleep(0.3)
    assert queue.recover_expired(store) == [queue.Recovered(job_id, "cancelled")]


def test_retry_requeues_failed_and_cancelled_with_fresh_attempts(store: Store) -> None:
    job_id = _submit(store)
    queue.claim(store, "w", 30)
    queue.finish(store, job_id, "failed", error="boom", worker_id="w")
    queue.retry(store, job_id)
    job = queue.get(store, job_id)
    assert (job.status, job.attempts, job.error, job.finished_at) == ("queued", 0, None, None)
    assert queue.claim(store, "w", 30).id == job_id  # type: ignore[union-attr]
    with pytest.raises(queue.JobStateError, match="only failed or cancelled"):
        queue.retry(store, job_id)


def test_release_returns_job_without_counting_the_attempt(store: Store) -> None:
    job_id = _submit(store)
    queue.claim(store, "w", 30)
    assert queue.release(store, job_id, "w") is True
    job = queue.get(store, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)


def test_list_filters_and_orders_newest_first(store: Store) -> None:
    first = _submit(store)
    second = queue.submit(store, "tune", [], validate=False)
    queue.cancel(store, first)
    assert [j.id for j in queue.list_jobs(store)] == [second, first]
    assert [j.id for j in queue.list_jobs(store, status="cancelled")] == [first]
    assert [j.id for j in queue.list_jobs(store, kind="tune")] == [second]
    assert len(queue.list_jobs(store, limit=1)) == 1


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("1.5s", 1.5)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "3x", "-1d"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_kinds_map_to_overrides_and_commands() -> None:
    assert job_overrides("train", ["a=1"]) == ["a=1"]
    assert job_overrides("retrain", ["a=1"], target="abc") == ["a=1", "+retrain_of=abc"]
    assert job_overrides("tune", ["a=1"]) == ["optimizer=bayesian", "a=1"]
    assert job_overrides("tune", ["optimizer=random"]) == ["optimizer=random"]
    assert job_overrides("select_features", []) == ["experiment=select_features"]
    compare = job_overrides("compare", ["seed=1"])
    assert compare == ["model=linear,ridge,lasso,random_forest,gradient_boosting", "seed=1"]
    assert command_for("compare", compare, ["stockml"]) == ["stockml", "-m", *compare]
    assert command_for("train", ["a=1"], ["stockml"]) == ["stockml", "a=1"]
    retrain = job_overrides("retrain", ["data.end=2013-03-01"], target="abc")
    assert command_for("retrain", retrain, ["stockml"]) == [
        "stockml", "retrain", "abc", "data.end=2013-03-01",
    ]  # fmt: skip
    assert set(KINDS) == {"train", "retrain", "tune", "select_features", "compare"}
    with pytest.raises(KindError, match="--of"):
        job_overrides("retrain", [])
    with pytest.raises(KindError, match="unknown job kind"):
        job_overrides("nope", [])


def test_submit_records_the_composed_config(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    composed: list[list[str]] = []

    def fake_compose(overrides: list[str], return_hydra_config: bool = False) -> object:
        composed.append(list(overrides))
        if "model=nope" in overrides:
            raise ConfigError("bad config overrides ['model=nope']: Could not find 'model/nope'")
        return OmegaConf.create({"overrides": list(overrides)})

    monkeypatch.setattr(stockml.config, "compose_config", fake_compose)
    monkeypatch.setattr(stockml.config_checks, "check_config", lambda config: None)
    job = queue.get(store, queue.submit(store, "select_features", ["seed=3"]))
    assert "experiment=select_features" in job.config_yaml  # type: ignore[operator]
    queue.submit(store, "compare", ["seed=1,2"])
    # every sweep value composed once, not the 10-run product
    assert len(composed) == 1 + 1 + 4 + 1
    assert queue.submit(store, "tune", ["seed=1"]) and composed[-1] == [
        "optimizer=bayesian",
        "seed=1",
    ]
    with pytest.raises(ConfigError, match="model/nope"):
        queue.submit(store, "train", ["model=nope"])
    assert len(queue.list_jobs(store)) == 3


@pytest.fixture
def skew_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Set this process's (Python) clock `offset` away from the true time, for stockml.jobs."""

    def skew(offset: timedelta) -> None:
        for name, module in list(sys.modules.items()):
            if name.startswith("stockml.jobs") and hasattr(module, "utcnow"):
                monkeypatch.setattr(module, "utcnow", lambda: datetime.now(UTC) + offset)

    return skew


def test_a_host_with_a_slow_clock_keeps_its_lease(store: Store, skew_clock) -> None:
    job_id = _submit(store)
    skew_clock(timedelta(hours=-1))  # the claiming worker's host is an hour behind
    assert queue.claim(store, "slow-host", lease_seconds=60) is not None
    queue.heartbeat(store, job_id, "slow-host", 60)  # renewals from that host too
    skew_clock(timedelta(0))
    assert queue.recover_expired(store) == []
    assert queue.get(store, job_id).status == "running"


def test_a_host_with_a_fast_clock_expires_no_live_lease(store: Store, skew_clock) -> None:
    live = _submit(store)
    assert queue.claim(store, "w", lease_seconds=60) is not None
    skew_clock(timedelta(hours=1))  # the recovering host is an hour ahead
    assert queue.recover_expired(store) == []
    assert queue.get(store, live).status == "running"
    # Leases still expire, by the database's clock, whatever the hosts' clocks say.
    short = _submit(store)
    skew_clock(timedelta(hours=-1))
    assert queue.claim(store, "w2", lease_seconds=0.2) is not None
    time.sleep(0.4)
    assert queue.recover_expired(store) == [queue.Recovered(short, "queued")]
