"""stockml's companion commands: the one table `stockml <name>`, `stockml --help` and each
command's own `--help` read, so a command is named, dispatched and described in one place.

`stockml <name> ...` runs the companion command `stockml-<name> ...` (a console script of the
same target in pyproject.toml), so one entry point (and `python -m stockml`) reaches everything;
the job queue runs retrains through it. Import-light: `stockml --help` and typo suggestions
must not load the commands themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from stockml.console_table import table


@dataclass(frozen=True)
class Command:
    target: str  # "module:function", called with the remaining arguments
    summary: str  # one line for `stockml --help` and the command's own --help

    def load(self) -> Callable[[list[str]], int]:
        module_name, function_name = self.target.split(":")
        return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


COMMANDS: dict[str, Command] = {
    "jobs": Command("stockml.jobs.cli:main", "queue runs and sweeps in a job store; run workers"),
    "report": Command(
        "stockml.reporting.cli:main", "leaderboard of tracked runs (console, CSV, Markdown, HTML)"
    ),
    "reproduce": Command(
        "stockml.lifecycle.cli:reproduce_main",
        "re-run a run's recorded config and compare its metrics",
    ),
    "retrain": Command(
        "stockml.lifecycle.cli:retrain_main",
        "retrain a run with new overrides and compare old and new",
    ),
    "register": Command(
        "stockml.lifecycle.cli:register_main",
        "register a run's model as the new challenger version",
    ),
    "promote": Command(
        "stockml.lifecycle.cli:promote_main",
        "make the challenger champion if it wins on recent rows",
    ),
    "predict": Command(
        "stockml.lifecycle.cli:predict_main",
        "forecast every (date, ticker) with complete features",
    ),
    "audit": Command(
        "stockml.features.audit_cli:main",
        "prove a run's formula and custom features causal (look-ahead audit)",
    ),
}


def summary(name: str) -> str:
    """A command's one line, capitalised as argparse descriptions are."""
    text = COMMANDS[name].summary
    return text[0].upper() + text[1:] + "."


def command_list() -> str:
    """One line per command, for `stockml --help`."""
    rows = ((name, command.summary) for name, command in COMMANDS.items())
    return table(("COMMAND", "WHAT IT DOES"), rows)


def closest_command(word: str) -> str | None:
    """The command a mistyped word most likely meant (`reports` -> `report`), if any is close."""
    import difflib  # only on a typo: not part of every run's start-up

    matches = difflib.get_close_matches(word, COMMANDS, n=1)
    return matches[0] if matches else None
