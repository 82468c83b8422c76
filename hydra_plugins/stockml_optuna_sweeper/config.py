"""The `hydra/sweeper=optuna` config and its `hydra/sweeper/sampler` options in Hydra's ConfigStore.

Keys and defaults follow the upstream hydra-optuna-sweeper, so its configs compose unchanged.
Hydra imports this module while scanning plugins for every command, so it must not import Optuna.
Hydra runs it outside `sys.modules`, where dataclasses cannot resolve postponed annotations,
hence no `from __future__ import annotations` here.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from stockml.tuning.samplers import SAMPLER_CONFIGS

PROVIDER = "stockml_optuna_sweeper"


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.stockml_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    # The sweeper builds the sampler itself: a grid sampler needs the parsed params first.
    _recursive_: bool = False
    defaults: list[Any] = field(default_factory=lambda: [{"sampler": "tpe"}])
    sampler: Any = MISSING
    # None: inferred from the task's optimized_metric (one direction per metric of a list).
    direction: Any = None
    study_name: str | None = None
    storage: str | None = None
    n_trials: int = 20
    n_jobs: int = 2
    max_failure_rate: float = 0.0
    params: dict[str, str] | None = None
    custom_search_space: str | None = None
    # stockml's own keys. Database storages only: a running trial's heartbeat is recorded
    # every heartbeat_interval s; one older than grace_period (default 2x) is marked FAIL.
    heartbeat_interval: int = 60
    grace_period: int | None = None
    # Dotted paths of `factory(task_config) -> SweepObserver | None`.
    observers: list[str] = field(default_factory=list)


def register_configs() -> None:
    """Store the sweeper config and one `hydra/sweeper/sampler` option per Optuna sampler."""
    store = ConfigStore.instance()
    store.store(group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider=PROVIDER)
    for name, node in SAMPLER_CONFIGS.items():
        store.store(group="hydra/sweeper/sampler", name=name, node=node, provider=PROVIDER)


register_configs()
