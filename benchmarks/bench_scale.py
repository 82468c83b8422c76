"""Universe scale on one machine: whole `stockml` runs on large synthetic panels.

    python benchmarks/bench_scale.py [--huge] [--boosters] [--days 5000]
        [--rows 1000000 5000000] [--models ridge hist_gradient_boosting]

Each run is a separate `python -m stockml` process (interpreter start to exit, as a user
waits for it) with `data=synthetic features=full`, no MLflow and no job store, at 1M and 5M
rows (tickers x days; `--huge` adds a 20M-row ridge run, `--boosters` LightGBM and XGBoost
runs at the largest size). For each run it prints the wall time, the process's peak RSS
(from `os.wait4`, so it is that child's own peak) and where the time went: the run's own
`timings` from metrics.json (the data stage also split into load, labels, features,
assemble, split) and "other" (start-up, imports, writing the run's files). Then it checks the
goals of issue 12 and prints each as met or missed.

On a shared machine wall times are noisy: run it when the machine is otherwise idle, or
compare only figures from the same invocation. The child's CPU time (user + system) is
printed beside the wall time because it suffers far less from other processes' load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BOOSTERS = ("lightgbm", "xgboost")  # optional extras, named like their packages
GIB = 2**30
GOAL_5M_RIDGE_S = 20.0
GOAL_5M_RIDGE_RSS = 3 * GIB
GOAL_20M_RSS = 12 * GIB
GOAL_PER_ROW_GROWTH = 1.5
# A stage shorter than this at 1M rows is start-up noise, not a per-row cost worth comparing.
MIN_STAGE_S = 0.25

# The run's top-level stages, listed first; with "other" and any stage a newer run records,
# they add up to the wall time. The data_* stages (from metrics.json too) split data_s.
RUN_STAGES = ("data_s", "search_s", "cv_s", "fit_s", "scoring_s", "evaluation_s", "other_s")
DATA_STAGE_PREFIX = "data_"


@dataclass(frozen=True)
class Run:
    rows: int
    model: str
    wall_s: float
    cpu_s: float
    peak_rss: int
    stages: dict[str, float]


def run_stockml(n_tickers: int, n_days: int, model: str, output_root: Path) -> Run:
    """One whole `stockml` process; raises with its output if it fails."""
    command = [
        sys.executable,
        "-m",
        "stockml",
        "data=synthetic",
        f"data.n_tickers={n_tickers}",
        f"data.n_days={n_days}",
        "features=full",
        f"model={model}",
        "tracking.enabled=false",
        "store.enabled=false",
        f"paths.output_root={output_root}",
    ]
    log_path = output_root / "console.log"
    output_root.mkdir(parents=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    console = log_path.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{console}")
    (metrics_path,) = output_root.glob("runs/*/*/metrics.json")
    stages = dict(json.loads(metrics_path.read_text())["timings"])
    # data_s is itself a top-level stage; only its data_<part>_s breakdown is left out
    top_level = {
        key: value
        for key, value in stages.items()
        if key == "data_s" or not key.startswith(DATA_STAGE_PREFIX)
    }
    stages["other_s"] = wall - sum(top_level.values())
    cpu = usage.ru_utime + usage.ru_stime
    # ru_maxrss is in KiB on Linux
    return Run(n_tickers * n_days, model, wall, cpu, usage.ru_maxrss * 1024, stages)


def _label(stage: str) -> str:
    """Column heading: ``data_features_s`` -> ``features``, ``cv_s`` -> ``cv``."""
    return stage.removesuffix("_s").removeprefix(DATA_STAGE_PREFIX)


def print_runs(runs: list[Run]) -> None:
    names = list(RUN_STAGES) + sorted({key for run in runs for key in run.stages} - set(RUN_STAGES))
    header = f"{'rows':>11s} {'model':24s}{'wall s':>8s}{'cpu s':>8s}{'peak GiB':>9s}"
    print(header + "".join(f"{_label(name):>11s}" for name in names))
    for run in runs:
        cells = "".join(
            f"{run.stages[name]:>11.2f}" if name in run.stages else f"{'-':>11s}" for name in names
        )
        memory = run.peak_rss / GIB
        print(
            f"{run.rows:>11,d} {run.model:24s}{run.wall_s:>8.1f}{run.cpu_s:>8.1f}{memory:>9.2f}"
            f"{cells}"
        )


def check_goals(runs: list[Run]) -> list[tuple[str, bool]]:
    """(description with figures, met) for every goal the runs can speak to."""
    by_key = {(run.rows, run.model): run for run in runs}
    sizes = sorted({run.rows for run in runs})
    goals: list[tuple[str, bool]] = []
    ridge_5m = by_key.get((5_000_000, "ridge"))
    if ridge_5m is not None:
        goals.append(
            (
                f"5M rows, ridge, under {GOAL_5M_RIDGE_S:.0f} s: {ridge_5m.wall_s:.1f} s",
                ridge_5m.wall_s < GOAL_5M_RIDGE_S,
            )
        )
        goals.append(
            (
                f"5M rows, ridge, under {GOAL_5M_RIDGE_RSS / GIB:.0f} GiB peak RSS: "
                f"{ridge_5m.peak_rss / GIB:.2f} GiB",
                ridge_5m.peak_rss < GOAL_5M_RIDGE_RSS,
            )
        )
    huge = by_key.get((20_000_000, "ridge"))
    if huge is not None:
        goals.append(
            (
                f"20M rows, ridge, under {GOAL_20M_RSS / GIB:.0f} GiB peak RSS: "
                f"{huge.peak_rss / GIB:.2f} GiB",
                huge.peak_rss < GOAL_20M_RSS,
            )
        )
    for model in sorted({run.model for run in runs}):
        small, large = by_key.get((sizes[0], model)), by_key.get((sizes[-1], model))
        if small is None or large is None or small is large:
            continue
        for stage, seconds in small.stages.items():
            if stage == "other_s" or stage not in large.stages or seconds < MIN_STAGE_S:
                continue
            growth = (large.stages[stage] / large.rows) / (seconds / small.rows)
            goals.append(
                (
                    f"{model} {stage.removesuffix('_s')}: per-row cost x{growth:.2f} from "
                    f"{small.rows / 1e6:g}M to {large.rows / 1e6:g}M rows "
                    f"(goal <= x{GOAL_PER_ROW_GROWTH})",
                    growth <= GOAL_PER_ROW_GROWTH,
                )
            )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5000, help="days per ticker")
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000, 5_000_000], help="panel sizes"
    )
    parser.add_argument("--models", nargs="+", default=["ridge", "hist_gradient_boosting"])
    parser.add_argument("--huge", action="store_true", help="add a 20M-row ridge run")
    parser.add_argument(
        "--boosters",
        action="store_true",
        help="add lightgbm and xgboost runs at the largest size (those extras installed)",
    )
    args = parser.parse_args()

    plan = [(rows, model) for rows in args.rows for model in args.models]
    if args.boosters:
        for model in BOOSTERS:
            if importlib.util.find_spec(model) is None:
                print(f"  skipped model={model}: pip install -e '.[{model}]'", file=sys.stderr)
            else:
                plan.append((max(args.rows), model))
    if args.huge:
        plan.append((20_000_000, "ridge"))
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as scratch:
        for number, (rows, model) in enumerate(plan):
            n_tickers = max(1, rows // args.days)
            run = run_stockml(n_tickers, args.days, model, Path(scratch) / str(number))
            print(f"  {run.rows:,d} rows, {model}: {run.wall_s:.1f} s", file=sys.stderr)
            runs.append(run)
    print(f"{os.cpu_count()} cores; synthetic panels of {args.days:,d} days, features=full")
    print_runs(runs)
    print()
    for description, met in check_goals(runs):
        print(f"{'met   ' if met else 'MISSED'}  {description}")


if __name__ == "__main__":
    main()
