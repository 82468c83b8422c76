"""What problem a study is about, so a study name is never resumed on a different one.

The problem is the composed task config minus what may change between sessions of one
study: the swept parameters (that is what the study varies), the declared search spaces
(Optuna accepts changed bounds), `seed` (sessions may re-seed the models; the objective is
then noisier, not different), and where and how results are recorded (`hydra`, `paths`,
`tracking`, `store`, `registry`). Data, features, target, CV, holdout, selection, scaler,
model group and the optimised metric(s) all stay in. The data is identified by its config
(source, path, tickers, dates), not by hashing the files, which would cost a full load before
the first trial; each run records the data fingerprint it saw in `metrics.json`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import optuna
from omegaconf import DictConfig, OmegaConf

from stockml.config import ConfigError

log = logging.getLogger(__name__)

NOT_THE_PROBLEM = ("hydra", "paths", "tracking", "store", "registry", "seed")
DECLARED_SPACES = ("model.search_space", "selection.search_space")
PROBLEM_ATTR = "problem"
FINGERPRINT_ATTR = "problem_fingerprint"
_SHOWN_DIFFERENCES = 3


def problem_of(config: DictConfig, swept: Iterable[str]) -> dict[str, Any]:
    """The study-defining part of the composed task config, resolved to plain values."""
    # Resolved before the recording keys go, so `data.path: ${paths.output_root}/x.csv` counts.
    problem = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    if "seed" in config:
        problem.seed = 0  # keeps `${seed}` references (model random_state) out of the identity
    plain = OmegaConf.to_container(problem, resolve=True)
    assert isinstance(plain, dict)
    for key in (*NOT_THE_PROBLEM, *swept, *DECLARED_SPACES):
        _drop(plain, key.lstrip("+~"))
    return plain


def fingerprint(problem: Mapping[str, Any]) -> str:
    """A short, stable hash of the problem (canonical JSON, sorted keys)."""
    text = json.dumps(problem, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_study_problem(study: optuna.Study, problem: Mapping[str, Any]) -> None:
    """Record the problem on a new study; refuse to resume a study of another problem."""
    recorded = study.user_attrs.get(PROBLEM_ATTR)
    if recorded is None:
        if study.get_trials(deepcopy=False):
            log.warning(
                "study %s has trials but no recorded problem (an older stockml made it); "
                "recording this sweep's problem for it",
                study.study_name,
            )
        study.set_user_attr(PROBLEM_ATTR, json.loads(json.dumps(problem, default=str)))
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint(problem))
        return
    if study.user_attrs.get(FINGERPRINT_ATTR) == fingerprint(problem):
        return
    changes = differences(recorded, json.loads(json.dumps(problem, default=str)))
    shown = "; ".join(changes[:_SHOWN_DIFFERENCES])
    more = (
        f" and {len(changes) - _SHOWN_DIFFERENCES} more"
        if len(changes) > _SHOWN_DIFFERENCES
        else ""
    )
    raise ConfigError(
        f"study {study.study_name!r} was run on a different problem ({shown}{more}): set "
        f"hydra.sweeper.study_name=<new name> to start a new study, or restore those values "
        f"to resume it"
    )


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """`key: old -> new` for every leaf that differs, dotted keys in sorted order."""
    old, new = _flatten(recorded), _flatten(current)
    missing = "<unset>"
    return [
        f"{key}: {old.get(key, missing)!r} -> {new.get(key, missing)!r}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key, missing) != new.get(key, missing)
    ]


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping) and tree:
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): tree}


def _drop(tree: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = tree
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)
