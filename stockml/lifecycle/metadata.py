"""What a logged model must carry to be used without the run that trained it.

`stockml-predict` gets raw OHLCV bars and a model URI, nothing else: the feature
configuration, the column order the pipeline was fitted on and the warm-up the features need
travel inside the MLflow model (its MLmodel `metadata`), so prediction keeps working after the
run directory and the config snapshot are gone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from stockml.data.schema import format_stamp, panel_dates
from stockml.features import FeatureBuilder
from stockml.features.custom import custom_features
from stockml.lifecycle.errors import LifecycleError
from stockml.target import TargetSpec

METADATA_KEY = "stockml"


@dataclass(frozen=True)
class ModelMetadata:
    """The feature recipe and training facts of one fitted pipeline."""

    feature_builder: dict[str, Any]
    feature_names: list[str]
    warmup_rows: int
    horizon: int
    trained_until: str
    # The rest of the label it was trained on (`TargetSpec`); models logged before these
    # existed were trained on the default label, which the defaults here say.
    entry_lag: int = 0
    target_kind: str = "log_return"
    target_transform: str = "none"

    def builder(self) -> FeatureBuilder:
        return FeatureBuilder(**self.feature_builder)

    def target(self) -> TargetSpec:
        """The label this model forecasts."""
        return TargetSpec(self.horizon, self.entry_lag, self.target_kind, self.target_transform)

    def to_dict(self) -> dict[str, Any]:
        # A JSON round trip turns tuples and OmegaConf leftovers into what MLmodel YAML stores.
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_model_metadata(cls, metadata: dict[str, Any] | None, uri: str) -> ModelMetadata:
        recorded = (metadata or {}).get(METADATA_KEY)
        if not isinstance(recorded, dict):
            raise LifecycleError(
                f"model {uri} carries no stockml metadata (logged before models recorded their "
                "feature config); retrain it with stockml-retrain to get a usable model"
            )
        # Models logged before predict followed training's warm-up rule also carry
        # `history_rows` (how long recursive features took to forget their seed): not needed.
        recorded = {key: value for key, value in recorded.items() if key != "history_rows"}
        try:
            return cls(**recorded)
        except TypeError as exc:
            raise LifecycleError(f"model {uri} has unreadable stockml metadata: {exc}") from exc


def metadata_for(builder: FeatureBuilder, X_dev: Any, target: TargetSpec) -> ModelMetadata:
    """Metadata of a pipeline fitted on ``X_dev``, built by ``builder``, to forecast ``target``."""
    return ModelMetadata(
        feature_builder={
            "preset": builder.preset,
            "families": builder.families,
            "dtype": builder.dtype,  # models logged before it was recorded: float64, the default
            "expressions": builder.expressions,
            # import paths and warm-ups: prediction re-imports the user's functions
            "custom": [feature.recipe() for feature in custom_features(builder.custom)] or None,
        },
        feature_names=[str(name) for name in X_dev.columns],
        warmup_rows=int(builder.warmup_rows),
        horizon=target.horizon,
        trained_until=format_stamp(panel_dates(X_dev).max()),  # the bar, with its time if any
        entry_lag=target.entry_lag,
        target_kind=target.kind,
        target_transform=target.transform,
    )
