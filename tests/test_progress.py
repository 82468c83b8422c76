"""Progress bars: drawn on an interactive terminal, absent from pipes, logs and CI."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra.types import RunMode
from jobs_helpers import FAKE_PROGRAM

from stockml.cli import side_by_side
from stockml.config import compose_config
from stockml.jobs import queue
from stockml.jobs.db import open_store
from stockml.jobs.worker import Worker, WorkerOptions
from stockml.progress import bar, hidden, progress

SMOKE = [
    "data=synthetic",
    "data.n_tickers=4",
    "data.n_days=400",
    "features=minimal",
    "cv.n_splits=2",
    "cv.train_size=150",
    "cv.test_size=40",
    "optimizer=random",
    "optimizer.n_trials=2",
    "tracking.enabled=false",
    "store.enabled=false",
]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_passes_items_through_and_stays_silent_off_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert list(progress(range(3), "folds", "fold")) == [0, 1, 2]
    with bar("trials", "trial", total=2) as shown:
        shown.update(2)
    assert capsys.readouterr().err == ""


def test_progress_draws_its_label_and_total_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert list(progress(range(3), "CV folds", "fold")) == [0, 1, 2]
    assert "CV folds" in terminal.getvalue() and "/3" in terminal.getvalue()


def test_a_disabled_bar_stays_silent_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with bar("jobs", "job", disable=True) as shown:
        shown.update()
    assert terminal.getvalue() == ""


def test_hidden_bars_stay_silent_on_a_terminal_until_the_block_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with hidden():
        assert list(progress(range(2), "CV folds", "fold")) == [0, 1]
    assert terminal.getvalue() == ""
    with hidden(False):
        list(progress(range(2), "CV folds", "fold"))
    assert "CV folds" in terminal.getvalue()


@pytest.mark.parametrize(
    ("mode", "launcher", "beside"),
    [
        (RunMode.MULTIRUN, "hydra/launcher=joblib", True),
        (RunMode.MULTIRUN, "hydra/launcher=basic", False),
        (RunMode.RUN, "hydra/launcher=joblib", False),
    ],
)
def test_only_jobs_of_a_parallel_sweep_run_side_by_side(
    mode: RunMode, launcher: str, beside: bool
) -> None:
    launched = compose_config([launcher], return_hydra_config=True).hydra.launcher
    assert side_by_side(SimpleNamespace(mode=mode, launcher=launched)) is beside


def test_rolling_windows_are_counted_against_their_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stockml.lifecycle.rolling import rolling_retrain

    cfg = compose_config([*SMOKE, "holdout.fraction=0.25"])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    result = rolling_retrain(cfg, step=30)
    assert len(result.windows) > 1
    assert "rolling windows" in terminal.getvalue()
    assert f"/{len(result.windows)} " in terminal.getvalue()


@pytest.mark.parametrize("shown", [True, False])
def test_a_worker_counts_its_jobs_on_a_terminal_when_it_is_the_only_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], shown: bool
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/jobs.db")
    for _ in range(2):
        queue.submit(store, "train", [], validate=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    options = WorkerOptions(url=store.url, poll_seconds=0.1, until_empty=True, command=FAKE_PROGRAM)
    assert Worker(options, progress=shown).run().by_status == {"succeeded": 2}
    store.dispose()
    assert ("jobs:" in terminal.getvalue()) is shown
    assert len(capsys.readouterr().out.splitlines()) == 2  # the per-job lines stay


def _run(cwd: Path, stderr: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "stockml", *SMOKE],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=300,
        env={**env, "COLUMNS": "120"},
    )


def _read_all(leader: int, into: list[bytes]) -> None:
    """Drain the terminal while the run writes to it (a full pty buffer would block the run)."""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # every writer closed the terminal
            return
        if not chunk:
            return
        into.append(chunk)


@pytest.mark.slow
def test_a_run_shows_fold_and_search_bars_on_a_terminal_only(tmp_path: Path) -> None:
    piped = _run(tmp_path, subprocess.PIPE)
    assert piped.returncode == 0, piped.stderr
    assert "CV folds" not in piped.stderr and "ic search" not in piped.stderr
    assert "\r" not in piped.stderr

    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, where tqdm draws nothing: size it like a window.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    drawn: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(leader, drawn))
    reader.start()
    try:
        on_terminal = _run(tmp_path, follower)
    finally:
        os.close(follower)
        reader.join(timeout=30)
        os.close(leader)
    assert on_terminal.returncode == 0
    text = b"".join(drawn).decode(errors="replace")
    assert "CV folds" in text and "/2" in text
    assert "ic search" in text
    assert _tables(on_terminal.stdout) == _tables(piped.stdout) != []


def _tables(stdout: str) -> list[str]:
    """The printed summary without the timestamped log lines."""
    return [line for line in stdout.splitlines() if not line.startswith("[")]
