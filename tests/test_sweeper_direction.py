"""A sweep's direction follows `optimized_metric`; a contradicting one is refused once, before
any trial; a list of metrics makes a multi-objective study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf
from test_sweeper_loop import FakeLauncher, quadratic, settings

from stockml.config import ConfigError, compose_config
from stockml.config_checks import check_config, check_sweep_direction, optimized_metrics
from stockml.tracking.sweep_run import JobResult, best_jobs
from stockml.tuning.optuna_sweep import SweepRefused, run_sweep


@pytest.mark.parametrize(
    ("metric", "direction", "expected"),
    [
        ("cv_ic_mean", None, ["maximize"]),
        ("cv_rank_icir_mean", None, ["maximize"]),
        ("cv_r2_mean", None, ["maximize"]),
        ("cv_directional_accuracy_mean", None, ["maximize"]),
        ("cv_mse_mean", None, ["minimize"]),
        ("cv_mae_mean", None, ["minimize"]),
        ("cv_ic_std", None, ["minimize"]),
        ("cv_ls_sharpe_mean", None, ["maximize"]),
        ("cv_ls_net_sharpe_mean", None, ["maximize"]),
        ("cv_ls_ann_return_mean", None, ["maximize"]),
        ("cv_q_spread_mean", None, ["maximize"]),
        ("cv_ls_max_drawdown_mean", None, ["maximize"]),  # negative: closer to 0 is better
        ("cv_ls_turnover_mean", None, ["minimize"]),
        ("cv_ls_sharpe_std", None, ["minimize"]),
        ("cv_ic_mean", "maximize", ["maximize"]),
        (["cv_ic_mean", "cv_mse_mean"], None, ["maximize", "minimize"]),
        (["cv_ic_mean", "cv_ic_std"], ["maximize", "minimize"], ["maximize", "minimize"]),
    ],
)
def test_direction_is_inferred_or_checked_per_metric(metric, direction, expected) -> None:
    assert check_sweep_direction(metric, direction) == expected


@pytest.mark.parametrize(
    ("metric", "direction", "message"),
    [
        ("cv_ic_mean", "minimize", "is better when higher: set hydra.sweeper.direction=maximize"),
        ("cv_mse_mean", "maximize", "is better when lower: set hydra.sweeper.direction=minimize"),
        ("cv_ic_std", "maximize", "is better when lower"),
        (["cv_ic_mean", "cv_mse_mean"], "maximize", "has 1 entries but optimized_metric"),
        (["cv_ic_mean", "cv_mse_mean"], ["maximize", "maximize"], "optimized_metric=cv_mse_mean"),
    ],
)
def test_a_contradicting_direction_is_refused(metric, direction, message) -> None:
    with pytest.raises(ConfigError, match=message):
        check_sweep_direction(metric, direction)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["cv_ic_mean", "test_ic"], "optimized_metric='test_ic' is not a CV metric"),
        ("test_ls_net_sharpe", "optimized_metric='test_ls_net_sharpe' is not a CV metric"),
        ("cv_benchmark_sharpe_mean", "is not a CV metric"),  # not the model's score
        ([], "name one metric or a list of distinct ones"),
        (["cv_ic_mean", "cv_ic_mean"], "name one metric or a list of distinct ones"),
    ],
)
def test_a_bad_metric_list_is_refused(value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        optimized_metrics(OmegaConf.create({"m": value}).m)


def metric_config(metric: Any) -> Any:
    return OmegaConf.create({"optimized_metric": metric, "x": 0.0})


def test_a_sweep_without_direction_maximises_ic(tmp_path: Path) -> None:
    outcome = run_sweep(
        settings(n_trials=2), [], metric_config("cv_ic_mean"), FakeLauncher(quadratic), tmp_path
    )
    assert [d.name for d in outcome.study.directions] == ["MAXIMIZE"]
    assert outcome.study.best_value == max(t.value for t in outcome.study.trials)


def test_a_contradicting_direction_is_refused_once_before_any_trial(tmp_path: Path) -> None:
    launch = FakeLauncher(quadratic)
    with pytest.raises(SweepRefused) as refused:
        run_sweep(settings(direction="minimize"), [], metric_config("cv_ic_mean"), launch, tmp_path)
    assert launch.batches == []
    assert str(refused.value) == (
        "stockml: error: hydra.sweeper.direction=minimize but optimized_metric=cv_ic_mean is "
        "better when higher: set hydra.sweeper.direction=maximize or leave it unset to infer it"
    )


def test_a_list_of_metrics_makes_a_pareto_study_with_a_direction_each(tmp_path: Path) -> None:
    def two(params: dict[str, str]) -> list[float]:
        return [quadratic(params), float(params["x"])]

    config = metric_config(["cv_ic_mean", "cv_mse_mean"])
    outcome = run_sweep(settings(n_trials=4), [], config, FakeLauncher(two), tmp_path)
    assert [d.name for d in outcome.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert all(len(t.values) == 2 for t in outcome.study.trials)


def test_the_run_accepts_a_metric_list_except_for_a_rolling_run() -> None:
    metrics = "optimized_metric=[cv_ic_mean,cv_mse_mean]"
    check_config(compose_config([metrics]))
    with pytest.raises(ConfigError, match="a rolling run returns one stitched value"):
        check_config(compose_config(["experiment=rolling_retrain", metrics]))


@pytest.mark.parametrize(
    ("metric", "values", "best"),
    [
        ("cv_ic_mean", [0.1, 0.3, 0.2], 0.3),
        ("cv_ic_std", [0.1, 0.3, 0.2], 0.1),
        ("cv_ls_turnover_mean", [1.5, 0.4, 0.9], 0.4),
        ("cv_ls_max_drawdown_mean", [-0.4, -0.1, -0.2], -0.1),
        ("cv_ls_net_sharpe_mean", [-0.4, 0.8, 0.2], 0.8),
    ],
)
def test_without_optuna_results_the_best_job_follows_the_metrics_sense(
    tmp_path: Path, metric: str, values: list[float], best: float
) -> None:
    jobs = [JobResult(tmp_path / str(i), [metric], [v], None) for i, v in enumerate(values)]
    assert [job.value for job in best_jobs(tmp_path, jobs)] == [best]
