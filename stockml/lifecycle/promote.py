"""Promotion: `champion` moves to the challenger only when it wins on the same recent rows.

Both versions forecast the same (date, ticker) rows, built from the data the challenger's run
config describes, and the configured metric decides. The decision and both scores are written
to the challenger version's tags, so the registry itself says why an alias moved or did not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from stockml.data.schema import panel_dates
from stockml.dataset import ModellingData, build_modelling_data
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.registry import CHALLENGER, CHAMPION, client, version_by_alias
from stockml.lifecycle.scoring import in_sample_notes, load_scoring_model, score_models
from stockml.lifecycle.snapshot import compose_snapshot, load_snapshot
from stockml.validation.metrics import GREATER_IS_BETTER

DEFAULT_METRIC = "ic"


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    metric: str
    scores: dict[str, float]


def beats(challenger: float, champion: float, metric: str) -> bool:
    """Strictly better by ``metric``; an undefined score (NaN) never wins, and loses to any."""
    if math.isnan(challenger):
        return False
    if math.isnan(champion):
        return True
    return challenger > champion if GREATER_IS_BETTER[metric] else challenger < champion


def recent_rows(data: ModellingData, rows: int | None, since: str | None) -> pd.Index:
    """The slice both versions are scored on: the challenger run's holdout by default, or the
    last ``rows`` dates with a realised label, or every labelled date from ``since``."""
    if since is not None:
        dates = panel_dates(data.panel)
        return data.panel.index[dates >= pd.Timestamp(since)]
    if rows is not None:
        labelled = data.target.labels(data.panel).dropna().index
        recent = panel_dates(pd.DataFrame(index=labelled)).unique().sort_values()[-rows:]
        return labelled[panel_dates(pd.DataFrame(index=labelled)).isin(recent)]
    return data.X_holdout.index


def promote(
    model_name: str,
    tracking_uri: str,
    metric: str | None = None,
    rows: int | None = None,
    since: str | None = None,
    allow_in_sample: bool = False,
) -> Decision:
    """Decide, record on the challenger version, and move `champion` when it wins."""
    mlflow_client = client(tracking_uri)
    challenger = version_by_alias(mlflow_client, model_name, CHALLENGER)
    if challenger is None:
        raise LifecycleError(f"model {model_name!r} has no version with alias {CHALLENGER!r}")
    champion = version_by_alias(mlflow_client, model_name, CHAMPION)
    cfg = compose_snapshot(load_snapshot(challenger.run_id, tracking_uri))
    metric = metric or str(OmegaConf.select(cfg, "registry.promotion_metric") or DEFAULT_METRIC)
    if metric not in GREATER_IS_BETTER:
        raise LifecycleError(
            f"unknown metric {metric!r}; choose one of {', '.join(GREATER_IS_BETTER)}"
        )

    if champion is None:
        decision = Decision(
            True, f"no {CHAMPION} yet; v{challenger.version} becomes it", metric, {}
        )
    elif champion.version == challenger.version:
        # Nothing was decided: the tags keep the record of how it became champion.
        return Decision(False, f"v{challenger.version} is already {CHAMPION}", metric, {})
    else:
        decision = _compare(
            model_name,
            (challenger.version, champion.version),
            cfg,
            metric,
            tracking_uri,
            (rows, since),
            allow_in_sample,
        )

    tags = {
        "promotion_decision": "promoted" if decision.promoted else "kept_champion",
        "promotion_reason": decision.reason,
        "promotion_metric": metric,
        **{f"promotion_{name}_score": repr(value) for name, value in decision.scores.items()},
    }
    for key, value in tags.items():
        mlflow_client.set_model_version_tag(model_name, challenger.version, key, value)
    if decision.promoted:
        mlflow_client.set_registered_model_alias(model_name, CHAMPION, challenger.version)
    return decision


def _compare(
    model_name: str,
    versions: tuple[str, str],
    cfg: DictConfig,
    metric: str,
    tracking_uri: str,
    window: tuple[int | None, str | None],
    allow_in_sample: bool,
) -> Decision:
    challenger, champion = versions
    rows, since = window
    data = build_modelling_data(cfg)
    models = {
        "challenger": load_scoring_model(f"models:/{model_name}/{challenger}", tracking_uri),
        "champion": load_scoring_model(f"models:/{model_name}/{champion}", tracking_uri),
    }
    comparison = score_models(
        models, data.panel, data.target, recent_rows(data, rows, since), allow_in_sample
    )
    scores = {name: values[metric] for name, values in comparison.metrics.items()}
    promoted = beats(scores["challenger"], scores["champion"], metric)
    verdict = "better" if promoted else "not better"
    reason = (
        f"challenger v{challenger} {metric}={scores['challenger']:.6g} vs champion v{champion} "
        f"{metric}={scores['champion']:.6g} on {len(comparison.rows)} rows "
        f"{comparison.period}: {verdict}"
    )
    notes = in_sample_notes(models, comparison)
    if notes:
        reason += f"; note: {'; '.join(notes)}"
    return Decision(promoted, reason, metric, scores)
