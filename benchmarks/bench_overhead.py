"""What `stockml` costs on top of the same work written as a bare scikit-learn script.

    python benchmarks/bench_overhead.py [--runs 5] [--top 12] [--goals-only]

Every variant is a whole process timed from the outside (interpreter start to exit), because
that is what a user or a sweep worker waits for: imports, Hydra, recording and all. Each is
measured twice: wall time, and CPU time (user + system of the process and its children, from
`resource.getrusage`). The goals (issue 13: under 2.0 s extra with MLflow on, under 0.4 s with
tracking and the job store off) are judged on CPU time, which load from other processes on a
shared machine inflates far less than wall time; both tables are printed, then the floor
under the MLflow goal: the bare script plus MLflow's import and opening a store. The work
is identical in all of them (bundled sample data, `technical` features, 1-day forward log
return, 20% holdout, StandardScaler + Ridge(alpha=10), walk-forward CV with
conf/cv/walk_forward.yaml's parameters) and the script checks that the bare script and
stockml report the same CV and holdout IC, so the difference is pure framework cost.

Runs of the variants are interleaved (one of each per round) so that load from other
processes on a shared machine hits them alike; medians and ratios from the same invocation
are the numbers to compare. The breakdown then says where the extra time goes: step CPU times
inside one fresh process, whole-process deltas (store callback on/off, Hydra without the
job), and the slowest top-level imports from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

PYTHON = sys.executable
GOAL_MLFLOW_S = 2.0
GOAL_NO_TRACKING_S = 0.4
NO_RECORDING = ("tracking.enabled=false", "store.enabled=false")

# The same experiment as `stockml` with its defaults, by hand; prints the two ICs so the
# benchmark can prove it did the same work.
BARE_SCRIPT = """
import json
import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from stockml.data import load_sample
from stockml.features import FeatureBuilder
from stockml.target import forward_log_return, make_dataset
from stockml.validation import WalkForwardSplit, regression_metrics, split_holdout

panel = load_sample()
# float32, as conf/features/technical.yaml
features = FeatureBuilder(preset="technical", dtype="float32").fit_transform(panel)
X, y = make_dataset(features, forward_log_return(panel, horizon=1))
X_dev, y_dev, X_hold, y_hold = split_holdout(X, y, fraction=0.2, horizon=1)
model = Pipeline([("scaler", StandardScaler()), ("model", Ridge(alpha=10.0))])
dates = X_dev.index.get_level_values("date")
splitter = WalkForwardSplit(n_splits=5, horizon=1)  # sizes derived, as conf/cv/walk_forward.yaml
fold_ics = []
for train, test in splitter.split(X_dev, y_dev):
    fitted = clone(model).fit(X_dev.iloc[train], y_dev.iloc[train])
    scores = regression_metrics(
        y_dev.iloc[test], fitted.predict(X_dev.iloc[test]), dates=dates[test]
    )
    fold_ics.append(scores["ic"])
final = clone(model).fit(X_dev, y_dev)
holdout = regression_metrics(
    y_hold, final.predict(X_hold), dates=X_hold.index.get_level_values("date")
)
print(json.dumps({"cv_ic_mean": float(np.mean(fold_ics)), "test_ic": holdout["ic"]}))
"""

# What any MLflow-recorded run pays before it logs a thing: MLflow's import and opening an
# existing SQLite store (SQLAlchemy, Alembic, MLflow's table mappings, the schema check).
# Appended to the bare script, it says how much of the "MLflow on" budget that alone takes.
FLOOR_VARIANT = "bare script + import mlflow, open store"
MLFLOW_FLOOR_SCRIPT = """
import mlflow
mlflow.MlflowClient("sqlite:///outputs/mlflow.db").get_experiment_by_name("stockml")
"""

# What any Hydra-composed run pays before its job starts: Hydra's import, its plugin scan and
# the two composes `@hydra.main` makes of stockml's config (one to read the run mode, one for
# the job), with the bare script as the job. It is the floor under both goals, since
# "Hydra composes everything" is the premise; it runs as a file (Hydra reads the calling
# script's path), written into the benchmark's temporary directory.
HYDRA_FLOOR_VARIANT = "bare script as a @hydra.main job"
HYDRA_FLOOR_SCRIPT = """
import hydra
from stockml.config import CONFIG_NAME, config_dir

@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name=CONFIG_NAME)
def job(cfg):
{body}

job()
"""


def hydra_floor_script(root: Path) -> Path:
    """The Hydra floor's script file: the bare script, indented as the job's body."""
    body = "\n".join(f"    {line}" if line else "" for line in BARE_SCRIPT.splitlines())
    path = root / "hydra_floor.py"
    path.write_text(HYDRA_FLOOR_SCRIPT.format(body=body))
    return path


# One process walking through what `python -m stockml` does, step by step, with a CPU clock
# around each step. Run twice in one temporary cwd: first with no stores, then with both.
PROBE_SCRIPT = """
import json, sys, time
from pathlib import Path
steps = []
clock = time.process_time()
def lap(name):
    global clock
    now = time.process_time()
    steps.append((name, now - clock))
    clock = now

import hydra, omegaconf
lap("import hydra + omegaconf")
import stockml.cli
lap("import stockml.cli (pandas via stockml.errors -> stockml.data)")
import stockml.jobs.callback
lap("import job-store callback (Hydra glue; SQLAlchemy only once a run is recorded)")
from stockml.config import compose_config
cfg = compose_config(["tracking.log_plots=true"])
lap("Hydra compose, first (plugin scan + config search path)")
cfg = compose_config(["tracking.log_plots=true"])
lap("Hydra compose, again (what compose itself costs)")
from stockml.experiment import run_experiment
lap("import stockml.experiment (scikit-learn)")
result = run_experiment(cfg)
lap("run_experiment (the actual work)")
from stockml.run_files import write_run_files
from stockml.summary import summary_table
run_dir = Path("outputs/runs/probe")
run_dir.mkdir(parents=True, exist_ok=True)
files = write_run_files(run_dir, result, "cv_ic_mean", None)
summary_table(result)
lap("run files + summary table")
from stockml.jobs.db import open_store
open_store("sqlite:///outputs/jobs.db").engine.dispose()
lap("job store: open_store (creates + migrates jobs.db when fresh)")
open_store("sqlite:///outputs/jobs.db").engine.dispose()
lap("job store: open_store again, same process")
import mlflow
lap("import mlflow")
from stockml.tracking import run_logging as tracking
from stockml.tracking.identity import RunIdentity
tracking.start_run(cfg.tracking, RunIdentity("probe"))
lap("mlflow: start_run (creates + migrates mlflow.db when fresh)")
def log_run(plots=False, report=False, model=False):
    tracked = cfg.tracking
    tracked.log_plots, tracked.log_report, tracked.log_model = plots, report, model
    tracking.log_result(cfg, result, files, run_dir)
    mlflow.end_run()
log_run()
lap("mlflow: params, metrics, tags, dataset, files; end_run")
tracking.start_run(cfg.tracking, RunIdentity("probe"))
lap("mlflow: start_run again, same process")
log_run()
lap("mlflow: params ... end_run again (warm: the pure logging cost)")
tracking.start_run(cfg.tracking, RunIdentity("probe"))
log_run(plots=True)
lap("mlflow: start_run + params ... + holdout plot (matplotlib)")
tracking.start_run(cfg.tracking, RunIdentity("probe"))
log_run(report=True)
lap("mlflow: start_run + params ... + report.html (plotly)")
tracking.start_run(cfg.tracking, RunIdentity("probe"))
log_run(model=True)
lap("mlflow: start_run + params ... + log_model (sklearn flavor)")
tracking.start_run(cfg.tracking, RunIdentity("probe"))
log_run(model=True)
lap("mlflow: start_run + params ... + log_model, again (warm)")
print(json.dumps(steps))
"""


def _run(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one process to completion; a failure stops the benchmark with its stderr."""
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(args)[:200]} failed:\n{completed.stderr[-3000:]}")
    return completed


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: Sequence[str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process, interpreter start to exit."""
    start, cpu = time.perf_counter(), _children_cpu()
    _run(args, cwd)
    return time.perf_counter() - start, _children_cpu() - cpu


def _stockml(*overrides: str) -> list[str]:
    return [PYTHON, "-m", "stockml", *overrides]


def _fresh_dir(root: Path, label: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=root))


Timings = dict[str, list[float]]


def _interleaved(
    variants: dict[str, Callable[[], tuple[float, float]]], runs: int
) -> tuple[Timings, Timings]:
    """(wall, CPU) seconds per variant, round-robin so background load hits them all alike."""
    wall: Timings = {name: [] for name in variants}
    cpu: Timings = {name: [] for name in variants}
    for round_ in range(runs):
        for name, run in variants.items():
            wall_s, cpu_s = run()
            wall[name].append(wall_s)
            cpu[name].append(cpu_s)
        print(f"  round {round_ + 1}/{runs} done", file=sys.stderr, flush=True)
    return wall, cpu


def _check_same_work(root: Path) -> str:
    """Run the bare script and stockml once each and compare their CV and holdout IC."""
    bare = _run([PYTHON, "-c", BARE_SCRIPT], root)
    theirs = json.loads(bare.stdout.strip().splitlines()[-1])
    cwd = _fresh_dir(root, "check")
    _timed(_stockml(*NO_RECORDING), cwd)
    metrics = json.loads(next(cwd.glob("outputs/runs/*/*/metrics.json")).read_text())
    ours = {"cv_ic_mean": metrics["cv"]["ic"]["mean"], "test_ic": metrics["holdout"]["ic"]}
    same = all(abs(ours[key] - theirs[key]) < 1e-9 for key in ours)
    return (
        f"same work check: bare cv_ic_mean={theirs['cv_ic_mean']:.6f} "
        f"test_ic={theirs['test_ic']:.6f}; stockml cv_ic_mean={ours['cv_ic_mean']:.6f} "
        f"test_ic={ours['test_ic']:.6f} -> {'identical' if same else 'DIFFERENT'}"
    )


def _print_table(title: str, seconds: dict[str, list[float]], reference: str) -> None:
    base = statistics.median(seconds[reference])
    print(f"\n{title}")
    print(f"{'variant':44s}{'median s':>10s}{'min s':>8s}{'extra s':>9s}{'ratio':>7s}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(
            f"{name:44s}{median:>10.2f}{min(values):>8.2f}{median - base:>+9.2f}"
            f"{median / base:>7.2f}"
        )


def _print_goals(cpu: Timings) -> None:
    """Each goal as met or missed: median extra CPU seconds over the bare script; then the
    floor under the MLflow goal that no stockml change can cut."""
    base = statistics.median(cpu["bare sklearn script"])
    off = statistics.median(cpu["stockml, tracking off"]) - base
    on = max(
        statistics.median(cpu[name]) - base
        for name in ("stockml, MLflow on, fresh store", "stockml, MLflow on, warm store")
    )
    for label, extra, goal in (
        ("tracking and job store off", off, GOAL_NO_TRACKING_S),
        ("MLflow on (worse of fresh and warm store)", on, GOAL_MLFLOW_S),
    ):
        verdict = "met" if extra < goal else "MISSED"
        print(f"goal: {label}: extra CPU {extra:.2f} s < {goal} s: {verdict}")
    hydra = statistics.median(cpu[HYDRA_FLOOR_VARIANT]) - base
    print(
        f"floor under both goals: the bare script run as a @hydra.main job of stockml's config "
        f"costs {hydra:.2f} s extra CPU"
    )
    floor = statistics.median(cpu[FLOOR_VARIANT]) - base
    print(
        f"floor under the MLflow goal: the bare script importing MLflow and opening the store "
        f"costs {floor:.2f} s extra CPU, before logging anything; with Hydra's, "
        f"{floor + hydra:.2f} s"
    )


def _probe_steps(root: Path) -> list[tuple[str, float, float]]:
    """(step, seconds with fresh stores, seconds with existing stores) of two probe runs."""
    cwd = _fresh_dir(root, "probe")
    fresh, warm = (
        json.loads(_run([PYTHON, "-c", PROBE_SCRIPT], cwd).stdout.strip().splitlines()[-1])
        for _ in range(2)
    )
    return [(name, first, second) for (name, first), (_, second) in zip(fresh, warm, strict=True)]


def _top_imports(root: Path, overrides: Sequence[str], top: int) -> list[tuple[str, float]]:
    """The slowest top-level imports (cumulative seconds) of one `python -m stockml` run."""
    completed = _run(
        [PYTHON, "-X", "importtime", "-m", "stockml", *overrides], _fresh_dir(root, "importtime")
    )
    # "import time:  self [us] | cumulative | name"; a name without indent is top-level.
    line = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")
    found = [
        (match[2], int(match[1]) / 1e6)
        for match in map(line.match, completed.stderr.splitlines())
        if match
    ]
    return sorted(found, key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per variant")
    parser.add_argument("--top", type=int, default=12, help="top-level imports to list")
    parser.add_argument(
        "--goals-only", action="store_true", help="stop after the goal table (no breakdowns)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        root = Path(tmp)
        print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        print(_check_same_work(root))

        hydra_script = hydra_floor_script(root)
        warm = _fresh_dir(root, "warm")
        _timed(_stockml("store.enabled=false"), warm)  # untimed: creates the MLflow store
        wall, cpu = _interleaved(
            {
                "bare sklearn script": lambda: _timed([PYTHON, "-c", BARE_SCRIPT], root),
                "stockml, tracking off": lambda: _timed(
                    _stockml(*NO_RECORDING), _fresh_dir(root, "off")
                ),
                "stockml, MLflow on, fresh store": lambda: _timed(
                    _stockml("store.enabled=false"), _fresh_dir(root, "fresh")
                ),
                "stockml, MLflow on, warm store": lambda: _timed(
                    _stockml("store.enabled=false"), warm
                ),
                FLOOR_VARIANT: lambda: _timed(
                    [PYTHON, "-c", BARE_SCRIPT + MLFLOW_FLOOR_SCRIPT], warm
                ),
                HYDRA_FLOOR_VARIANT: lambda: _timed(
                    [PYTHON, str(hydra_script), *NO_RECORDING], _fresh_dir(root, "hydra")
                ),
            },
            args.runs,
        )
        for kind, seconds in (("wall", wall), ("CPU", cpu)):
            _print_table(
                f"whole-process {kind} time, {args.runs} runs each", seconds, "bare sklearn script"
            )
        _print_goals(cpu)
        if args.goals_only:
            return

        store_on = _fresh_dir(root, "store-warm")
        _timed(_stockml("tracking.enabled=false"), store_on)  # untimed: creates jobs.db
        deltas, _ = _interleaved(
            {
                "python -c pass (interpreter)": lambda: _timed([PYTHON, "-c", "pass"], root),
                "stockml --cfg job (Hydra, no job)": lambda: _timed(
                    _stockml("--cfg", "job", *NO_RECORDING), _fresh_dir(root, "cfg")
                ),
                "stockml, tracking off, store off": lambda: _timed(
                    _stockml(*NO_RECORDING), _fresh_dir(root, "off")
                ),
                "stockml, tracking off, store on, fresh": lambda: _timed(
                    _stockml("tracking.enabled=false"), _fresh_dir(root, "store")
                ),
                "stockml, tracking off, store on, warm": lambda: _timed(
                    _stockml("tracking.enabled=false"), store_on
                ),
            },
            args.runs,
        )
        _print_table(
            "breakdown 1: whole-process deltas (vs. stockml, tracking off, store off)",
            deltas,
            "stockml, tracking off, store off",
        )

        print("\nbreakdown 2: steps of `python -m stockml` inside one process (CPU seconds)")
        print(f"  {'fresh cwd':>9s} {'stores exist':>12s}  step")
        for name, fresh, warm_s in _probe_steps(root):
            print(f"  {fresh:>9.2f} {warm_s:>12.2f}  {name}")

        print("\nbreakdown 3: slowest imports, `python -X importtime -m stockml` (cumulative s)")
        for overrides in (NO_RECORDING, ("store.enabled=false",)):
            print(f"  {' '.join(overrides)}:")
            for name, cumulative in _top_imports(root, overrides, args.top):
                print(f"    {cumulative:>6.2f}  {name}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
