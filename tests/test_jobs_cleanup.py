"""`stockml-jobs cleanup`: only directories inside the output root, only files stockml wrote.

Runs are real Hydra runs (the fake app, or `stockml` itself) recorded by the job store
callback, so the directories, snapshots and recorded output roots are what users get.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from stockml_runs import FAST, run_stockml

from stockml.jobs import queue
from stockml.jobs.cleanup import cleanup
from stockml.jobs.cli import main as jobs_main
from stockml.jobs.db import Store, open_store
from stockml.jobs.env import JOB_ID_ENV, STORE_URL_ENV
from stockml.jobs.worker import Worker, WorkerOptions

pytest_plugins = ["jobs_fixtures"]
APP = [sys.executable, str(Path(__file__).parent / "jobs_fake_app" / "app.py")]


def _app(out: Path, store_url: str, *overrides: str, job_id: int | None = None) -> Path:
    """Run the fake app (output root `out`) and return the run directory it recorded."""
    env = {**os.environ, "FAKE_OUT": str(out), "FAKE_STORE_URL": store_url}
    env.pop(JOB_ID_ENV, None)
    if job_id is not None:
        env.update({JOB_ID_ENV: str(job_id), STORE_URL_ENV: store_url})
    done = subprocess.run([*APP, *overrides], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    store = open_store(store_url)
    try:
        newest = queue.get(store, job_id) if job_id else queue.list_jobs(store, limit=1)[0]
    finally:
        store.dispose()
    assert newest.output_dir
    return Path(newest.output_dir)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """For what the backend cannot change (the file system): SQLite only, to save time."""
    opened = open_store(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield opened
    opened.dispose()


def _cleanup(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> str:
    assert jobs_main(["--db", url, "cleanup", "--older-than", "0s", *extra]) == 0
    return capsys.readouterr().out


@pytest.mark.slow
def test_a_user_directory_given_as_the_run_dir_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported reproduction, verbatim: hydra.run.dir pointed at a user's directory."""
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (sandbox / "precious.txt").write_text("x\n")
    done = run_stockml(
        tmp_path,
        "paths.output_root=q",
        f"hydra.run.dir={sandbox}",
        "features=minimal",
        "tracking.enabled=false",
    )
    assert done.returncode == 0, done.stderr
    assert (sandbox / "metrics.json").is_file()
    monkeypatch.chdir(tmp_path)

    out = _cleanup(capsys, "sqlite:///q/jobs.db", "--dry-run")
    assert f"would keep {sandbox} (job 1): it is outside the output root {tmp_path / 'q'}" in out
    out = _cleanup(capsys, "sqlite:///q/jobs.db")
    assert f"kept {sandbox} (job 1): it is outside the output root {tmp_path / 'q'}" in out
    assert "removed 1 job(s) and 0 directories; kept 1 directories" in out
    assert (sandbox / "precious.txt").read_text() == "x\n"
    assert (sandbox / ".hydra" / "config.yaml").is_file()  # nothing inside is touched either


@pytest.mark.slow
def test_a_real_stockml_run_directory_is_removed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file a real run writes (snapshot, log, run files) is known to cleanup."""
    done = run_stockml(
        tmp_path,
        "paths.output_root=q",
        "tracking.enabled=false",
        "data.tickers=[AAPL,MSFT]",
        "data.start=2008-01-01",
        "data.end=2011-12-31",
        *FAST,
    )
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path / 'q' / 'jobs.db'}"
    [job] = queue.list_jobs(open_store(url))
    run_dir = Path(job.output_dir)  # type: ignore[arg-type]
    assert run_dir.is_relative_to(tmp_path / "q" / "runs") and (run_dir / "cli.log").is_file()
    out = _cleanup(capsys, url)
    assert f"removed {run_dir}" in out and not run_dir.exists()
    assert run_dir.parent.is_dir()  # the date folder is not the run's; it stays


def test_a_run_directory_with_a_file_the_user_dropped_is_kept(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    mine = _app(out, sqlite_store.url, "value=0.1")
    theirs = _app(out, sqlite_store.url, "value=0.2")
    (theirs / "analysis.ipynb").write_text("{}")
    theirs_id = queue.list_jobs(sqlite_store, limit=1)[0].id
    printed = _cleanup(capsys, sqlite_store.url)
    assert not mine.exists() and f"removed {mine}" in printed
    foreign = theirs / "analysis.ipynb"
    assert f"kept {theirs} (job {theirs_id}): {foreign} was not written by stockml" in printed
    assert sorted(p.name for p in theirs.iterdir()) == [
        ".hydra", "analysis.ipynb", "app.log", "metrics.json",
    ]  # fmt: skip
    assert queue.list_jobs(sqlite_store) == []  # the rows go; the directory is the user's now


def test_symlinks_and_dotdot_never_lead_cleanup_outside_the_output_root(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    out.mkdir()
    (out / "runs").symlink_to(elsewhere)  # run dirs land in `elsewhere` through the link
    through_link = _app(out, sqlite_store.url)
    dotdot = _app(out, sqlite_store.url, f"hydra.run.dir={out}/../sandbox")
    # A run directory replaced by a link to a user's directory after the run.
    (out / "later").mkdir()
    replaced = _app(out, sqlite_store.url, f"hydra.run.dir={out}/later/run")
    moved = replaced.rename(tmp_path / "moved")
    replaced.symlink_to(elsewhere)
    first, second, third = sorted(job.id for job in queue.list_jobs(sqlite_store))

    printed = _cleanup(capsys, sqlite_store.url)
    assert through_link.is_relative_to(elsewhere) and through_link.exists()
    assert f"kept {through_link} (job {first}): it is outside the output root {out}" in printed
    assert dotdot == tmp_path / "sandbox" and (dotdot / "metrics.json").is_file()
    assert f"kept {dotdot} (job {second}): it is outside the output root {out}" in printed
    assert f"kept {replaced} (job {third}): it is outside the output root {out}" in printed
    assert (elsewhere / "keep.txt").read_text() == "mine" and (moved / "metrics.json").is_file()
    assert "removed 3 job(s) and 0 directories; kept 3 directories" in printed


def test_every_attempt_of_a_requeued_job_is_cleaned(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attempt 1 wrote its directory and lost its worker; attempt 2 ran to the end."""
    out = tmp_path / "out"
    job_id = queue.submit(store, "train", ["value=0.3"], validate=False)
    assert queue.claim(store, "lost-worker", lease_seconds=0.2) is not None
    first = _app(out, store.url, "value=0.3", job_id=job_id)
    time.sleep(0.3)
    assert queue.recover_expired(store) == [queue.Recovered(job_id, "queued")]
    options = WorkerOptions(url=store.url, lease_seconds=5, until_empty=True, command=APP)
    monkeypatch.setenv("FAKE_OUT", str(out))
    monkeypatch.setenv("FAKE_STORE_URL", "sqlite:///never-used.db")  # the worker's URL wins
    assert Worker(options).run().by_status == {"succeeded": 1}
    job = queue.get(store, job_id)
    second = Path(job.output_dir)  # type: ignore[arg-type]
    assert second != first and job.attempts == 2
    assert [(o.attempt, o.path) for o in queue.outputs(store, job_id)] == [
        (1, str(first)),
        (2, str(second)),
    ]
    assert jobs_main(["--db", store.url, "show", str(job_id)]) == 0
    shown = capsys.readouterr().out
    assert f"attempt 1:     {first}" in shown and f"attempt 2:     {second}" in shown

    printed = _cleanup(capsys, store.url)
    assert f"removed {first}" in printed and f"removed {second}" in printed
    assert not first.exists() and not second.exists()


def test_a_sweep_directory_goes_with_its_trials(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    job_id = queue.submit(store, "train", ["-m", "value=0.1,0.2"], validate=False)
    options = WorkerOptions(url=store.url, lease_seconds=5, until_empty=True, command=APP)
    monkeypatch.setenv("FAKE_OUT", str(out))
    monkeypatch.setenv("FAKE_STORE_URL", "sqlite:///never-used.db")  # the worker's URL wins
    assert Worker(options).run().by_status == {"succeeded": 1}
    sweep = Path(queue.get(store, job_id).output_dir)  # type: ignore[arg-type]
    assert (sweep / "multirun.yaml").is_file() and (sweep / "0" / "metrics.json").is_file()
    printed = _cleanup(capsys, store.url)
    assert not sweep.exists() and "removed 3 job(s) and 1 directories; kept 0" in printed


def test_a_recent_job_and_its_directory_stay(sqlite_store: Store, tmp_path: Path) -> None:
    run_dir = _app(tmp_path / "out", sqlite_store.url)
    done = cleanup(sqlite_store, timedelta(hours=1))
    assert (done.jobs, done.removed, done.kept) == ([], [], [])
    assert run_dir.is_dir() and len(queue.list_jobs(sqlite_store)) == 1


def test_a_hand_started_sweep_goes_once_its_last_trial_does(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import update

    from stockml.jobs.clock import db_now
    from stockml.jobs.models import Job

    out = tmp_path / "out"
    _app(out, sqlite_store.url, "-m", "value=0.1,0.2")
    first, second = sorted(queue.list_jobs(sqlite_store), key=lambda job: job.id)
    sweep = Path(first.sweep_id)  # type: ignore[arg-type]
    with sqlite_store.session() as session:  # the second trial is not due yet
        session.execute(update(Job).where(Job.id == second.id).values(finished_at=db_now(3600)))
    printed = _cleanup(capsys, sqlite_store.url)
    assert f"removed {first.output_dir}" in printed and sweep.is_dir()
    assert Path(second.output_dir).is_dir()  # type: ignore[arg-type]

    with sqlite_store.session() as session:
        session.execute(update(Job).where(Job.id == second.id).values(finished_at=db_now(-1)))
    printed = _cleanup(capsys, sqlite_store.url)
    assert f"removed {second.output_dir}" in printed and f"removed {sweep}" in printed
    assert not sweep.exists() and out.is_dir()


def test_a_directory_a_staying_job_also_wrote_is_kept(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hydra.run.dir` fixed by the user: an old and a recent run share one directory."""
    from sqlalchemy import update

    from stockml.jobs.clock import db_now
    from stockml.jobs.models import Job

    out = tmp_path / "out"
    shared = _app(out, sqlite_store.url, f"hydra.run.dir={out}/fixed", "value=0.1")
    assert _app(out, sqlite_store.url, f"hydra.run.dir={out}/fixed", "value=0.2") == shared
    old, recent = sorted(job.id for job in queue.list_jobs(sqlite_store))
    with sqlite_store.session() as session:
        session.execute(update(Job).where(Job.id == recent).values(finished_at=db_now(3600)))
    printed = _cleanup(capsys, sqlite_store.url)
    assert f"kept {shared} (job {old}): job {recent}, which stays, wrote there too" in printed
    assert (shared / "metrics.json").is_file()
