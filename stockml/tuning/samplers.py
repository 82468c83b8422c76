"""Structured configs for Optuna's samplers, and building a sampler from one.

The configs only name their `_target_` as a string, so Hydra can register them at plugin
scan time without importing Optuna for every stockml command. Defaults mirror Optuna's;
options Optuna deprecated stay as `None` (Optuna's default) so upstream configs still compose.
A `seed` of `None` is the plugin's default, as upstream, because a fixed seed makes a resumed
study repeat the random start-up trials of the run before it. stockml's own hparams_search
presets still set `seed: ${seed}`: a sweep that reproduces from its config snapshot is worth
more to a researcher than fresh start-up trials on resume (set `hydra.sweeper.sampler.seed`
per resumed session to get those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from stockml.tuning.search_space import GridSpace

GRID_TARGETS = frozenset({"optuna.samplers.GridSampler", "optuna.samplers._grid.GridSampler"})


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


def build_sampler(sampler_config: Mapping[str, Any], grid: GridSpace | None) -> BaseSampler:
    """Instantiate the sampler; a grid sampler walks `grid` (its own `search_space` ignored)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    if not is_grid(sampler_config):
        return instantiate(sampler_config)
    if grid is None:
        raise ValueError("the grid sampler needs a grid")
    from stockml.tuning.optuna_grid import AskTellGridSampler

    options = OmegaConf.to_container(OmegaConf.create(sampler_config), resolve=True)
    assert isinstance(options, dict)
    options.pop("_target_")
    options.pop("search_space", None)
    return AskTellGridSampler(grid, **options)
