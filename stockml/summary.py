"""The short table a run prints: CV mean ± std, holdout, and the naive baselines beside it."""

from __future__ import annotations

import math

from stockml.experiment import ExperimentResult

SUMMARY_METRICS: tuple[str, ...] = (
    "mse",
    "mae",
    "r2",
    "directional_accuracy",
    "ic",
    "rank_ic",
    "icir",
)


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.3e}" if 0 < abs(value) < 1e-3 else f"{value:.4f}"


def summary_table(result: ExperimentResult) -> str:
    cv = result.cv.summary()
    baselines = list(result.baselines)
    header = ["metric", "cv mean ± std", "holdout", *(f"base:{b}" for b in baselines)]
    rows = [header]
    for name in SUMMARY_METRICS:
        rows.append(
            [
                name,
                f"{_fmt(cv[name]['mean'])} ± {_fmt(cv[name]['std'])}",
                _fmt(result.holdout.get(name, math.nan)),
                *(_fmt(result.baselines[b].get(name, math.nan)) for b in baselines),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if result.search is not None:
        search = result.search
        lines.append(
            f"{search.method} search: {search.n_candidates} candidates, best CV {search.metric} "
            f"{_fmt(search.best_score)} at {search.best_params}"
        )
        lines.append(
            "  (the CV column is the selected candidate on the folds it was selected on, so it "
            "is optimistic; the holdout is the honest estimate)"
        )
    return "\n".join(lines)
