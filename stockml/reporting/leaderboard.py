"""A leaderboard of tracked runs, from an MLflow experiment or a sweep dir.

Model comparison is only useful when every row was produced the same way, so the board reads
the numbers MLflow recorded rather than recomputing anything, and shows each run's CV score
beside its holdout score and the naive baseline's. Runs of a sweep also show the values the
sweep gave them (one column per swept key), their Optuna trial number and their run id.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from stockml.tracking.identity import OVERRIDES_TAG, TRIAL_TAG
from stockml.validation.metrics import GREATER_IS_BETTER


def leaderboard(
    tracking_uri: str,
    experiment: str | None = None,
    sweep_dir: str | None = None,
    metric: str = "ic",
) -> pd.DataFrame:
    """One row per finished run, best first by the CV mean of `metric`."""
    from mlflow import MlflowClient

    if metric not in GREATER_IS_BETTER:
        raise ValueError(f"--metric must be one of {sorted(GREATER_IS_BETTER)}, got {metric!r}")
    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = (
        [client.get_experiment_by_name(experiment)] if experiment else client.search_experiments()
    )
    if experiment and experiments[0] is None:
        names = [e.name for e in client.search_experiments()]
        raise ValueError(f"no MLflow experiment named {experiment!r}; known: {names}")
    filter_string = "attributes.status = 'FINISHED'"  # a crashed run's CV is not a result
    if sweep_dir:
        quoted = str(Path(sweep_dir).resolve()).replace("'", "\\'")
        filter_string += f" and tags.sweep_dir = '{quoted}'"
    rows = []
    for run in _all_runs(client, [e.experiment_id for e in experiments if e is not None],
                         filter_string):  # fmt: skip
        metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
        if f"cv_{metric}_mean" not in metrics:
            continue
        seconds = (
            (run.info.end_time - run.info.start_time) / 1000 if run.info.end_time else math.nan
        )
        rows.append(
            {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "trial": tags.get(TRIAL_TAG, ""),
                **swept_values(tags),
                "model": params.get("model._target_", "").rsplit(".", 1)[-1],
                "features": params.get("features.preset", ""),
                "horizon": params.get("target.horizon", ""),
                # tuned runs' CV score is the best of many on the same folds: trust the holdout
                "tuned": tags.get("search_method", ""),
                f"cv_{metric}_mean": metrics[f"cv_{metric}_mean"],
                f"cv_{metric}_std": metrics.get(f"cv_{metric}_std", math.nan),
                f"test_{metric}": metrics.get(f"test_{metric}", math.nan),
                f"baseline_test_{metric}": metrics.get(f"baseline_test_{metric}", math.nan),
                # the zero forecast has no IC; "the last return persists" does
                f"last_return_test_{metric}": metrics.get(
                    f"baseline_last_return_test_{metric}", math.nan
                ),
                "seconds": seconds,
                "sweep_dir": tags.get("sweep_dir", ""),
            }
        )
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    if not (board["trial"] != "").any():
        board = board.drop(columns="trial")  # no Optuna trial among them
    return board.sort_values(
        f"cv_{metric}_mean", ascending=not GREATER_IS_BETTER[metric], ignore_index=True
    )


def swept_values(tags: dict[str, str]) -> dict[str, str]:
    """The overrides a sweep gave this run (`model.alpha`, `model`...), one column each."""
    recorded = tags.get(OVERRIDES_TAG)
    return dict(json.loads(recorded)) if recorded else {}


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pandas' own needs the optional `tabulate`)."""
    cells = frame.map(lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _all_runs(client: Any, experiment_ids: list[str], filter_string: str) -> Iterator[Any]:
    """Every matching run, page by page (one search returns at most a few thousand)."""
    token = None
    while True:
        page = client.search_runs(
            experiment_ids, filter_string=filter_string, max_results=1000, page_token=token
        )
        yield from page
        token = page.token
        if not token:
            return
