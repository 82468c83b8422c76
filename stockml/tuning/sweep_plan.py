"""What a sweep is asked to do, worked out and checked before its study is touched.

The `hydra.sweeper` settings and the composed task config give the search space (the
command line, `params`, and the config's declared `search_space`), the direction of each
objective, the grid a grid sampler walks and the problem the study is about. Anything wrong
with them raises ValueError here, so the sweep refuses in one line before any trial.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from stockml.config_checks import check_sweep_direction
from stockml.tuning.optuna_study import normalize_directions
from stockml.tuning.param_space import declared_space
from stockml.tuning.samplers import is_grid
from stockml.tuning.search_space import GridSpace, SearchSpace, build_search_space
from stockml.tuning.study_identity import problem_of

log = logging.getLogger("stockml.tuning.optuna_sweep")

CustomSearchSpace = Callable[[Any, optuna.Trial], None]


@dataclass(frozen=True)
class SweepSettings:
    """The `hydra.sweeper` keys, checked once before any trial runs.

    `direction` None means: inferred from the task's `optimized_metric` (minimize without one).
    `heartbeat_interval`/`grace_period` (seconds) apply to database storages: a trial whose
    heartbeat is older than the grace period (default twice the interval) is marked FAIL.
    """

    sampler: Mapping[str, Any]
    direction: str | Sequence[str] | None = None
    study_name: str | None = None
    storage: str | None = None
    n_trials: int = 20
    n_jobs: int = 2
    max_failure_rate: float = 0.0
    params: Mapping[str, str] | None = None
    custom_search_space: str | None = None
    heartbeat_interval: int = 60
    grace_period: int | None = None

    def __post_init__(self) -> None:
        if self.n_trials < 1 or self.n_jobs < 1:
            raise ValueError(f"n_trials and n_jobs must be >= 1, got {self.n_trials}/{self.n_jobs}")
        if not 0.0 <= self.max_failure_rate <= 1.0:
            raise ValueError(f"max_failure_rate must be in [0, 1], got {self.max_failure_rate}")
        if self.heartbeat_interval < 1 or (self.grace_period is not None and self.grace_period < 1):
            raise ValueError("heartbeat_interval and grace_period must be >= 1 second")


@dataclass(frozen=True)
class SweepPlan:
    """What the settings and the task config ask for, worked out before the study is touched."""

    space: SearchSpace
    directions: list[str]
    grid: GridSpace | None
    problem: dict[str, Any] | None
    custom: CustomSearchSpace | None


def plan_sweep(
    settings: SweepSettings,
    arguments: Sequence[str],
    config: Any,
    parser: OverridesParser | None = None,
) -> SweepPlan:
    """Search space, directions, grid and problem identity; raises ValueError when wrong."""
    task = config if isinstance(config, DictConfig) else None
    specs = declared_space(task) if task is not None else {}
    declared = {key: spec.optuna_distribution() for key, spec in specs.items()}
    space = build_search_space(settings.params, arguments, parser, declared)
    if space.declared:
        log.info("sweeping the config's declared search_space for %s", ", ".join(space.declared))
    if space.ranges:
        log.warning(
            "%s: range(start, stop) excludes stop, as in Python and Hydra (the upstream Optuna "
            "sweeper included it)",
            "; ".join(space.ranges),
        )
    grid = _grid(settings.sampler, space)
    if grid is not None:
        space = space.with_choices(grid)
    metric = OmegaConf.select(task, "optimized_metric", default=None) if task else None
    if settings.direction is not None:  # a typo is named as one, not as a contradiction
        normalize_directions(settings.direction)
    directions = (
        normalize_directions(settings.direction or "minimize")
        if metric is None
        else check_sweep_direction(metric, settings.direction)
    )
    problem = problem_of(task, space.distributions) if task is not None else None
    custom = get_method(settings.custom_search_space) if settings.custom_search_space else None
    return SweepPlan(space, directions, grid, problem, custom)


def _grid(sampler: Mapping[str, Any], space: SearchSpace) -> GridSpace | None:
    """The grid a grid sampler walks: its configured `search_space`, else the sweep params."""
    if not is_grid(sampler):
        return None
    configured = sampler.get("search_space")
    return {str(k): list(v) for k, v in configured.items()} if configured else space.grid()
