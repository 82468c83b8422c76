"""Checks on a composed config that Hydra's schema-less YAML cannot express.

They run before any data is loaded so that a wrong value costs milliseconds, not a training
run, and the message names the key and the value.
"""

from __future__ import annotations

import re

from omegaconf import DictConfig

from stockml.config import ConfigError

METRIC_KEY = re.compile(
    r"^(cv_(mse|mae|rmse|r2|directional_accuracy|ic|rank_ic|icir|rank_icir)_(mean|std)"
    r"|test_(mse|mae|rmse|r2|directional_accuracy|ic|rank_ic|icir|rank_icir))$"
)


def check_config(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first wrong value."""
    horizon = cfg.target.horizon
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise ConfigError(f"target.horizon must be an integer >= 1 (bars ahead), got {horizon!r}")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ConfigError(f"seed must be an integer, got {cfg.seed!r}")
    fraction, start = cfg.holdout.fraction, cfg.holdout.start
    if start is None and (fraction is None or not 0.0 < float(fraction) < 1.0):
        raise ConfigError(
            f"holdout.fraction must lie strictly between 0 and 1 (or set holdout.start), "
            f"got {fraction!r}"
        )
    if not METRIC_KEY.match(str(cfg.optimized_metric)):
        raise ConfigError(
            f"optimized_metric={cfg.optimized_metric!r} is not a metric stockml reports; use "
            "cv_<metric>_mean, cv_<metric>_std or test_<metric> with metric in mse, mae, rmse, "
            "r2, directional_accuracy, ic, rank_ic, icir, rank_icir"
        )
