"""No holdout date reaches a sweep's objective, rolling runs included (issue 9, item 8).

The proof is a perturbation: scramble every price from the holdout start on and the value a
sweep would select on must not move, while the holdout scores (which it must not see) do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stockml_runs import FAST, run_stockml

from stockml.config import ConfigError, compose_config
from stockml.config_checks import check_config
from stockml.data import load_sample
from stockml.experiment import run_experiment
from stockml.lifecycle.rolling_run import run_rolling

PERTURBED_DATA = f"data._target_={__name__}.perturbed_sample"
SLICE = [
    "data.tickers=[AAPL,MSFT,IBM]",
    "data.start=2009-01-01",
    "data.end=2012-06-30",
    "features=minimal",
    "tracking.enabled=false",
    "store.enabled=false",
]
ROLLING = ["experiment=rolling_retrain", "rolling.step=40", "rolling.start=2010-06-01"]


def perturbed_sample(perturb_from: str | None = None, **kwargs: object) -> pd.DataFrame:
    """The bundled sample with every bar from `perturb_from` on scaled by a random factor."""
    panel = load_sample(**kwargs)
    if perturb_from is None:
        return panel
    dates = panel.index.get_level_values("date")
    later = dates >= pd.Timestamp(perturb_from)
    factor = np.random.default_rng(7).uniform(0.8, 1.25, size=int(later.sum()))
    for column in ("open", "high", "low", "close"):
        panel.loc[later, column] = panel.loc[later, column].to_numpy() * factor
    return panel


def _compose(*overrides: str) -> object:
    return compose_config([*SLICE, PERTURBED_DATA, "+data.perturb_from=null", *overrides])


@pytest.mark.parametrize(
    "holdout",
    [["holdout.fraction=0.25"], ["holdout.start=2011-09-01"]],
    ids=["holdout-fraction", "holdout-start"],
)
def test_rolling_objective_ignores_every_price_from_the_holdout_on(
    tmp_path: Path, holdout: list[str]
) -> None:
    cfg = _compose(*ROLLING, *holdout)
    clean = run_rolling(cfg, tmp_path / "clean", in_sweep=True)
    holdout_start = pd.read_json(tmp_path / "clean" / "metrics.json", typ="series")["holdout_start"]
    cfg = _compose(*ROLLING, *holdout, f"data.perturb_from={holdout_start}")
    perturbed = run_rolling(cfg, tmp_path / "perturbed", in_sweep=True)

    assert np.isfinite(clean)
    assert perturbed == clean  # bit for bit: nothing from the holdout reached the objective
    clean_doc = pd.read_json(tmp_path / "clean" / "metrics.json", typ="series")
    perturbed_doc = pd.read_json(tmp_path / "perturbed" / "metrics.json", typ="series")
    assert perturbed_doc["holdout"]["ic"] != clean_doc["holdout"]["ic"]  # the holdout did move
    assert perturbed_doc["validation"] == clean_doc["validation"]
    # What a rolling run used to return, the IC stitched over every window, moves with it.
    assert perturbed_doc["rolling"]["ic"] != clean_doc["rolling"]["ic"]


def test_plain_run_objective_ignores_the_holdout_too() -> None:
    """The same property for an ordinary run, so the rule holds for every sweep objective."""
    cfg = _compose(*FAST, "holdout.start=2011-09-01")
    clean = run_experiment(cfg)
    cfg = _compose(*FAST, "holdout.start=2011-09-01", "data.perturb_from=2011-09-01")
    perturbed = run_experiment(cfg)
    assert perturbed.objective("cv_ic_mean") == clean.objective("cv_ic_mean")
    assert perturbed.holdout["ic"] != clean.holdout["ic"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["rolling.start=null"], "rolling.start=null starts at the holdout"),
        (
            ["rolling.start=2011-10-01", "holdout.start=2011-09-01"],
            "rolling.start=2011-10-01 is not before holdout.start=2011-09-01",
        ),
    ],
)
def test_a_sweep_refuses_rolling_runs_with_nothing_before_the_holdout(
    overrides: list[str], message: str
) -> None:
    cfg = _compose(*ROLLING, *overrides)
    check_config(cfg)  # a single run may score the holdout period only
    with pytest.raises(ConfigError, match=message):
        check_config(cfg, in_sweep=True)


def test_a_rolling_start_inside_a_fractional_holdout_is_refused_in_a_sweep(
    tmp_path: Path,
) -> None:
    cfg = _compose(*ROLLING, "rolling.start=2012-03-01", "holdout.fraction=0.25")
    with pytest.raises(ConfigError, match="scores nothing before the holdout"):
        run_rolling(cfg, tmp_path, in_sweep=True)
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.slow
def test_rolling_multirun_refuses_a_default_start_in_one_line(tmp_path: Path) -> None:
    completed = run_stockml(tmp_path, "-m", *SLICE, "experiment=rolling_retrain", "seed=1,2")
    assert completed.returncode == 1
    assert "stockml: error: a sweep over rolling runs selects on" in completed.stderr
    assert not list(tmp_path.glob("outputs/multiruns/*/*/*/rolling_predictions.csv"))


@pytest.mark.slow
def test_an_optuna_sweep_of_rolling_runs_is_refused_before_any_trial(tmp_path: Path) -> None:
    """The lightning-template combination `experiment=rolling_retrain hparams_search=...`
    with the default rolling.start: one line from the sweeper, and no trial was launched."""
    completed = run_stockml(
        tmp_path, *SLICE, "experiment=rolling_retrain", "hparams_search=ridge_optuna",
        "hydra.sweeper.n_trials=2",
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    errors = [line for line in completed.stderr.splitlines() if "stockml: error" in line]
    assert len(errors) == 1 and "rolling.start=null" in errors[0], completed.stderr
    assert not list(tmp_path.glob("outputs/multiruns/*/*/*/.hydra"))
