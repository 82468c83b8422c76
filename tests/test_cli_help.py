"""`stockml --help`, `--version` and mistyped commands, as a user types them."""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from stockml_runs import run_stockml

from stockml.cli import VERSIONED, is_command_word
from stockml.commands import COMMANDS
from stockml.config import compose_config

ROOT = Path(__file__).resolve().parents[1]


def test_help_is_stockmls_own_and_lists_every_command_and_group(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "--help")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("stockml: ")
    assert "powered by Hydra" not in completed.stdout
    for name, command in COMMANDS.items():
        assert any(line.split()[:1] == [name] and command.summary in line for line in lines), name
    groups = compose_config(return_hydra_config=True).hydra.runtime.choices
    for group in ("model", "features", "cv", "data"):
        assert f"{group}: " in completed.stdout and group in groups


def test_version_names_stockml_and_the_libraries_behind_its_results(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "--version")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == f"stockml {metadata.version('stockml')}"
    assert [f"{name} {metadata.version(name)}" for name in VERSIONED] == lines[: len(VERSIONED)]
    assert lines[-1].split() == ["Python", sys.version.split()[0]]


@pytest.mark.parametrize(("typed", "meant"), [("reports", "report"), ("job", "jobs")])
def test_a_mistyped_command_suggests_the_closest_in_one_line(
    tmp_path: Path, typed: str, meant: str
) -> None:
    completed = run_stockml(tmp_path, typed, "--metric", "ic")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"stockml: error: unknown command '{typed}'; did you mean '{meant}'?"
    ]
    assert not (tmp_path / "outputs").exists()


def test_a_word_like_no_command_points_to_the_help(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "xyzzy")
    assert completed.returncode == 2
    (line,) = completed.stderr.splitlines()
    assert line.startswith("stockml: error: unknown command 'xyzzy'") and "--help" in line


@pytest.mark.parametrize(
    "argument",
    ["model=ridge", "+x=1", "~key", "-m", "--multirun", "--cfg", "hydra/launcher=joblib", "-c"],
)
def test_overrides_and_flags_are_not_taken_for_commands(argument: str) -> None:
    assert not is_command_word(argument)


def test_overrides_still_reach_hydra(tmp_path: Path) -> None:
    completed = run_stockml(
        tmp_path, "--cfg", "job", "model=lasso", "+extra=1", "~seed", "hydra/launcher=joblib"
    )
    assert completed.returncode == 0, completed.stderr
    assert "extra: 1" in completed.stdout
    assert "sklearn.linear_model.Lasso" in completed.stdout
    assert "seed:" not in completed.stdout


def test_every_console_script_is_a_command_of_stockml() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    expected = {f"stockml-{name}": command.target for name, command in COMMANDS.items()}
    assert scripts == {"stockml": "stockml.cli:main", **expected}
