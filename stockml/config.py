"""Where stockml's Hydra configs live and how to compose them outside the CLI.

The job queue validates overrides at submit time and the lifecycle commands re-compose
recorded configs, so composing must work without `@hydra.main` and give a one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from stockml.messages import first_line

CONFIG_NAME = "config"


class ConfigError(ValueError):
    """A config that cannot be composed or that holds a wrong value; one-line message."""


def config_dir() -> Path:
    """The `conf/` directory: beside the package in a checkout, inside it in a wheel."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "conf", package_dir / "conf"):
        if (candidate / f"{CONFIG_NAME}.yaml").is_file():
            return candidate
    raise ConfigError(f"stockml's conf/ directory was not found beside or inside {package_dir}")


def compose_config(overrides: Sequence[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """Compose the config the CLI would see for these overrides, or raise ConfigError."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose(
                config_name=CONFIG_NAME,
                overrides=list(overrides),
                return_hydra_config=return_hydra_config,
            )
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"bad config overrides {list(overrides)}: {first_line(exc)}") from exc
