"""What each job kind runs: one table of data, turned into overrides and a command line.

A kind is only a recipe of overrides for the ordinary `stockml` app, so every kind goes
through the same Hydra config, callback and metrics.json as a hand-typed run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

JOB_COMMAND_ENV = "STOCKML_JOB_COMMAND"


class KindError(ValueError):
    """Unknown kind, or a kind used without what it needs."""


@dataclass(frozen=True)
class Kind:
    description: str
    # Overrides put before the user's; dropped when the user sets the same key themselves.
    defaults: tuple[str, ...] = ()
    multirun: bool = False
    # Override recording the run this job derives from, formatted with `target`.
    target_override: str | None = None
    # `stockml <subcommand> RUN ...` runs the job instead of the experiment app itself.
    subcommand: str | None = None


KINDS: dict[str, Kind] = {
    "train": Kind("one experiment with the given overrides"),
    "retrain": Kind(
        "retrain a recorded run with the given overrides and compare old and new models",
        target_override="+retrain_of={target}",
        subcommand="retrain",
    ),
    "tune": Kind(
        "hyperparameter search with the Bayesian optimizer",
        defaults=("optimizer=bayesian",),
    ),
    "select_features": Kind(
        "feature selection: a grid over how many F-test-ranked features to keep",
        defaults=("experiment=select_features",),
    ),
    "compare": Kind(
        "a multirun comparing the standard models",
        defaults=("model=linear,ridge,lasso,random_forest,gradient_boosting",),
        multirun=True,
    ),
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KindError(f"unknown job kind {name!r}; choose from {', '.join(KINDS)}") from None


def _override_key(override: str) -> str:
    """`+model=x`, `++model=x`, `~model` and `model=x` all address the key `model`."""
    return override.split("=", 1)[0].lstrip("+~")


def effective_defaults(kind: Kind, overrides: Sequence[str]) -> list[str]:
    user_keys = {_override_key(o) for o in overrides}
    return [d for d in kind.defaults if _override_key(d) not in user_keys]


def job_overrides(kind_name: str, overrides: Sequence[str], target: str | None = None) -> list[str]:
    """The full override list a job runs with, as stored on its row and shown by `show`."""
    kind = get_kind(kind_name)
    if kind.target_override and not target:
        raise KindError(f"a {kind_name} job needs the run it derives from (--of RUN)")
    if target and not kind.target_override:
        raise KindError(f"a {kind_name} job takes no --of")
    extra = [kind.target_override.format(target=target)] if kind.target_override else []
    return [*effective_defaults(kind, overrides), *overrides, *extra]


def base_command() -> list[str]:
    """`python -m stockml`, or the JSON list in $STOCKML_JOB_COMMAND (tests, containers)."""
    raw = os.environ.get(JOB_COMMAND_ENV)
    if not raw:
        return [sys.executable, "-m", "stockml"]
    try:
        command = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KindError(f"${JOB_COMMAND_ENV} is not a JSON list of strings: {exc}") from exc
    if not (isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        raise KindError(f"${JOB_COMMAND_ENV} is not a non-empty JSON list of strings")
    return command


def command_for(kind_name: str, overrides: Sequence[str], base: Sequence[str]) -> list[str]:
    kind = get_kind(kind_name)
    if kind.subcommand and kind.target_override:
        # The stored overrides record the target as `+retrain_of=RUN`; the subcommand takes
        # it as its first argument instead.
        marker = kind.target_override.split("{", 1)[0]
        targets = [o.removeprefix(marker) for o in overrides if o.startswith(marker)]
        rest = [o for o in overrides if not o.startswith(marker)]
        if len(targets) != 1:
            raise KindError(f"a {kind_name} job needs exactly one {marker}RUN override")
        return [*base, kind.subcommand, targets[0], *rest]
    return [*base, *(["-m"] if kind.multirun else []), *overrides]
