"""FeatureBuilder's configuration, sklearn contract and output shape."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.base import clone

from stockml.data import DataValidationError, synthetic_panel
from stockml.features import FAMILIES, PRESETS, FeatureBuilder


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(3, 260, seed=2)


@pytest.mark.parametrize(("preset", "low", "high"), [("minimal", 8, 12), ("technical", 25, 35)])
def test_preset_sizes(preset: str, low: int, high: int) -> None:
    assert low <= len(FeatureBuilder(preset=preset).get_feature_names_out()) <= high


def test_full_preset_spans_every_family() -> None:
    assert len(FeatureBuilder(preset="full").get_feature_names_out()) >= 60
    assert set(PRESETS["full"]) == set(FAMILIES)


def test_no_arguments_means_the_technical_preset() -> None:
    names = FeatureBuilder().get_feature_names_out()
    assert list(names) == list(FeatureBuilder(preset="technical").get_feature_names_out())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_output_has_the_dtype_on_the_input_index_without_inf(
    panel: pd.DataFrame, dtype: str
) -> None:
    panel = panel.copy()
    flat_bar = panel.index[150]
    panel.loc[flat_bar, ["open", "high", "low", "close"]] = panel.loc[flat_bar, "close"]
    panel.loc[flat_bar, "volume"] = 0.0
    builder = FeatureBuilder(preset="full", dtype=dtype)
    features = builder.fit(panel).transform(panel)
    assert features.index.equals(panel.index)
    assert list(features.columns) == list(builder.get_feature_names_out())
    assert (features.dtypes == np.dtype(dtype)).all()
    assert not np.isinf(features.to_numpy()).any()
    assert features.columns.is_unique


def test_families_override_the_preset_option_by_option() -> None:
    builder = FeatureBuilder(preset="minimal", families={"trend": {"windows": [10]}})
    names = set(builder.get_feature_names_out())
    assert {"sma_gap_10", "ema_gap_10"} <= names
    assert "sma_gap_20" not in names and "macd_12_26" not in names  # preset's macd: false kept


def test_families_alone_and_dropping_a_family() -> None:
    only = FeatureBuilder(families={"candles": {}}).get_feature_names_out()
    assert [name.split("_")[0] for name in only] == ["candle"] * 5
    dropped = FeatureBuilder(preset="technical", families={"candles": None})
    assert not any(name.startswith("candle") for name in dropped.get_feature_names_out())


def test_omegaconf_containers_are_accepted() -> None:
    families = {"returns": {"lags": [1, 3], "windows": []}, "volume": {"windows": [10]}}
    from_dict = FeatureBuilder(families=families).get_feature_names_out()
    from_cfg = FeatureBuilder(families=OmegaConf.create(families)).get_feature_names_out()
    assert list(from_cfg) == list(from_dict)
    assert list(from_dict[:2]) == ["ret_lag_1", "ret_lag_3"]


@pytest.mark.parametrize(
    ("families", "preset", "message"),
    [
        ({"momentum": {}}, None, r"unknown feature family 'momentum'; valid families: returns, "),
        ({"trend": {"windows": [0, 20]}}, None, r"'trend'.*'windows'.*integers >= 1.*\[0\]"),
        ({"trend": {"windows": [2.5]}}, None, r"'trend'.*'windows'"),
        ({"trend": {"windows": [True]}}, None, r"'trend'.*'windows'"),
        ({"trend": {"windows": "20"}}, None, r"'trend'.*'windows'.*list of integers"),
        ({"trend": {"windows": [20, 20]}}, None, r"'trend'.*duplicate"),
        ({"statistics": {"windows": [3]}}, None, r"'statistics'.*integers >= 4"),
        ({"trend": {"window": [5]}}, None, r"'trend': unknown option.*valid options: macd, "),
        ({"trend": {"macd_fast": 30}}, None, r"macd_fast \(30\) must be below macd_slow"),
        ({"trend": [5]}, None, r"'trend': options must be a mapping"),
        (None, "huge", r"unknown feature preset 'huge'; valid presets: minimal, technical, full"),
        ({"candles": None}, "minimal_plus", r"unknown feature preset"),
    ],
)
def test_bad_configuration_raises_a_clear_error(
    families: dict | None, preset: str | None, message: str
) -> None:
    builder = FeatureBuilder(families=families, preset=preset)  # __init__ never validates
    with pytest.raises(ValueError, match=message):
        builder.fit(None)


def test_selecting_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="selects no features"):
        FeatureBuilder(families={"returns": {"lags": [], "windows": []}}).get_feature_names_out()


def test_sklearn_params_clone_and_pickle(panel: pd.DataFrame) -> None:
    families = {"returns": {"lags": [1, 2]}}
    builder = FeatureBuilder(families=families, preset="minimal")
    assert builder.get_params() == {
        "families": families,
        "preset": "minimal",
        "dtype": "float64",
        "expressions": None,
        "custom": None,
        "audit": True,
    }
    cloned = clone(builder)
    assert cloned.get_params() == builder.get_params() and cloned is not builder
    cloned.set_params(preset="full")
    assert builder.preset == "minimal"
    restored = pickle.loads(pickle.dumps(builder))
    pd.testing.assert_frame_equal(restored.transform(panel), builder.fit_transform(panel))


def test_float32_is_the_float64_computation_rounded_once(panel: pd.DataFrame) -> None:
    """The runs' dtype changes storage only: every value is the float64 one, rounded."""
    exact = FeatureBuilder(preset="full").transform(panel)
    rounded = FeatureBuilder(preset="full", dtype="float32").transform(panel)
    assert (rounded.dtypes == np.float32).all()
    np.testing.assert_array_equal(rounded.to_numpy(), exact.to_numpy().astype(np.float32))


@pytest.mark.parametrize("threads", [1, 3])
def test_transform_rows_picks_rows_of_the_full_transform_in_any_order(
    panel: pd.DataFrame, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of whole tickers (forced small here), the threads that compute them and any
    row order change no value."""
    builder = FeatureBuilder(preset="full", dtype="float64")
    rows = np.random.default_rng(0).permutation(len(panel))[: len(panel) // 2]
    expected = builder.transform(panel).to_numpy()[rows]  # one block: the panel is small
    monkeypatch.setattr("stockml.features.builder.BLOCK_ROWS", 300)  # three: one per ticker
    monkeypatch.setattr("stockml.features.builder.job_cores", lambda: threads)
    np.testing.assert_array_equal(builder.transform_rows(panel, rows).T, expected)


def test_unknown_dtype_is_refused(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="dtype must be one of float32, float64, got 'int8'"):
        FeatureBuilder(dtype="int8").fit(panel)


def test_a_plain_date_indexed_frame_is_one_ticker(panel: pd.DataFrame) -> None:
    one = panel.xs("SYN0001", level="ticker", drop_level=False)
    plain = one.droplevel("ticker")
    builder = FeatureBuilder(preset="technical")
    expected = builder.transform(one)
    np.testing.assert_array_equal(builder.transform(plain).to_numpy(), expected.to_numpy())


def test_unsorted_or_incomplete_panels_are_rejected(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal")
    with pytest.raises(DataValidationError, match="dates must increase"):
        builder.transform(panel.iloc[::-1])
    interleaved = panel.sort_index(level="date")
    with pytest.raises(DataValidationError, match="sorted by ticker"):
        builder.transform(interleaved)
    with pytest.raises(DataValidationError, match="volume"):
        builder.transform(panel.drop(columns="volume"))


def test_a_panel_shorter_than_the_longest_window_is_transformed() -> None:
    """30 bars against the `full` preset's 200-bar windows: a new listing or a prediction on a
    few recent bars gets NaN where no window is full yet, and values where one is, not an
    error (it once failed inside the window kernels)."""
    builder = FeatureBuilder(preset="full")
    panel = synthetic_panel(1, 300, seed=0)
    features = builder.transform(panel.iloc[:30])
    warmups = builder.feature_warmups()
    last = features.iloc[-1]
    assert last[[name for name, rows in warmups.items() if rows < 30]].notna().all()
    assert last[[name for name, rows in warmups.items() if rows >= 30]].isna().all()
    whole = builder.transform(panel).iloc[:30]
    np.testing.assert_allclose(features.to_numpy(), whole.to_numpy(), rtol=1e-12, equal_nan=True)
