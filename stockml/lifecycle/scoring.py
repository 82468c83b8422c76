"""Load a logged model with its feature recipe, and score models on the very same rows.

Retraining and promotion compare two models; the comparison is only fair when both forecast
the same (date, ticker) rows against the same labels, each from features built by its own
recorded recipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from stockml.data.schema import format_stamp, panel_dates
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.metadata import ModelMetadata
from stockml.lifecycle.registry import client, logged_model_hint
from stockml.messages import first_line
from stockml.target import TargetSpec
from stockml.validation import regression_metrics


@dataclass(frozen=True)
class ScoringModel:
    uri: str
    pipeline: Pipeline
    metadata: ModelMetadata

    def features(self, panel: pd.DataFrame) -> pd.DataFrame:
        """This model's input columns for every panel row whose features are complete."""
        built = self.metadata.builder().transform(panel)
        missing = [name for name in self.metadata.feature_names if name not in built.columns]
        if missing:
            raise LifecycleError(f"model {self.uri}: its feature recipe no longer builds {missing}")
        return built[self.metadata.feature_names].dropna()

    def predict(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(self.pipeline.predict(X), index=X.index, name="prediction")


def load_scoring_model(uri: str, tracking_uri: str) -> ScoringModel:
    """The fitted pipeline behind any model URI MLflow resolves, with its stockml metadata."""
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow_client = client(tracking_uri)
    try:
        info = mlflow.models.get_model_info(uri)
        metadata = ModelMetadata.from_model_metadata(info.metadata, uri)
        pipeline = mlflow.sklearn.load_model(uri)
    except (MlflowException, OSError) as exc:
        raise LifecycleError(
            f"cannot load model {uri} from {tracking_uri}: {first_line(exc)}"
            + logged_model_hint(mlflow_client, uri)
        ) from exc
    return ScoringModel(uri=uri, pipeline=pipeline, metadata=metadata)


@dataclass(frozen=True)
class Comparison:
    """Each model's metrics on the shared rows, and which rows those were."""

    metrics: dict[str, dict[str, float]]
    rows: pd.MultiIndex

    @property
    def period(self) -> str:
        dates = panel_dates(pd.DataFrame(index=self.rows))
        return f"{format_stamp(dates.min())}..{format_stamp(dates.max())}"


def first_unseen_date(
    panel: pd.DataFrame, trained_until: str, label_span: int
) -> pd.Timestamp | None:
    """The first date whose label shares no return with any label the model trained on.

    A model fitted on rows up to T learned labels reaching T + label_span dates (entry lag +
    horizon); a row dated d has a label within (d, d + label_span], which overlaps those
    unless d >= T + label_span.
    """
    calendar = panel_dates(panel).unique().sort_values()
    last_trained = calendar.searchsorted(pd.Timestamp(trained_until), side="right") - 1
    first = last_trained + label_span
    return calendar[first] if first < len(calendar) else None


def score_models(
    models: Mapping[str, ScoringModel],
    panel: pd.DataFrame,
    target: TargetSpec,
    rows: pd.Index | None = None,
    allow_in_sample: bool = False,
) -> Comparison:
    """Score every model on the rows (of ``rows``, when given) that all of them can forecast,
    that have a realised ``target`` label, and (unless ``allow_in_sample``) that no model
    trained on, labels included: a model scored on its own training period flatters itself."""
    for name, model in models.items():
        if model.metadata.target() != target:
            raise LifecycleError(
                f"{name} model forecasts {model.metadata.target().describe()} but the "
                f"comparison scores {target.describe()}; compare models of the same target"
            )
    label = target.labels(panel).dropna()
    inputs = {name: model.features(panel) for name, model in models.items()}
    shared = label.index
    for X in inputs.values():
        shared = shared.intersection(X.index)
    if rows is not None:
        shared = shared.intersection(rows)
    if not allow_in_sample:
        for name, model in models.items():
            first = first_unseen_date(panel, model.metadata.trained_until, target.label_span)
            if first is None:
                shared = shared[:0]
            else:
                shared = shared[panel_dates(pd.DataFrame(index=shared)) >= first]
            if shared.empty:
                raise LifecycleError(
                    f"no row to compare on that the {name} model did not train on (it trained "
                    f"up to {model.metadata.trained_until}); score a later period, or allow "
                    "in-sample rows (--allow-in-sample)"
                )
    if shared.empty:
        raise LifecycleError("the models share no rows with features and labels to score on")
    shared = shared.sort_values()
    y_true = label.loc[shared].to_numpy()
    dates = panel_dates(pd.DataFrame(index=shared))
    metrics = {
        name: regression_metrics(
            y_true, np.asarray(model.predict(inputs[name].loc[shared])), dates=dates
        )
        for name, model in models.items()
    }
    return Comparison(metrics=metrics, rows=shared)


def in_sample_notes(models: Mapping[str, ScoringModel], comparison: Comparison) -> list[str]:
    """Which models were fitted on rows up to or past the first compared date: their scores
    there are in-sample and flatter them."""
    first = panel_dates(pd.DataFrame(index=comparison.rows)).min()
    return [
        f"{name} trained on rows up to {model.metadata.trained_until} (in-sample overlap)"
        for name, model in models.items()
        if pd.Timestamp(model.metadata.trained_until) >= first
    ]
