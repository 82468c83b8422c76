"""Checks on a composed config that Hydra's schema-less YAML cannot express.

They run before any data is loaded so that a wrong value costs milliseconds, not a training
run, and the message names the key and the value.
"""

from __future__ import annotations

import re

from omegaconf import DictConfig

from stockml.config import ConfigError
from stockml.tracking_uri import check_tracking_uri


def check_config(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first wrong value."""
    # Imported here: the metrics module pulls in SciPy, which `stockml --cfg job` never needs.
    from stockml.tuning.inner_search import check_optimizer
    from stockml.validation.metrics import GREATER_IS_BETTER

    # Only CV scores may be optimised: a sweep selecting on test_* would tune on the holdout.
    metric_key = re.compile(rf"^cv_({'|'.join(GREATER_IS_BETTER)})_(mean|std)$")
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
    if not metric_key.match(str(cfg.optimized_metric)):
        raise ConfigError(
            f"optimized_metric={cfg.optimized_metric!r} is not a CV metric; use "
            f"cv_<metric>_mean or cv_<metric>_std with metric in {', '.join(GREATER_IS_BETTER)}"
            " (holdout metrics are never optimised: that would tune on the holdout)"
        )
    if cfg.registry.register and not (cfg.tracking.enabled and cfg.tracking.log_model):
        raise ConfigError(
            "registry.register=true needs tracking.enabled=true and tracking.log_model=true: "
            "the registry holds the model MLflow logged"
        )
    rolling = cfg.get("rolling")
    if rolling is not None:
        if cfg.registry.register:
            raise ConfigError("registry.register=true with a rolling run: it keeps no model")
        if not str(cfg.optimized_metric).endswith("_mean"):
            raise ConfigError(
                f"optimized_metric={cfg.optimized_metric}: a rolling run reports one stitched "
                "value per metric, so use cv_<metric>_mean"
            )
    cv_horizon = cfg.cv.get("horizon") if cfg.cv is not None else None
    if cv_horizon is not None and int(cv_horizon) < horizon:
        raise ConfigError(
            f"cv.horizon={cv_horizon} is smaller than target.horizon={horizon}: the splitter "
            "would purge too few dates and training labels would overlap the test period"
        )
    check_optimizer(cfg)
    if cfg.tracking.enabled:
        check_tracking_uri(str(cfg.tracking.uri))


def check_sweep_direction(optimized_metric: str, direction: object) -> None:
    """Refuse a sweep that would optimise `optimized_metric` the wrong way round.

    The hparams_search presets maximise CV IC; switching to `optimized_metric=cv_mse_mean`
    without `hydra.sweeper.direction=minimize` would otherwise search for the worst model.
    """
    from stockml.validation.metrics import GREATER_IS_BETTER

    metric = optimized_metric.removeprefix("cv_")
    if not isinstance(direction, str) or not metric.endswith("_mean"):
        return  # multi-objective lists and *_std objectives carry no single sense
    wanted = "maximize" if GREATER_IS_BETTER[metric.removesuffix("_mean")] else "minimize"
    if direction.lower() != wanted:
        raise ConfigError(
            f"hydra.sweeper.direction={direction} but optimized_metric={optimized_metric} is "
            f"better when {'higher' if wanted == 'maximize' else 'lower'}: set "
            f"hydra.sweeper.direction={wanted}"
        )
