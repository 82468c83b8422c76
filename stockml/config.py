"""Where stockml's Hydra configs live and how to compose them outside the CLI.

The job queue validates overrides at submit time and the lifecycle commands re-compose
recorded configs, so composing must work without `@hydra.main` and give a one-line error.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf

from stockml.messages import first_line

CONFIG_NAME = "config"
# Hydra's own settings for stockml runs (run/sweep dirs, callbacks): conf/hydra/default.yaml.
HYDRA_SETTINGS = Path("hydra") / "default.yaml"
# `${stockml.abspath:outputs}`: a path made absolute against the directory the command was
# started in (`hydra.runtime.cwd`). A launcher such as Ray runs each job in a worker process
# whose working directory is not that one, and Hydra makes the job's output directory absolute
# in the worker: a relative sweep directory would land wherever the worker happens to run.
OmegaConf.register_new_resolver("stockml.abspath", to_absolute_path, replace=True)


def label_span(*, _root_: DictConfig) -> int:
    """`${stockml.label_span:}`: how far the config's label reaches (entry lag + horizon), so
    the cv group's purge follows `target:` without repeating its arithmetic."""
    from stockml.target import TargetSpec  # here: pandas is not needed to compose a config

    return TargetSpec.from_config(_root_.target).label_span


OmegaConf.register_new_resolver("stockml.label_span", label_span, replace=True)
# conf/hydra/launcher/ray.yaml takes the place of the Ray plugin's config of the same name on
# purpose (see there); Hydra still checks it against the plugin's schema, and says so.
warnings.filterwarnings(
    "ignore", message=r"\s*'hydra/launcher/ray' is validated against ConfigStore schema"
)


class ConfigError(ValueError):
    """A config that cannot be composed or that holds a wrong value; one-line message."""


def config_dir() -> Path:
    """The `conf/` directory: beside the package in a checkout, inside it in a wheel."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "conf", package_dir / "conf"):
        if (candidate / f"{CONFIG_NAME}.yaml").is_file():
            return candidate
    raise ConfigError(f"stockml's conf/ directory was not found beside or inside {package_dir}")


def hydra_settings() -> DictConfig:
    """The `hydra:` node stockml runs with, for configs composed without conf/ (snapshots)."""
    settings = OmegaConf.load(config_dir() / HYDRA_SETTINGS)
    assert isinstance(settings, DictConfig)
    return settings


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
