"""What a run is called in MLflow, and which sweep run it is nested under.

A run is named after what distinguishes it: a single run after its model, the overrides
typed on the command line and the time (`ridge features=full 2026-11-27 18:10:34`); a
trial of a plain multirun after its job number and the values the sweep gave it
(`j03 model=lasso`); an Optuna trial after its trial number (`t07 model.alpha=0.31`, which
the sweep observer hands to the job). Every run is also tagged with its pipeline's name
(`standard-kbest_f-ridge`), which is the name its model is logged under, and carries the
config group options it was composed from (`model=ridge`, `cv=walk_forward`), which become
params. Pure functions and a small file: no MLflow import, so it is cheap for
`tracking.enabled=false` runs and the sweep callback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.types import RunMode
from omegaconf import DictConfig

from stockml.sweep_files import LINK_FILE

PARENT_RUN_TAG = "mlflow.parentRunId"  # what the MLflow UI nests runs by
OVERRIDES_TAG = "sweep_overrides"  # the trial's distinguishing overrides, as JSON
STUDY_TAG = "optuna.study_name"
TRIAL_TAG = "optuna.trial_number"
# Set per Optuna trial in `hydra.job.env_set` by stockml.tracking.optuna_observer.
TRIAL_ENV = "STOCKML_OPTUNA_TRIAL"
STUDY_ENV = "STOCKML_OPTUNA_STUDY"
# Set in `hydra.job.env_set` by stockml.lifecycle.rerun: the options the re-run run was
# composed from, which a config composed from its snapshot no longer has (JSON).
CHOICES_ENV = "STOCKML_RECORDED_CHOICES"
# The name the run's model is logged under (and registry/predict look it up by).
PIPELINE_TAG = "pipeline"
# What runs recorded before the pipeline tag existed logged their model as.
LEGACY_MODEL_NAME = "model"
# The config groups of the pipeline's steps, in pipeline order (see stockml.pipeline).
PIPELINE_GROUPS = ("scaler", "selection", "model")
# Config groups (and overrides) that change where or how a run is recorded, not what it
# computes: they name no run and are no param (the config snapshot artifact keeps them).
INFRASTRUCTURE = frozenset({"hydra", "tracking", "store", "paths", "registry"})
NAME_LIMIT = 200


@dataclass(frozen=True)
class SweepLink:
    """What a sweep's parent run tells its trials, through `LINK_FILE` in the sweep dir."""

    parent_run_id: str
    experiment_id: str
    tracking_uri: str
    # The multirun's own overrides (sweep syntax included): a trial's overrides that are not
    # among them are what the sweep gave that trial.
    base_overrides: list[str]

    def write(self, sweep_dir: Path) -> Path:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        path = sweep_dir / LINK_FILE
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def read(cls, sweep_dir: Path) -> SweepLink | None:
        """The link of the sweep in `sweep_dir`, or None when it has no parent run."""
        path = sweep_dir / LINK_FILE
        return cls(**json.loads(path.read_text())) if path.is_file() else None


@dataclass(frozen=True)
class RunIdentity:
    """A run's MLflow name, the parent it is nested under, and the tags that say why."""

    name: str
    parent_run_id: str | None = None
    experiment_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # The config group options the run was composed from (`model` -> `ridge`), recorded as
    # params; empty for a run composed from a snapshot, which has no defaults list.
    choices: Mapping[str, str] = field(default_factory=dict)

    def run_tags(self) -> dict[str, str]:
        tags = dict(self.tags)
        if self.parent_run_id is not None:
            tags[PARENT_RUN_TAG] = self.parent_run_id
        return tags


def short_value(value: str) -> str:
    """A float override as 4 significant digits (`0.31234567` -> `0.3123`); others as typed."""
    try:
        number = float(value)
    except ValueError:
        return value
    if "." not in value and "e" not in value.lower():
        return value  # integers and words like `inf` stay as typed
    return f"{number:.4g}"


def override_pairs(overrides: Iterable[str]) -> dict[str, str]:
    """`key=value` overrides as a dict, without `+`/`~` prefixes and recording-only keys."""
    pairs = {}
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if not is_infrastructure(key):
            pairs[key] = value
    return pairs


def describe(pairs: Mapping[str, str]) -> str:
    return " ".join(f"{key}={short_value(value)}" for key, value in pairs.items())


def is_infrastructure(key: str) -> bool:
    """Whether a config key, group or override (`tracking.uri`, `hydra/launcher`,
    `store=none`) is about recording rather than computing."""
    return key.split(".", 1)[0].split("/", 1)[0] in INFRASTRUCTURE


def recorded_choices(choices: Mapping[str, str | None]) -> dict[str, str]:
    """The chosen option of every experiment config group (`model` -> `ridge`); groups left
    empty (`experiment: null`) and infrastructure groups (`hydra/launcher`, `tracking`) out."""
    return {
        group: str(option)
        for group, option in choices.items()
        if option is not None and not is_infrastructure(group)
    }


def job_choices(hydra_cfg: Any) -> dict[str, str]:
    """The config group options of a job (its Hydra config): Hydra's own, or, for a re-run
    composed from a snapshot (no defaults list), those handed down from the recorded run."""
    own = recorded_choices(hydra_cfg.runtime.choices)
    if own:
        return own
    handed = (hydra_cfg.job.get("env_set") or {}).get(CHOICES_ENV)
    return recorded_choices(json.loads(handed)) if handed else {}


def choices_override(choices: Mapping[str, str]) -> list[str]:
    """The override that hands `choices` down to a re-run (see `job_choices`)."""
    if not choices:
        return []
    return [f"++hydra.job.env_set.{CHOICES_ENV}='{json.dumps(dict(choices))}'"]


def pipeline_name(
    cfg: DictConfig, choices: Mapping[str, str], retargeted: Iterable[str] = ()
) -> str:
    """The pipeline's steps joined by `-` (`standard-kbest_f-ridge`; `ridge` without scaler
    and selector): each step by its config group option, or by its estimator class when the
    option is unknown (a run composed from a snapshot) or its `_target_` was overridden
    (`retargeted` holds such groups)."""
    retargeted = set(retargeted)
    words = []
    for group in PIPELINE_GROUPS:
        node = cfg.get(group)
        if node is None:
            continue  # a "passthrough" step
        option = choices.get(group)
        if not option or group in retargeted:
            option = str(node._target_).rsplit(".", 1)[-1].lower()
        words.append(option)
    return "-".join(words)


def logged_model_name(tags: Mapping[str, str]) -> str:
    """The name a run's model is (or would be) logged under, from the run's tags."""
    return tags.get(PIPELINE_TAG, LEGACY_MODEL_NAME)


def _clip(name: str) -> str:
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def single_run_identity(
    model_choice: str | None, model_target: str, overrides: Iterable[str], now: datetime
) -> RunIdentity:
    """`<model> <overrides> <date time>`: the model group (or the estimator class when the
    target was overridden), the other overrides typed, and when it ran."""
    pairs = override_pairs(overrides)
    if "model._target_" in pairs or not model_choice:
        model = model_target.rsplit(".", 1)[-1].lower()
    else:
        model = model_choice
    pairs.pop("model", None)
    pairs.pop("model._target_", None)
    words = [model, describe(pairs), f"{now:%Y-%m-%d %H:%M:%S}"]
    return RunIdentity(name=_clip(" ".join(word for word in words if word)))


def trial_pairs(overrides: Iterable[str], link: SweepLink) -> dict[str, str]:
    """The overrides a sweep gave one trial: those not shared with the whole multirun."""
    shared = set(link.base_overrides)
    return override_pairs(o for o in overrides if o not in shared)


def trial_identity(
    job_num: int, overrides: Iterable[str], link: SweepLink, env: Mapping[str, str]
) -> RunIdentity:
    """`j03 model=lasso` for a plain multirun's job, `t07 model.alpha=0.31` (Optuna's trial
    number, tagged with the study) for an Optuna trial; nested under the sweep's parent run."""
    pairs = trial_pairs(overrides, link)
    tags = {OVERRIDES_TAG: json.dumps(pairs)}
    if TRIAL_ENV in env:
        prefix = f"t{int(env[TRIAL_ENV]):02d}"
        tags |= {TRIAL_TAG: str(env[TRIAL_ENV]), STUDY_TAG: str(env.get(STUDY_ENV, ""))}
    else:
        prefix = f"j{job_num:02d}"
    return RunIdentity(
        name=_clip(f"{prefix} {describe(pairs)}".rstrip()),
        parent_run_id=link.parent_run_id,
        experiment_id=link.experiment_id,
        tags=tags,
    )


def job_identity(hydra_cfg: Any, cfg: DictConfig, now: datetime) -> RunIdentity:
    """The identity of the job Hydra is running (`HydraConfig.get()`) with config `cfg`."""
    overrides = list(hydra_cfg.overrides.task)
    choices = job_choices(hydra_cfg)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        link = SweepLink.read(Path(hydra_cfg.sweep.dir))
        if link is not None:
            env = dict(hydra_cfg.job.env_set or {})
            identity = trial_identity(int(hydra_cfg.job.num), overrides, link, env)
        else:
            pairs = override_pairs(overrides)
            identity = RunIdentity(name=_clip(f"j{int(hydra_cfg.job.num):02d} {describe(pairs)}"))
    else:
        identity = single_run_identity(
            choices.get("model"), str(cfg.model._target_), overrides, now
        )
    retargeted = {
        key.removesuffix("._target_")
        for key in override_pairs(overrides)
        if key.endswith("._target_")
    }
    return replace(
        identity,
        tags={**identity.tags, PIPELINE_TAG: pipeline_name(cfg, choices, retargeted)},
        choices=choices,
    )
