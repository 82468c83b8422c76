"""MLflow run names and the sweep link (issue 9, item 9): pure functions, no MLflow."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import optuna
import pytest

from stockml.tracking.identity import (
    OVERRIDES_TAG,
    PARENT_RUN_TAG,
    STUDY_ENV,
    STUDY_TAG,
    TRIAL_ENV,
    TRIAL_TAG,
    SweepLink,
    short_value,
    single_run_identity,
    trial_identity,
)
from stockml.tracking.study_plots import write_study_plots

NOW = datetime(2026, 11, 27, 18, 10, 34)
LINK = SweepLink(
    parent_run_id="p" * 32,
    experiment_id="3",
    tracking_uri="sqlite:///x.db",
    base_overrides=["hparams_search=ridge_optuna", "features=full", "model=ridge,lasso"],
)


def test_a_single_run_is_named_after_its_model_overrides_and_time() -> None:
    identity = single_run_identity(
        "ridge",
        "stockml.models.Ridge",
        ["features=full", "model.alpha=0.31234567", "tracking.uri=sqlite:///a.db"],
        NOW,
    )
    assert identity.name == "ridge features=full model.alpha=0.3123 2026-11-27 18:10:34"
    assert identity.parent_run_id is None and PARENT_RUN_TAG not in identity.run_tags()


def test_an_overridden_estimator_names_the_run_by_its_class() -> None:
    identity = single_run_identity(
        "linear", "sklearn.svm.SVR", ["model._target_=sklearn.svm.SVR", "+model.C=0.5"], NOW
    )
    assert identity.name == "svr model.C=0.5 2026-11-27 18:10:34"


def test_a_plain_multirun_job_is_named_after_its_number_and_swept_values() -> None:
    identity = trial_identity(3, ["model=lasso", "features=full"], LINK, env={})
    assert identity.name == "j03 model=lasso"
    assert identity.run_tags()[PARENT_RUN_TAG] == LINK.parent_run_id
    assert json.loads(identity.tags[OVERRIDES_TAG]) == {"model": "lasso"}
    assert TRIAL_TAG not in identity.tags


def test_an_optuna_trial_is_named_after_its_trial_number_and_tagged_with_its_study() -> None:
    env = {TRIAL_ENV: "7", STUDY_ENV: "ridge_optuna"}
    overrides = ["model.alpha=0.312345", "hparams_search=ridge_optuna", "features=full"]
    identity = trial_identity(1, overrides, LINK, env)
    assert identity.name == "t07 model.alpha=0.3123"
    assert identity.tags[TRIAL_TAG] == "7"
    assert identity.tags[STUDY_TAG] == "ridge_optuna"
    assert identity.experiment_id == "3"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("0.31234567", "0.3123"), ("12", "12"), ("1e-05", "1e-05"), ("lasso", "lasso")],
)
def test_names_shorten_floats_only(typed: str, shown: str) -> None:
    assert short_value(typed) == shown


def test_the_link_round_trips_through_the_sweep_dir(tmp_path: Path) -> None:
    assert SweepLink.read(tmp_path) is None
    LINK.write(tmp_path)
    assert SweepLink.read(tmp_path) == LINK


def test_study_plots_degrade_to_one_warning_without_importances(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("alpha", 0.1, 1.0), n_trials=1)
    with caplog.at_level(logging.WARNING):
        written = write_study_plots(study, tmp_path, ["cv_ic_mean"])
    assert {p.name for p in written} == {"optimization_history.png", "parallel_coordinate.png"}
    warnings = [r.getMessage() for r in caplog.records if "importance" in r.getMessage()]
    assert len(warnings) == 1 and "at least 2 completed trials" in warnings[0]
    assert all(p.stat().st_size > 1000 for p in written)


def test_study_plots_of_two_objectives_include_the_pareto_front(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.optimize(lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1)), n_trials=4)
    written = {p.name for p in write_study_plots(study, tmp_path, ["cv_ic_mean", "cv_mse_mean"])}
    assert "pareto_front.png" in written
    assert {"param_importances_cv_ic_mean.png", "optimization_history_cv_mse_mean.png"} <= written


def test_a_plot_that_cannot_be_drawn_is_one_warning_not_a_failed_sweep(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """fANOVA raises on objectives that never varied (two trials, same value)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.optimize(lambda t: (t.suggest_float("a", 0, 1) * 0, 1.0), n_trials=2)
    with caplog.at_level(logging.WARNING):
        written = {p.name for p in write_study_plots(study, tmp_path, ["ic", "mse"])}
    assert "optimization_history_ic.png" in written
    assert "param_importances_ic.png" not in written
    assert any("no param_importances_ic plot" in r.getMessage() for r in caplog.records)
