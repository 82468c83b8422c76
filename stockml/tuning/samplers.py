"""Structured configs for Optuna's samplers, and building a sampler from one.

The configs only name their `_target_` as a string, so Hydra can register them at plugin
scan time without importing Optuna for every stockml command. Defaults mirror Optuna's;
options Optuna deprecated stay as `None` (Optuna's default) so upstream configs still compose.
A `seed` of `None` is the plugin's default, as upstream. A configured seed is not used as it
is: each sweep session seeds its sampler from it and the number of its first trial in the
study (`session_seed`), so a resumed sweep, or a second process on the same study, never
replays the points already run, while the same config and study history give the same seeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from stockml.tuning.search_space import GridSpace

GRID_TARGETS = frozenset({"optuna.samplers.GridSampler", "optuna.samplers._grid.GridSampler"})
# QMC keeps one low-discrepancy sequence per seed and counts its draws in the study, so it
# never repeats a point with its configured seed; a new seed per session would restart it.
FIXED_SEED_TARGETS = frozenset({"optuna.samplers.QMCSampler", "optuna.samplers._qmc.QMCSampler"})


@dataclass
class TPESamplerConfig:
    _target_: str = "optuna.samplers.TPESampler"
    seed: int | None = None
    n_startup_trials: int = 10
    n_ei_candidates: int = 24
    multivariate: bool | None = None
    group: bool = False
    constant_liar: bool = True
    consider_prior: bool | None = None
    prior_weight: float | None = None
    consider_magic_clip: bool | None = None
    consider_endpoints: bool | None = None
    warn_independent_sampling: bool | None = None


@dataclass
class RandomSamplerConfig:
    _target_: str = "optuna.samplers.RandomSampler"
    seed: int | None = None


@dataclass
class GridSamplerConfig:
    """`search_space: null` means: every value of the sweep's choice and range params."""

    _target_: str = "optuna.samplers.GridSampler"
    seed: int | None = None
    search_space: dict[str, Any] | None = None


@dataclass
class CmaEsSamplerConfig:
    """Needs the `cmaes` package, which Optuna does not install."""

    _target_: str = "optuna.samplers.CmaEsSampler"
    seed: int | None = None
    x0: dict[str, Any] | None = None
    sigma0: float | None = None
    n_startup_trials: int = 1
    independent_sampler: Any = None
    warn_independent_sampling: bool = True
    consider_pruned_trials: bool = False
    restart_strategy: str | None = None
    popsize: int | None = None
    inc_popsize: int = -1
    use_separable_cma: bool = False
    with_margin: bool = False
    lr_adapt: bool = False


@dataclass
class NSGAIISamplerConfig:
    _target_: str = "optuna.samplers.NSGAIISampler"
    seed: int | None = None
    population_size: int = 50
    mutation: Any = None
    mutation_prob: float | None = None
    crossover: Any = None
    crossover_prob: float = 0.9
    swapping_prob: float = 0.5


@dataclass
class GPSamplerConfig:
    _target_: str = "optuna.samplers.GPSampler"
    seed: int | None = None
    independent_sampler: Any = None
    n_startup_trials: int = 10
    deterministic_objective: bool = False
    warn_independent_sampling: bool = True


@dataclass
class QMCSamplerConfig:
    _target_: str = "optuna.samplers.QMCSampler"
    seed: int | None = None
    qmc_type: str = "sobol"
    scramble: bool = False
    independent_sampler: Any = None
    warn_asynchronous_seeding: bool = True
    warn_independent_sampling: bool = True


SAMPLER_CONFIGS: dict[str, type] = {
    "tpe": TPESamplerConfig,
    "random": RandomSamplerConfig,
    "grid": GridSamplerConfig,
    "cmaes": CmaEsSamplerConfig,
    "nsgaii": NSGAIISamplerConfig,
    "gp": GPSamplerConfig,
    "qmc": QMCSamplerConfig,
}


def is_grid(sampler_config: Mapping[str, Any]) -> bool:
    """Whether this config asks for Optuna's grid sampler (the sweep then bounds its trials)."""
    return sampler_config.get("_target_") in GRID_TARGETS


def session_seed(sampler_config: Mapping[str, Any], first_trial: int) -> int | None:
    """The seed of a sweep session whose first trial has number `first_trial` in its study.

    Trial numbers are unique within a study, also across processes sharing it, so two
    sessions never get the same seed; `None` (no configured seed) stays unseeded.
    """
    seed = sampler_config.get("seed")
    if seed is None or sampler_config.get("_target_") in FIXED_SEED_TARGETS:
        return seed
    digest = hashlib.sha256(f"{seed}:{first_trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def build_sampler(sampler_config: Mapping[str, Any], grid: GridSpace | None) -> BaseSampler:
    """Instantiate the sampler; a grid sampler walks `grid` (its own `search_space` ignored)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    options = OmegaConf.to_container(OmegaConf.create(dict(sampler_config)), resolve=True)
    assert isinstance(options, dict)
    if not is_grid(sampler_config):
        return instantiate(options)
    if grid is None:
        raise ValueError("the grid sampler needs a grid")
    from stockml.tuning.optuna_grid import AskTellGridSampler

    options.pop("_target_")
    options.pop("search_space", None)
    return AskTellGridSampler(grid, **options)
