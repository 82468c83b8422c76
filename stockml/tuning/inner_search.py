"""Hyperparameter search inside one run, scored on the CV folds of the dev data only.

Grid, random and Bayesian search share one evaluation loop (`iter_folds`), so a candidate's
score means the same whichever method proposed it, and per-date IC works for panels. The
holdout never reaches this module: `run_experiment` passes only the dev slice.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.pipeline import Pipeline

from stockml.config import ConfigError
from stockml.evaluation import iter_folds
from stockml.messages import InputError
from stockml.progress import bar, progress
from stockml.tuning.param_space import ParamSpec, coerce, declared_space, parse_space
from stockml.validation.metrics import GREATER_IS_BETTER

log = logging.getLogger(__name__)
METHODS = ("none", "grid", "random", "bayesian")


@dataclass
class SearchResult:
    method: str
    metric: str
    greater_is_better: bool
    best_params: dict[str, Any]
    best_score: float
    trials: pd.DataFrame  # one row per candidate: params, score mean/std, folds run, state
    seconds: float

    @property
    def n_candidates(self) -> int:
        return len(self.trials)


def check_optimizer(cfg: DictConfig) -> None:
    """Refuse a wrong `optimizer.*` value before any data is loaded, naming the key.

    Each method reads only some keys; those it reads must make sense (`n_trials=0` would
    otherwise leave Optuna with no trial at all and fail long after the data was built).
    """
    optimizer = cfg.optimizer
    method = optimizer.get("method")
    if method not in METHODS:
        raise ConfigError(f"optimizer.method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "none":
        return
    metric = optimizer.get("metric")
    if metric not in GREATER_IS_BETTER:
        raise ConfigError(
            f"optimizer.metric must be one of {', '.join(GREATER_IS_BETTER)}, got {metric!r}"
        )
    minimum = {"grid_points": 2, "max_candidates": 1} if method == "grid" else {"n_trials": 1}
    if method == "bayesian" and "pruning_startup" in optimizer:  # optional, like the two below
        minimum["pruning_startup"] = 0
    for key, least in minimum.items():
        value = optimizer.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigError(f"optimizer.{key} must be an integer >= {least}, got {value!r}")
    if method == "bayesian":
        timeout = optimizer.get("timeout")
        valid = timeout is None or (isinstance(timeout, int | float) and timeout > 0)
        if not valid or isinstance(timeout, bool):
            raise ConfigError(f"optimizer.timeout must be null or seconds > 0, got {timeout!r}")
        if not isinstance(optimizer.get("pruning", False), bool):
            raise ConfigError(
                f"optimizer.pruning must be true or false, got {optimizer.get('pruning')!r}"
            )
    try:
        search_specs(cfg)
    except InputError as exc:
        raise ConfigError(f"optimizer: {exc}") from exc


def search_specs(cfg: DictConfig) -> list[ParamSpec]:
    """The declared spaces (`model__<key>`, `selector__<key>`) plus the optimizer's extra keys."""
    extra_space = cfg.optimizer.get("search_space")
    return list(declared_space(cfg).values()) + parse_space(_plain(extra_space))


def _plain(node: DictConfig | None) -> dict[str, Any] | None:
    return OmegaConf.to_container(node, resolve=True) if node else None  # type: ignore[return-value]


def _score_candidate(
    pipeline: Pipeline,
    params: dict[str, Any],
    data: tuple[pd.DataFrame, pd.Series, object],
    metric: str,
    report: Callable[[float, int], bool] | None = None,
) -> tuple[float, float, int, bool]:
    """Mean and std of `metric` over folds; `report(running_mean, fold)` may ask to stop."""
    X, y, splitter = data
    candidate = clone(pipeline).set_params(**params)
    scores: list[float] = []
    for fold in iter_folds(candidate, X, y, splitter):
        scores.append(fold.metrics[metric])
        finite = [s for s in scores if math.isfinite(s)]
        running = float(np.mean(finite)) if finite else math.nan
        if report is not None and report(running, fold.fold):
            return running, float(np.std(finite)) if finite else math.nan, len(scores), True
    finite = [s for s in scores if math.isfinite(s)]
    mean = float(np.mean(finite)) if finite else math.nan
    return mean, float(np.std(finite)) if finite else math.nan, len(scores), False


def _run_candidates(
    candidates: Iterable[dict[str, Any]],
    pipeline: Pipeline,
    data: tuple[pd.DataFrame, pd.Series, object],
    metric: str,
    specs: list[ParamSpec],
) -> list[dict[str, Any]]:
    rows = []
    for number, raw in enumerate(progress(candidates, f"{metric} search", "candidate")):
        params = coerce(specs, raw)
        mean, std, folds, _ = _score_candidate(pipeline, params, data, metric)
        rows.append(
            {
                "number": number,
                **params,
                "score_mean": mean,
                "score_std": std,
                "folds": folds,
                "state": "COMPLETE",
            }
        )
    return rows


def _run_bayesian(
    optimizer: DictConfig,
    pipeline: Pipeline,
    data: tuple[pd.DataFrame, pd.Series, object],
    metric: str,
    specs: list[ParamSpec],
    seed: int,
    greater_is_better: bool,
) -> list[dict[str, Any]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=int(optimizer.get("pruning_startup", 5)))
        if optimizer.get("pruning", False)
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        direction="maximize" if greater_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
    )
    rows: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        params = {spec.name: spec.suggest(trial) for spec in specs}

        def report(running: float, fold: int) -> bool:
            if not math.isfinite(running):
                return False
            trial.report(running, step=fold)
            return trial.should_prune()

        mean, std, folds, pruned = _score_candidate(pipeline, params, data, metric, report)
        rows.append(
            {
                "number": trial.number,
                **params,
                "score_mean": mean,
                "score_std": std,
                "folds": folds,
                "state": "PRUNED" if pruned else "COMPLETE",
            }
        )
        if pruned:
            raise optuna.TrialPruned()
        if not math.isfinite(mean):
            raise optuna.TrialPruned(f"{metric} undefined on every fold")
        return mean

    with bar(f"{metric} search", "trial", total=int(optimizer.n_trials)) as shown:
        study.optimize(
            objective,
            n_trials=int(optimizer.n_trials),
            timeout=optimizer.get("timeout"),
            callbacks=[lambda _study, _trial: shown.update()],
        )
    return rows


def run_search(
    cfg: DictConfig, pipeline: Pipeline, X_dev: pd.DataFrame, y_dev: pd.Series, splitter: object
) -> SearchResult | None:
    """Search `cfg.optimizer.method` over the declared space; None when there is nothing to do."""
    check_optimizer(cfg)
    optimizer = cfg.optimizer
    method = str(optimizer.method)
    if method == "none":
        return None
    specs = search_specs(cfg)
    if not specs:
        log.warning(
            "%s declares no search space: nothing to tune, using it as configured",
            cfg.model.get("_target_"),
        )
        return None
    metric = str(optimizer.metric)
    greater = GREATER_IS_BETTER[metric]
    seed = int(cfg.seed)
    data = (X_dev, y_dev, splitter)
    started = time.perf_counter()
    if method == "grid":
        grid = ParameterGrid({s.name: s.grid_values(int(optimizer.grid_points)) for s in specs})
        if len(grid) > int(optimizer.max_candidates):
            raise ConfigError(
                f"the grid has {len(grid)} candidates, more than optimizer.max_candidates="
                f"{optimizer.max_candidates}; lower optimizer.grid_points or use optimizer=random"
            )
        rows = _run_candidates(grid, pipeline, data, metric, specs)
    elif method == "random":
        sampler = ParameterSampler(
            {s.name: s.distribution() for s in specs},
            n_iter=int(optimizer.n_trials),
            random_state=seed,
        )
        rows = _run_candidates(sampler, pipeline, data, metric, specs)
    else:
        rows = _run_bayesian(optimizer, pipeline, data, metric, specs, seed, greater)
    trials = pd.DataFrame(rows)
    complete = trials[(trials["state"] == "COMPLETE") & np.isfinite(trials["score_mean"])]
    if complete.empty:
        raise InputError(f"no {method} search candidate produced a finite {metric}")
    best = complete.loc[
        complete["score_mean"].idxmax() if greater else complete["score_mean"].idxmin()
    ]
    best_params = {spec.name: _native(best[spec.name]) for spec in specs}
    return SearchResult(
        method=method,
        metric=metric,
        greater_is_better=greater,
        best_params=best_params,
        best_score=float(best["score_mean"]),
        trials=trials,
        seconds=time.perf_counter() - started,
    )


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
