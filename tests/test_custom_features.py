"""Python features (`features.custom`): the user's functions of the panel become columns after
the preset's, in every form a config or Python may name them, with one-line refusals."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import user_features
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from stockml.data import synthetic_panel
from stockml.features import CustomFeature, FeatureBuilder
from stockml.lifecycle.metadata import ModelMetadata, metadata_for
from stockml.messages import InputError
from stockml.target import TargetSpec, forward_log_return, make_dataset

PRESET = "minimal"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(3, 300, seed=11)


def reference_gap(panel: pd.DataFrame) -> np.ndarray:
    """open[t] / close[t-1] - 1 ticker by ticker, NaN on each ticker's first bar."""
    pieces = []
    for _, rows in panel.groupby(level="ticker", sort=False):
        gap = np.full(len(rows), np.nan)
        gap[1:] = rows["open"].to_numpy()[1:] / rows["close"].to_numpy()[:-1] - 1
        pieces.append(gap)
    return np.concatenate(pieces)


def test_a_custom_column_follows_the_preset_with_its_values_and_dtype(
    panel: pd.DataFrame,
) -> None:
    preset = FeatureBuilder(preset=PRESET, dtype="float32").fit_transform(panel)
    builder = FeatureBuilder(preset=PRESET, dtype="float32", custom=["user_features.overnight_gap"])
    features = builder.fit_transform(panel)
    assert list(features.columns) == [*preset.columns, "overnight_gap"]
    assert features.index.equals(panel.index)
    assert (features.dtypes == np.float32).all()
    pd.testing.assert_frame_equal(features[preset.columns], preset)
    expected = reference_gap(panel).astype(np.float32)
    np.testing.assert_array_equal(features["overnight_gap"].to_numpy(), expected)
    assert builder.feature_warmups()["overnight_gap"] == 1  # the function's `warmup` attribute
    assert builder.user_feature_names() == ["overnight_gap"]


@pytest.mark.parametrize(
    "item",
    [
        "user_features.overnight_gap",
        {"function": "user_features.overnight_gap", "warmup": 1},
        user_features.overnight_gap,
        CustomFeature("user_features.overnight_gap"),
    ],
    ids=["path", "mapping", "function", "CustomFeature"],
)
def test_every_form_of_naming_a_feature_builds_the_same_column(
    panel: pd.DataFrame, item: object
) -> None:
    features = FeatureBuilder(preset=PRESET, custom=[item]).fit_transform(panel)
    np.testing.assert_array_equal(features["overnight_gap"].to_numpy(), reference_gap(panel))


def test_hydra_builds_the_wrapper_config_and_the_declared_warmup_masks_rows(
    panel: pd.DataFrame,
) -> None:
    config = OmegaConf.create(
        {
            "_target_": "stockml.features.FeatureBuilder",
            "preset": PRESET,
            "custom": [
                {
                    "_target_": "stockml.features.CustomFeature",
                    "function": "user_features.gap_and_range",
                    "warmup": 3,
                },
                "user_features.volume_rank",
            ],
        }
    )
    builder = instantiate(config, _convert_="all")
    features = builder.fit_transform(panel)
    assert builder.user_feature_names() == ["gap", "range", "volume_rank"]
    first_rows = features.groupby(level="ticker").head(3)
    assert first_rows[["gap", "range"]].isna().all().all()  # masked by the declared warm-up
    later = features.groupby(level="ticker").nth(3)
    assert later[["gap", "range", "volume_rank"]].notna().all().all()
    warmups = builder.feature_warmups()
    assert (warmups["gap"], warmups["range"], warmups["volume_rank"]) == (3, 3, 0)
    assert builder.warmup_rows == FeatureBuilder(preset=PRESET).warmup_rows  # 3 is below it


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("user_features.wrong_index", r"wrong_index: returned \d+ rows on another index"),
        ("user_features.text_column", r"column 'direction' is (object|str), not numeric"),
        ("user_features.clashing_name", r"clashing_name: column 'ret_lag_1' clashes"),
        ("user_features.not_a_frame", r"not_a_frame: returned list; expected a DataFrame"),
        ("user_features.failing", r"user_features.failing failed: KeyError: 'vwap'"),
        ("user_features.absent", r"module 'user_features' has no function 'absent'"),
        ("no_such_module.feature", r"cannot import 'no_such_module'.*launch directory"),
        ("feature", r"'feature': expected an import path module.function"),
        (lambda panel: panel["close"], r"<lambda>: a lambda or nested function has no import path"),
        ({"function": "user_features.overnight_gap", "warmup": -1}, r"warmup must be an int"),
        ({"fn": "user_features.overnight_gap"}, r"each item is an import path"),
    ],
)
def test_a_broken_custom_feature_is_refused_in_one_line_naming_it(
    panel: pd.DataFrame, item: object, message: str
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        FeatureBuilder(preset=PRESET, custom=[item], audit=False).fit_transform(panel)
    assert len(str(caught.value).splitlines()) == 1


def test_two_custom_features_may_not_share_a_column_name(panel: pd.DataFrame) -> None:
    custom = ["user_features.overnight_gap", "user_features.overnight_gap"]
    with pytest.raises(InputError, match="column 'overnight_gap' clashes"):
        FeatureBuilder(preset=PRESET, custom=custom).fit_transform(panel)


def test_names_are_unknown_before_the_features_ran() -> None:
    builder = FeatureBuilder(preset=PRESET, custom=["user_features.overnight_gap"])
    with pytest.raises(InputError, match="call fit or transform first"):
        builder.get_feature_names_out()


def test_a_pipeline_with_a_custom_feature_pickles_and_its_recipe_rebuilds_it(
    panel: pd.DataFrame,
) -> None:
    """What a saved model needs: the fitted pipeline pickles (the function goes by reference)
    and the recipe MLflow records as JSON rebuilds the same columns."""
    builder = FeatureBuilder(preset=PRESET, custom=[user_features.overnight_gap])
    label = forward_log_return(panel, 5).fillna(0.0)
    pipeline = make_pipeline(builder, SimpleImputer(), Ridge()).fit(panel, label)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict(panel), pipeline.predict(panel))
    X, _ = make_dataset(builder.transform(panel), forward_log_return(panel, 5))
    recorded = metadata_for(builder, X, TargetSpec(5)).to_dict()
    assert recorded["feature_builder"]["custom"] == [
        {"function": "user_features.overnight_gap", "warmup": None}
    ]
    rebuilt = ModelMetadata(**recorded).builder().transform(panel)
    pd.testing.assert_frame_equal(rebuilt, builder.transform(panel))
