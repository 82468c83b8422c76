"""`stockml-jobs` commands, in process through main(argv) and as a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from jobs_helpers import FAKE_COMMAND_JSON

from stockml.jobs import queue
from stockml.jobs.cli import main
from stockml.jobs.db import Store

pytest_plugins = ["jobs_fixtures"]


def _cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_submit_work_list_show_retry_cancel(store: Store, capsys, tmp_path: Path) -> None:
    url = store.url
    code, out, _ = _cli(capsys, url, "submit", "--priority", "2", "--", "seed=7")
    assert code == 0
    job_id = int(out)
    code, out, _ = _cli(capsys, url, "submit", "--kind", "retrain", "--of", "abc", "--", "seed=8")
    retrain_id = int(out)
    assert queue.get(store, retrain_id).overrides == ["seed=8", "+retrain_of=abc"]
    assert queue.get(store, job_id).config_yaml.startswith("seed: 7")  # type: ignore[union-attr]
    assert _cli(capsys, url, "cancel", str(retrain_id))[1] == f"job {retrain_id}: cancelled\n"

    code, out, _ = _cli(capsys, url, "work", "--until-empty", "--command", FAKE_COMMAND_JSON)
    assert code == 0 and f"job {job_id} (train) succeeded" in out and "done 1" in out

    code, out, _ = _cli(capsys, url, "list")
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["ID", "KIND", "STATUS"]
    assert [row.split()[:3] for row in rows] == [
        [str(retrain_id), "retrain", "cancelled"],
        [str(job_id), "train", "succeeded"],
    ]
    assert header.index("STATUS") == rows[0].index("cancelled")  # aligned
    assert len(_cli(capsys, url, "list", "--status", "succeeded")[1].splitlines()) == 2

    code, out, _ = _cli(capsys, url, "show", str(job_id))
    assert "status:        succeeded" in out and "seed: 7" in out and "output dir:" in out

    assert _cli(capsys, url, "retry", str(retrain_id))[0] == 0
    assert queue.get(store, retrain_id).status == "queued"
    code, _, err = _cli(capsys, url, "retry", str(job_id))
    assert (
        code == 1
        and err
        == f"stockml-jobs: error: job {job_id} is succeeded; only failed or cancelled retry\n"
    )


def test_submit_refuses_a_bad_override(store: Store, capsys) -> None:
    code, out, err = _cli(capsys, store.url, "submit", "--", "model=nope")
    assert code == 1 and out == ""
    assert err.startswith("stockml-jobs: error: bad config overrides ['model=nope']")
    assert len(err.splitlines()) == 1
    assert queue.list_jobs(store) == []


def test_submit_refuses_a_wrong_value_before_queueing(store: Store, capsys) -> None:
    code, _, err = _cli(capsys, store.url, "submit", "--", "target.horizon=-2")
    assert code == 1
    assert "target.horizon must be an integer >= 1" in err
    assert queue.list_jobs(store) == []


def test_submit_refuses_a_retrain_that_chooses_a_config_group(store: Store, capsys) -> None:
    code, _, err = _cli(capsys, store.url, "submit", "--kind", "retrain", "--of", "abc", "--",
                        "model=lasso")  # fmt: skip
    assert code == 1 and "chooses a config group option" in err
    assert queue.list_jobs(store) == []


def test_cleanup_dry_run_then_for_real(store: Store, capsys, tmp_path: Path) -> None:
    job_id = queue.submit(store, "train", [], validate=False)
    queue.cancel(store, job_id)
    code, out, _ = _cli(capsys, store.url, "cleanup", "--older-than", "0s", "--dry-run")
    assert code == 0 and f"would remove job {job_id}" in out
    assert len(queue.list_jobs(store)) == 1
    code, out, _ = _cli(capsys, store.url, "cleanup", "--older-than", "30d")
    assert "removed 0 job(s)" in out and len(queue.list_jobs(store)) == 1
    code, out, _ = _cli(capsys, store.url, "cleanup", "--older-than", "0s")
    assert "removed 1 job(s)" in out and queue.list_jobs(store) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "4242"], 1, "no job with id 4242"),
        (["cancel", "4242"], 1, "no job with id 4242"),
        (["cleanup", "--older-than", "soon"], 2, "bad duration 'soon'"),
        (["submit", "--kind", "retrain", "--", "seed=1"], 1, "needs the run it derives from"),
    ],
)
def test_errors_are_one_line(
    store: Store, capsys, args: list[str], code: int, message: str
) -> None:
    got, out, err = _cli(capsys, store.url, *args)
    assert (got, out) == (code, "")
    assert err.count("\n") == 1 and message in err


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stockml.jobs.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_corrupted_database_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(bytes(range(256)) * 64)
    done = _subprocess("--db", f"sqlite:///{path}", "list")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"stockml-jobs: error: job store sqlite:///{path} is not a valid SQLite database "
        "(corrupted?): file is not a database"
    )


def test_unreachable_postgres() -> None:
    done = _subprocess("--db", "postgresql+psycopg://postgres@127.0.0.1:1/test", "db", "upgrade")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "is unavailable: connection failed" in done.stderr


def test_db_upgrade_and_default_url_from_env(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STOCKML_STORE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["db", "upgrade"]) == 0
    assert "is at the latest schema" in capsys.readouterr().out
    assert (tmp_path / "env.db").is_file()


@pytest.mark.parametrize("flag", ["--lease", "--poll"])
def test_work_refuses_a_non_positive_lease_or_poll(flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["work", flag, "0"])
    assert exit_info.value.code == 2
    assert "must be > 0 seconds" in capsys.readouterr().err
