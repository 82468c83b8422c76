"""Refuse a job at submit time when its overrides do not compose, rather than hours later.

Multirun kinds may sweep (`model=linear,ridge`), which `compose` refuses; each sweep value is
composed once with every other sweep held at its first value, so a bad value anywhere is
caught without composing the whole product.
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from stockml import config as stockml_config
from stockml import config_checks
from stockml.config import ConfigError


def _sweep_choices(overrides: Sequence[str]) -> list[list[str]]:
    """Each override as the list of plain overrides it sweeps over (one item when no sweep)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as exc:
        raise ConfigError(f"bad config overrides {list(overrides)}: {exc}") from exc
    choices = []
    for text, override in zip(overrides, parsed, strict=True):
        if override.is_sweep_override():
            key = text.split("=", 1)[0]
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([text])
    return choices


def _compose_checked(overrides: Sequence[str]) -> DictConfig:
    """Compose, then apply the same value checks a run starts with (horizon, holdout, ...)."""
    composed = stockml_config.compose_config(overrides)
    config_checks.check_config(composed)
    return composed


def compose_job_config(overrides: Sequence[str], multirun: bool) -> DictConfig:
    """The config of the job's (first) run; raises ConfigError naming the bad override."""
    if not multirun:
        return _compose_checked(overrides)
    choices = _sweep_choices(overrides)
    first = [options[0] for options in choices]
    composed = _compose_checked(first)
    for position, options in enumerate(choices):
        for option in options[1:]:
            _compose_checked([*first[:position], option, *first[position + 1 :]])
    return composed


def config_snapshot(config: DictConfig) -> str:
    return OmegaConf.to_yaml(config)
