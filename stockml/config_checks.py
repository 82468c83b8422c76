"""Checks on a composed config that Hydra's schema-less YAML cannot express.

They run before any data is loaded so that a wrong value costs milliseconds, not a training
run, and the message names the key and the value.
"""

from __future__ import annotations

import re

from omegaconf import DictConfig

from stockml.config import ConfigError


def check_config(cfg: DictConfig, in_sweep: bool = False) -> None:
    """Raise ConfigError naming the first wrong value; `in_sweep` for a multirun's job."""
    # Imported here: the metrics module pulls in SciPy, which `stockml --cfg job` never needs.
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
        if in_sweep:
            _check_rolling_sweep(rolling.start, cfg.holdout.start)
    cv_horizon = cfg.cv.get("horizon") if cfg.cv is not None else None
    if cv_horizon is not None and int(cv_horizon) < horizon:
        raise ConfigError(
            f"cv.horizon={cv_horizon} is smaller than target.horizon={horizon}: the splitter "
            "would purge too few dates and training labels would overlap the test period"
        )


def _check_rolling_sweep(rolling_start: object, holdout_start: object) -> None:
    """A sweep selects a rolling run on its forecasts before the holdout: there must be some.

    With `holdout.fraction` the holdout start is known only once the data is loaded; the
    rolling run then refuses a start inside the holdout itself, before recording anything.
    """
    if rolling_start is None:
        raise ConfigError(
            "a sweep over rolling runs selects on the forecasts before the holdout, and "
            "rolling.start=null starts at the holdout: set rolling.start to an earlier date"
        )
    import pandas as pd

    if holdout_start is not None and pd.Timestamp(str(rolling_start)) >= pd.Timestamp(
        str(holdout_start)
    ):
        raise ConfigError(
            f"rolling.start={rolling_start} is not before holdout.start={holdout_start}: a "
            "sweep selects on the forecasts before the holdout, so start the rolling earlier"
        )


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
