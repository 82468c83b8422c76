"""Checks on a composed config that Hydra's schema-less YAML cannot express.

They run before any data is loaded so that a wrong value costs milliseconds, not a training
run, and the message names the key and the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from stockml.config import ConfigError
from stockml.messages import InputError
from stockml.tracking_uri import check_tracking_uri

if TYPE_CHECKING:
    from stockml.target import TargetSpec


def check_config(cfg: DictConfig, in_sweep: bool = False) -> None:
    """Raise ConfigError naming the first wrong value; `in_sweep` for a multirun's job."""
    target = target_spec(cfg)
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ConfigError(f"seed must be an integer, got {cfg.seed!r}")
    fraction, start = cfg.holdout.fraction, cfg.holdout.start
    if start is None and (fraction is None or not 0.0 < float(fraction) < 1.0):
        raise ConfigError(
            f"holdout.fraction must lie strictly between 0 and 1 (or set holdout.start), "
            f"got {fraction!r}"
        )
    metrics = optimized_metrics(cfg.optimized_metric)
    check_evaluation(cfg.get("evaluation"))
    if cfg.registry.register and not (cfg.tracking.enabled and cfg.tracking.log_model):
        raise ConfigError(
            "registry.register=true needs tracking.enabled=true and tracking.log_model=true: "
            "the registry holds the model MLflow logged"
        )
    rolling = cfg.get("rolling")
    if rolling is not None:
        if cfg.registry.register:
            raise ConfigError("registry.register=true with a rolling run: it keeps no model")
        if len(metrics) > 1:
            raise ConfigError(
                f"optimized_metric={metrics}: a rolling run returns one stitched value, "
                "so optimise a single cv_<metric>_mean"
            )
        if not metrics[0].endswith("_mean"):
            raise ConfigError(
                f"optimized_metric={cfg.optimized_metric}: a rolling run reports one stitched "
                "value per metric, so use cv_<metric>_mean"
            )
        if _metric_name(metrics[0]) not in _regression_directions():
            raise ConfigError(
                f"optimized_metric={cfg.optimized_metric}: a rolling run scores its stitched "
                "forecasts with the regression and IC metrics only, not the portfolio ones"
            )
        if in_sweep:
            _check_rolling_sweep(rolling.start, cfg.holdout.start)
    cv_horizon = cfg.cv.get("horizon") if cfg.cv is not None else None
    if cv_horizon is not None and int(cv_horizon) < target.label_span:
        raise ConfigError(
            f"cv.horizon={cv_horizon} is smaller than the label's reach {target.label_span} "
            f"(target.entry_lag={target.entry_lag} + target.horizon={target.horizon}): the "
            "splitter would purge too few dates and training labels would overlap the test period"
        )
    # Imported here: the search module pulls in scikit-learn, which `stockml --cfg job` never needs.
    from stockml.tuning.inner_search import check_optimizer

    check_optimizer(cfg)
    if cfg.tracking.enabled:
        check_tracking_uri(str(cfg.tracking.uri))


def target_spec(cfg: DictConfig) -> TargetSpec:
    """The config's label; a wrong `target.*` value is a ConfigError naming the key."""
    # Imported here, like the checks below: the labels module pulls in pandas.
    from stockml.target import TargetSpec

    try:
        return TargetSpec.from_config(cfg.target)
    except InputError as exc:
        raise ConfigError(str(exc)) from None


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


def check_evaluation(node: DictConfig | None) -> None:
    """The `evaluation` group (absent from configs recorded before it existed: defaults)."""
    if node is None:
        return
    for key, least in (("quantiles", 2), ("max_decay_horizon", 1)):
        value = node.get(key)
        if not _is_int(value, least):
            raise ConfigError(f"evaluation.{key} must be an integer >= {least}, got {value!r}")
    top_k = node.get("top_k")
    if top_k is not None and not _is_int(top_k, 1):
        raise ConfigError(
            f"evaluation.top_k must be null (the top quantile) or an integer >= 1, got {top_k!r}"
        )
    cost = node.get("cost_bps")
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not cost >= 0:
        raise ConfigError(f"evaluation.cost_bps must be a number >= 0 (basis points), got {cost!r}")


def _is_int(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _regression_directions() -> dict[str, bool]:
    # Imported here: the metrics module pulls in SciPy, which `stockml --cfg job` never needs.
    from stockml.validation.metrics import GREATER_IS_BETTER

    return GREATER_IS_BETTER


def _directions() -> dict[str, bool]:
    """Whether higher is better, for every metric a CV key may name."""
    from stockml.validation.portfolio import PORTFOLIO_GREATER_IS_BETTER

    return {**_regression_directions(), **PORTFOLIO_GREATER_IS_BETTER}


def _metric_name(key: str) -> str:
    """cv_ls_sharpe_mean -> ls_sharpe."""
    return key.removeprefix("cv_").removesuffix("_mean").removesuffix("_std")


def optimized_metrics(value: object) -> list[str]:
    """`optimized_metric` as a list of CV metric keys (one, or several for a Pareto front).

    Only CV scores may be optimised: a sweep selecting on test_* would tune on the holdout.
    """
    directions = _directions()
    single = isinstance(value, str)
    metrics = [value] if single else list(value) if isinstance(value, Sequence) else [value]
    if not metrics or len(set(map(str, metrics))) != len(metrics):
        raise ConfigError(f"optimized_metric={value!r}: name one metric or a list of distinct ones")
    key = re.compile(rf"^cv_({'|'.join(directions)})_(mean|std)$")
    for metric in metrics:
        if not isinstance(metric, str) or not key.match(metric):
            raise ConfigError(
                f"optimized_metric={metric!r} is not a CV metric; use cv_<metric>_mean or "
                f"cv_<metric>_std with metric in {', '.join(directions)}, or a list of "
                "them (holdout metrics are never optimised: that would tune on the holdout)"
            )
    return metrics


def metric_direction(metric: str) -> str:
    """How a sweep should optimise a CV metric key: by the metric's sense for a `_mean`,
    `minimize` for a `_std` (a score that varies less across folds is the steadier one).

    Drawdowns are negative numbers (closer to 0 is better), so they are maximised too."""
    if metric.endswith("_std"):
        return "minimize"
    return "maximize" if _directions()[_metric_name(metric)] else "minimize"


def check_sweep_direction(optimized_metric: object, direction: object) -> list[str]:
    """One direction per optimised metric: inferred when `direction` is unset, else checked.

    An explicit direction that contradicts its metric is refused: `direction=minimize` on
    `cv_ic_mean` would search for the worst model.
    """
    metrics = optimized_metrics(optimized_metric)
    wanted = [metric_direction(metric) for metric in metrics]
    if direction is None:
        return wanted
    given = [direction] if isinstance(direction, str) else list(direction)  # type: ignore[call-overload]
    if len(given) != len(metrics):
        raise ConfigError(
            f"hydra.sweeper.direction={given} has {len(given)} entries but optimized_metric="
            f"{metrics} names {len(metrics)} metric(s); give one direction per metric or leave "
            "direction unset to infer it"
        )
    for metric, asked, right in zip(metrics, given, wanted, strict=True):
        if str(asked).lower() != right:
            raise ConfigError(
                f"hydra.sweeper.direction={asked} but optimized_metric={metric} is better when "
                f"{'higher' if right == 'maximize' else 'lower'}: set hydra.sweeper.direction="
                f"{right} or leave it unset to infer it"
            )
    return wanted
