"""Formulas through `FeatureBuilder` and the config: columns, dtype, warm-up, rows, records."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.base import clone
from stockml_runs import run_stockml

from stockml.config import compose_config
from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder
from stockml.features.formulas import compile_formulas, shared_subexpressions
from stockml.lifecycle.metadata import ModelMetadata, metadata_for
from stockml.messages import InputError
from stockml.target import TargetSpec

EXPRESSIONS = {
    "mom_rank": "cs_rank(close / delay(close, 20) - 1)",
    "rsi_vs_mean": "rsi_14 - ts_mean(rsi_14, 30)",  # warm-up 13 + 29 = 42, past the preset's
    "range_z": "cs_zscore(log(high / low))",
}
# The issue's command-line override, as Hydra receives it once the shell has removed the outer
# double quotes of `stockml "+features.expressions.mom_rank='cs_rank(...)'"`.
OVERRIDE = "+features.expressions.mom_rank='cs_rank(close / delay(close, 20) - 1)'"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(4, 120, seed=3)


def test_formula_columns_follow_the_preset_in_float32(panel: pd.DataFrame) -> None:
    preset = FeatureBuilder(preset="minimal", dtype="float32")
    builder = FeatureBuilder(preset="minimal", dtype="float32", expressions=EXPRESSIONS)
    X = builder.transform(panel)
    assert list(X.columns) == preset.feature_names() + list(EXPRESSIONS)
    assert (X.dtypes == np.float32).all()
    pd.testing.assert_frame_equal(X[preset.feature_names()], preset.transform(panel))
    exact = FeatureBuilder(preset="minimal", expressions=EXPRESSIONS).transform(panel)
    np.testing.assert_array_equal(X.to_numpy(), exact.to_numpy().astype(np.float32))
    warmups = builder.feature_warmups()
    assert {name: warmups[name] for name in EXPRESSIONS} == {
        "mom_rank": 20,
        "rsi_vs_mean": 42,
        "range_z": 0,
    }
    assert builder.warmup_rows == 42
    position = panel.groupby(level="ticker").cumcount()
    assert X.loc[position < 42, "rsi_vs_mean"].isna().all()
    assert X.loc[position >= 42, "rsi_vs_mean"].notna().all()


def test_formula_values_are_the_same_when_only_some_rows_are_built(panel: pd.DataFrame) -> None:
    """transform_rows (the design matrix: date-major rows past the warm-up) picks the rows of
    the full transform; cross-sections are still taken over every ticker of the date."""
    builder = FeatureBuilder(preset="minimal", expressions=EXPRESSIONS)
    full = builder.transform(panel).to_numpy()
    dates = panel.index.get_level_values("date").to_numpy()
    position = panel.groupby(level="ticker").cumcount().to_numpy()
    rows = np.flatnonzero(position >= 50)
    rows = rows[np.lexsort((rows, dates[rows]))]  # date, then ticker
    np.testing.assert_array_equal(builder.transform_rows(panel, rows).T, full[rows])


def test_formulas_alone_need_no_preset_feature(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(families={}, expressions={"gap": "open / delay(close, 1) - 1"})
    X = builder.transform(panel)
    assert list(X.columns) == ["gap"]
    expected = panel.open / panel.groupby(level="ticker").close.shift(1) - 1
    np.testing.assert_allclose(X["gap"], expected, rtol=1e-12)


def test_sklearn_params_clone_pickle_and_omegaconf(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal", expressions=EXPRESSIONS)
    assert builder.get_params()["expressions"] == EXPRESSIONS
    expected = builder.transform(panel)
    pd.testing.assert_frame_equal(clone(builder).transform(panel), expected)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(builder)).transform(panel), expected)
    from_config = FeatureBuilder(preset="minimal", expressions=OmegaConf.create(EXPRESSIONS))
    pd.testing.assert_frame_equal(from_config.transform(panel), expected)


def test_a_logged_model_rebuilds_its_formula_columns(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal", dtype="float32", expressions=EXPRESSIONS)
    X = builder.transform(panel).dropna()
    recorded = ModelMetadata(**metadata_for(builder, X, TargetSpec()).to_dict())
    assert recorded.builder().feature_names() == builder.feature_names()
    assert recorded.warmup_rows == 42


def test_fit_refuses_a_bad_formula_before_any_work(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal", expressions={"bad": "delay(close, -1)"})
    with pytest.raises(InputError, match=r"formula 'bad' = 'delay\(close, -1\)', column 14: "):
        builder.fit(panel)


@pytest.mark.parametrize("option", ["minimal", "technical", "full"])
def test_the_issue_override_composes_for_every_feature_preset(option: str) -> None:
    cfg = compose_config([f"features={option}", OVERRIDE])
    builder: FeatureBuilder = instantiate(cfg.features, _convert_="all")
    assert builder.expressions == {"mom_rank": "cs_rank(close / delay(close, 20) - 1)"}
    assert builder.feature_names()[-1] == "mom_rank"
    assert compose_config([f"features={option}"]).features.expressions is None


def test_a_real_run_trains_on_the_formula_column(tmp_path: Path) -> None:
    result = run_stockml(tmp_path, "debug=fast", OVERRIDE)
    assert result.returncode == 0, result.stderr[-3000:]
    (features_file,) = tmp_path.glob("outputs/runs/*/*/features.json")
    names = json.loads(features_file.read_text())
    assert names[-1] == "mom_rank"


def test_a_wrong_formula_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = run_stockml(tmp_path, "debug=fast", "+features.expressions.bad='delay(clsoe, 5)'")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "stockml: error: formula 'bad' = 'delay(clsoe, 5)', column 7: unknown name 'clsoe' "
        "(did you mean 'close'?); valid names: open, high, low, close, volume, ret_lag_1, "
        "ret_lag_2, ret_lag_5, roc_20, vol_std_20, vol_park_20, vol_gk_20, sma_gap_20, "
        "ema_gap_20, rsi_14"
    )


def test_shared_subexpressions_give_the_values_of_each_formula_alone(panel: pd.DataFrame) -> None:
    shared = {
        "rsv": "(close - ts_min(low, 5)) / (ts_max(high, 5) - ts_min(low, 5))",
        "low_gap": "close / ts_min(low, 5) - 1",
        "rank_ret": "cs_rank(close / delay(close, 1))",
        "neg_ret": "-(close / delay(close, 1)) + ema(close / delay(close, 1), 3)",
    }
    assert shared_subexpressions(compile_formulas(shared, [])) == {
        "ts_min(low, 5)",
        "delay(close, 1)",
        "(close / delay(close, 1))",
    }
    together = FeatureBuilder(families={}, expressions=shared).transform(panel)
    for name, text in shared.items():
        alone = FeatureBuilder(families={}, expressions={name: text}).transform(panel)
        pd.testing.assert_series_equal(together[name], alone[name])
