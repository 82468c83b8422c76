"""The README's `stockml-report ... --html` commands, run after a real model-comparison multirun
with tracking on, and the page they write opened in headless Chromium.

`test_readme_commands.py` runs the README's `stockml` commands; this runs its HTML report
lines (parsed from the README, so a changed line is what gets tested) the way a user would,
from the directory the multirun ran in.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from report_browser import chromium_or_skip, open_report
from stockml_runs import FAST, run_stockml
from test_readme_commands import BASH_BLOCK, README

from stockml.reporting.run_report import CV_LABEL, REPORT_FILE

pytestmark = pytest.mark.slow

MODELS = ["ridge", "lasso"]
COMPARISON = [
    "-m", "experiment=compare_models", f"model={','.join(MODELS)}",
    "data.tickers=[AAPL,IBM]", "data.start=2008-01-01", *FAST,
    "store.enabled=false", "tracking.log_model=false", "tracking.log_plots=false",
]  # fmt: skip


def report_commands(text: str) -> list[list[str]]:
    """The arguments of each `stockml-report ... --html ...` line in the README's bash blocks."""
    commands = []
    for block in BASH_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens[:1] == ["stockml-report"] and "--html" in tokens:
                commands.append(tokens[1:])
    return commands


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("compare")
    completed = run_stockml(cwd, *COMPARISON)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return cwd


@pytest.fixture(scope="module")
def pages(comparison: Path) -> list[Path]:
    """Each README report command run as `stockml report ...` (the same entry point)."""
    commands = report_commands(README.read_text())
    assert commands, "the README shows no `stockml-report ... --html` command"
    written = []
    for args in commands:
        completed = run_stockml(comparison, "report", *args)
        assert completed.returncode == 0, completed.stderr[-3000:]
        written.append(comparison / args[args.index("--html") + 1])
    return written


def test_the_readme_report_commands_write_pages_that_render(
    pages: list[Path], tmp_path: Path
) -> None:
    chromium = chromium_or_skip()
    for page in pages:
        text = page.read_text()
        assert all(f"model={model}" in text for model in MODELS)  # every run on the board
        figures = open_report(page, tmp_path / f"{page.stem}.png", chromium)
        assert figures and all(f["width"] > 0 and f["height"] > 0 for f in figures)


def test_the_best_runs_are_drawn_from_their_evaluation(pages: list[Path]) -> None:
    for page in pages:
        assert page.read_text().count(f">{CV_LABEL}</h3>") == len(MODELS)  # --top 3 >= 2 runs


@pytest.mark.parametrize("log_report", [True, False])
def test_a_tracked_run_logs_its_own_report_unless_turned_off(
    tmp_path: Path, log_report: bool
) -> None:
    """A single run logs it; a multirun's jobs do not (the sweep's end logs the best one's,
    with its model: `stockml.tracking.best_model`)."""
    from mlflow import MlflowClient

    completed = run_stockml(
        tmp_path, "data=synthetic", "data.n_tickers=5", "features=minimal", "cv.n_splits=2",
        "store.enabled=false", "tracking.log_model=false", f"tracking.log_report={log_report}",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("stockml").experiment_id])
    logged = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert (REPORT_FILE in logged) is log_report


def test_the_report_commands_are_found() -> None:
    assert ["--experiment", "compare_models", "--html", "board.html"] in report_commands(
        README.read_text()
    )
