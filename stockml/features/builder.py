"""`FeatureBuilder`: the scikit-learn transformer that turns a panel into a feature frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from stockml.features.panel import PanelArrays
from stockml.features.presets import PRESETS
from stockml.features.registry import FAMILIES, get_family
from stockml.features.spec import Feature
from stockml.messages import InputError

DEFAULT_PRESET = "technical"


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Causal, unit-free features for every (ticker, date) row of a panel.

    ``preset`` names a feature set in `PRESETS`; ``families`` maps family name -> options and is
    merged over the preset option by option, so ``{"trend": {"windows": [10]}}`` changes only the
    trend windows. A family mapped to ``None`` is dropped from the preset. With neither argument
    the ``technical`` preset is used. Configuration is validated by `fit`, `transform`,
    `get_feature_names_out` and `warmup_rows`, never in ``__init__`` (scikit-learn's contract).

    The builder is stateless: every value at row t uses bars up to t of the same ticker only,
    so fitting learns nothing and the transform of a training fold equals that rows' transform
    of the whole panel. The first `warmup_rows` rows of each ticker may hold NaN (windows not yet
    full); callers drop them after attaching labels.
    """

    def __init__(
        self, families: Mapping[str, Mapping | None] | None = None, preset: str | None = None
    ) -> None:
        self.families = families
        self.preset = preset

    def fit(self, panel: pd.DataFrame, y: Any = None) -> FeatureBuilder:
        """Validate the configuration; nothing is learned from ``panel``."""
        self._features()
        return self

    def transform(self, panel: pd.DataFrame) -> pd.DataFrame:
        """One float64 column per feature, on exactly ``panel``'s index."""
        features = self._features()
        arrays = PanelArrays.from_panel(panel)
        # Column-major storage: each feature fills one contiguous row of `values`, and pandas
        # takes the block as is (no copy of a frame that can run to hundreds of megabytes).
        values = np.empty((len(features), arrays.n_rows))
        for row, feature in zip(values, features, strict=True):
            row[:] = feature.compute(arrays)
            row[arrays.leading_rows(feature.warmup)] = np.nan
            row[np.isinf(row)] = np.nan
        names = [feature.name for feature in features]
        return pd.DataFrame(values.T, index=panel.index, columns=names, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([feature.name for feature in self._features()], dtype=object)

    @property
    def warmup_rows(self) -> int:
        """Leading rows per ticker that can be NaN: how much history precedes the first
        complete feature row."""
        return max(self.feature_warmups().values())

    def feature_warmups(self) -> dict[str, int]:
        """Feature name -> number of leading NaN rows per ticker, for finer history checks."""
        return {feature.name: feature.warmup for feature in self._features()}

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def _features(self) -> list[Feature]:
        options = resolve_options(self.preset, self.families)
        features = [
            feature
            for name in FAMILIES
            if name in options
            for feature in FAMILIES[name].features(options[name])
        ]
        if not features:
            raise InputError(
                f"FeatureBuilder(preset={self.preset!r}, families=...) selects no features"
            )
        return features


def resolve_options(
    preset: str | None, families: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Family name -> option overrides, from the preset updated with ``families``."""
    if preset is None and families is None:
        preset = DEFAULT_PRESET
    if preset is not None and preset not in PRESETS:
        raise InputError(f"unknown feature preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    merged = {name: dict(options) for name, options in PRESETS.get(preset, {}).items()}
    if families is not None and not isinstance(families, Mapping):
        raise InputError(f"families must map family name -> options, got {families!r}")
    for name, options in _plain(families or {}).items():
        get_family(name)
        if options is None:
            merged.pop(name, None)
        elif isinstance(options, Mapping):
            merged[name] = {**merged.get(name, {}), **options}
        else:
            raise InputError(f"feature family {name!r}: options must be a mapping, got {options!r}")
    return merged


def _plain(value: Any) -> Any:
    """Plain dicts and lists from any mappings and sequences, e.g. OmegaConf containers."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value
