"""Sweep throughput: joblib launcher speedup, and what the Optuna sweeper adds per trial.

    python benchmarks/bench_sweep.py [--quick]

1. A 4-job random-forest multirun (`seed=1,2,3,4`) with `hydra/launcher=joblib` at
   `hydra.launcher.n_jobs=1` and `=2`: whole-process wall time and the speedup. On a 2-core
   machine the goal is >= 1.7x. Each job's own work (`timings` in its metrics.json: data,
   CV, final fit) is summed too, so a missed goal can be told apart: jobs slowed by sharing
   cores (own work grows with n_jobs) vs. fixed costs outside the jobs (worker start-up).
2. `hparams_search=ridge_optuna` with K trials vs. the same K alphas through Hydra's basic
   sweeper (`-m model.alpha=a1,...,aK`), at two K. The per-trial overhead is the slope over
   K of (wall time - the jobs' own work): fixed costs (imports, study creation) cancel out,
   what remains is what one more trial costs beyond its experiment. Goal: < 0.5 s for Optuna.
   The recorded work covers data, CV and the final fit but not the holdout and baseline
   scoring nor the run files, so "beyond its work" is an upper bound on the overhead;
   Optuna minus basic is the sweeper's own share.

3. What MLflow tracking costs a sweep: the same K-job ridge multirun (`-m model.alpha=...`)
   with `tracking.enabled=false` and `=true`, at two K, repeated and interleaved, in a
   directory whose MLflow store already exists (creating it is a one-off per store). It
   prints the extra wall time, that divided by K (it includes the sweep's fixed costs:
   importing MLflow, the parent run, refitting and logging the best trial's model), the time
   each trial spends inside its own MLflow run (read back from the store: what tracking
   costs a trial) and the end of the sweep. Goal: <= 0.25 s per trial.

Parts 1 and 2 run with tracking and the job store off, in fresh temporary directories, so
their numbers are about the launcher and sweeper alone. The machine is shared: read the
load averages printed beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

PYTHON = sys.executable
NO_RECORDING = ("tracking.enabled=false", "store.enabled=false")
GOAL_SPEEDUP = 1.7
GOAL_TRIAL_OVERHEAD_S = 0.5
GOAL_TRACKING_S = 0.25
TRACKING_ON = ("tracking.enabled=true", "store.enabled=false")
# Creates the MLflow store of a directory (its tables), as any first tracked run would.
CREATE_STORE = (
    "import os, mlflow\n"
    "os.makedirs('outputs', exist_ok=True)\n"
    "mlflow.MlflowClient('sqlite:///outputs/mlflow.db').search_experiments()\n"
)
# Stages of run_experiment recorded in metrics.json; their sum is a job's own work.
WORK_KEYS = ("data_s", "search_s", "cv_s", "fit_s")


@dataclass(frozen=True)
class Sweep:
    """One finished multirun: wall time and what each of its jobs reported."""

    wall_s: float
    work_s: list[float]
    overrides: list[list[str]]
    sweep_dir: str  # where it ran (renamed `done-...` afterwards)

    @property
    def outside_work_s(self) -> float:
        return self.wall_s - sum(self.work_s)


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _multirun(
    overrides: Sequence[str],
    root: Path,
    recording: Sequence[str] = NO_RECORDING,
    cwd: Path | None = None,
) -> Sweep:
    """Run `python -m stockml` (a multirun) in `cwd` (default a fresh one) and read back its
    job dirs."""
    cwd = cwd or Path(tempfile.mkdtemp(dir=root))
    args = [PYTHON, "-m", "stockml", *overrides, *recording]
    start = time.perf_counter()
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    (sweep_dir,) = (p for p in cwd.glob("outputs/multiruns/*/*") if not p.name.startswith("d"))
    jobs = sorted((path for path in sweep_dir.iterdir() if path.name.isdigit()), key=_job_num)
    work, job_overrides = [], []
    for job in jobs:
        timings = json.loads((job / "metrics.json").read_text())["timings"]
        work.append(sum(timings[key] for key in WORK_KEYS))
        job_overrides.append(yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()))
    sweep_dir.rename(sweep_dir.with_name(f"done-{sweep_dir.name}"))  # the next one is alone
    return Sweep(wall, work, job_overrides, str(sweep_dir.resolve()))


def _job_num(path: Path) -> int:
    return int(path.name)


def joblib_speedup(n_estimators: int, root: Path) -> None:
    """Part 1: the same four jobs one at a time, then two at a time."""
    runs = {}
    for n_jobs in (1, 2):
        runs[n_jobs] = _multirun(
            [
                "-m",
                "model=random_forest",
                f"model.n_estimators={n_estimators}",
                "seed=1,2,3,4",
                "hydra/launcher=joblib",
                f"hydra.launcher.n_jobs={n_jobs}",
            ],
            root,
        )
        print(f"  n_jobs={n_jobs} done, load average {_load()}", file=sys.stderr, flush=True)
    print(f"\n1. joblib launcher, 4 random-forest jobs (n_estimators={n_estimators})")
    print(
        f"{'n_jobs':>6s}{'wall s':>9s}{'sum job work s':>16s}{'mean job s':>12s}"
        f"{'wall - work s':>16s}{'speedup':>9s}"
    )
    for n_jobs, sweep in runs.items():
        print(
            f"{n_jobs:>6d}{sweep.wall_s:>9.2f}{sum(sweep.work_s):>16.2f}"
            f"{sum(sweep.work_s) / len(sweep.work_s):>12.2f}{sweep.outside_work_s:>16.2f}"
            f"{runs[1].wall_s / sweep.wall_s:>9.2f}"
        )
    speedup = runs[1].wall_s / runs[2].wall_s
    ideal = runs[1].wall_s / (runs[1].wall_s - sum(runs[1].work_s) / 2)
    print(
        f"speedup {speedup:.2f} (goal >= {GOAL_SPEEDUP}: "
        f"{'met' if speedup >= GOAL_SPEEDUP else 'MISSED'}); best possible with the "
        f"n_jobs=1 run's time outside the jobs kept serial: {ideal:.2f}; per-job work "
        f"grew {sum(runs[2].work_s) / sum(runs[1].work_s):.2f}x "
        f"when two ran at once"
    )


def optuna_overhead(trial_counts: tuple[int, int], root: Path) -> None:
    """Part 2: Optuna picks K alphas; the basic sweeper then runs exactly those K."""
    rows: dict[str, dict[int, Sweep]] = {"optuna": {}, "basic": {}}
    for k in trial_counts:
        optuna = _multirun(["hparams_search=ridge_optuna", f"hydra.sweeper.n_trials={k}"], root)
        alphas = [
            next(o.split("=", 1)[1] for o in job if o.startswith("model.alpha="))
            for job in optuna.overrides
        ]
        basic = _multirun(["-m", "model=ridge", f"model.alpha={','.join(alphas)}"], root)
        rows["optuna"][k], rows["basic"][k] = optuna, basic
        print(f"  K={k} done, load average {_load()}", file=sys.stderr, flush=True)
    small, large = trial_counts
    print("\n2. per-trial overhead: Optuna sweeper vs. basic sweeper, same alphas, ridge")
    print(
        f"{'sweeper':9s}{'K':>4s}{'wall s':>9s}{'sum job work s':>16s}{'wall - work s':>16s}"
        f"{'per trial s':>13s}"
    )
    slopes = {}
    for name, by_k in rows.items():
        slopes[name] = (by_k[large].outside_work_s - by_k[small].outside_work_s) / (large - small)
        for k, sweep in by_k.items():
            print(
                f"{name:9s}{k:>4d}{sweep.wall_s:>9.2f}{sum(sweep.work_s):>16.2f}"
                f"{sweep.outside_work_s:>16.2f}{sweep.wall_s / k:>13.2f}"
            )
    print(
        f"marginal cost of one more trial beyond its own work (slope K={small}->{large}): "
        f"optuna {slopes['optuna']:.2f} s, basic {slopes['basic']:.2f} s, "
        f"optuna - basic {slopes['optuna'] - slopes['basic']:+.2f} s"
    )
    met = slopes["optuna"] < GOAL_TRIAL_OVERHEAD_S
    print(f"goal (< {GOAL_TRIAL_OVERHEAD_S} s per trial): {'met' if met else 'MISSED'}")


def _tracked_times(store: Path, sweep: Sweep) -> tuple[list[float], float]:
    """(seconds inside each job's MLflow run, seconds from the last job's end to the end of
    the sweep's parent run) read back from the store; a trial run opens after its
    experiment is done, so its duration is what tracking costs the trial."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store}/outputs/mlflow.db")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, filter_string=f"tags.sweep_dir = '{sweep.sweep_dir}'")
    jobs = [r.info for r in runs if r.data.tags.get("sweep_role") != "parent"]
    parents = [r.info for r in runs if r.data.tags.get("sweep_role") == "parent"]
    inside = [(info.end_time - info.start_time) / 1000 for info in jobs]
    last_job_end = max(info.end_time for info in jobs)
    end = (parents[0].end_time - last_job_end) / 1000 if parents else 0.0
    return inside, end


def tracking_cost(trial_counts: tuple[int, int], repeats: int, root: Path) -> None:
    """Part 3: the same ridge multirun with MLflow off and on; what tracking adds per trial."""
    store = Path(tempfile.mkdtemp(dir=root))
    subprocess.run([PYTHON, "-c", CREATE_STORE], cwd=store, check=True, capture_output=True)
    alphas = [f"{10.0 ** (i / 2 - 2):.4g}" for i in range(max(trial_counts))]
    extra: dict[int, list[float]] = {k: [] for k in trial_counts}
    inside: dict[int, list[float]] = {k: [] for k in trial_counts}
    ending: dict[int, list[float]] = {k: [] for k in trial_counts}
    for repeat in range(repeats):  # interleaved, so load from other processes hits both alike
        for k in trial_counts:
            overrides = ["-m", "model=ridge", f"model.alpha={','.join(alphas[:k])}"]
            off = _multirun(overrides, root)
            on = _multirun(overrides, root, TRACKING_ON, cwd=store)
            extra[k].append(on.outside_work_s - off.outside_work_s)
            in_runs, end = _tracked_times(store, on)
            inside[k] += in_runs
            ending[k].append(end)
            print(f"  K={k} #{repeat + 1} done, load {_load()}", file=sys.stderr, flush=True)
    small, large = trial_counts
    print(f"\n3. MLflow tracking cost: the same ridge multirun, off vs on (median of {repeats})")
    print(
        f"{'K':>4s}{'extra wall s':>14s}{'per trial s':>13s}{'in each trial run s':>21s}"
        f"{'end of sweep s':>16s}"
    )
    for k in trial_counts:
        print(
            f"{k:>4d}{statistics.median(extra[k]):>14.2f}"
            f"{statistics.median(extra[k]) / k:>13.2f}"
            f"{statistics.median(inside[k]):>21.3f}{statistics.median(ending[k]):>16.2f}"
        )
    slope = (statistics.median(extra[large]) - statistics.median(extra[small])) / (large - small)
    in_trial = statistics.median(inside[small] + inside[large])
    print(
        f"per trial: {in_trial:.3f} s inside its MLflow run (median over every tracked trial); "
        f"slope of the extra wall time K={small}->{large}: {slope:.2f} s"
    )
    print(
        f"goal (<= {GOAL_TRACKING_S} s per trial): "
        f"{'met' if in_trial <= GOAL_TRACKING_S else 'MISSED'} inside the trial; the rest of "
        f"the extra wall time is per sweep (MLflow import, parent run, best model at the end)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller forests, fewer trials")
    parser.add_argument(
        "--part", type=int, choices=(1, 2, 3), action="append", help="run only these parts"
    )
    args = parser.parse_args()
    parts = set(args.part or (1, 2, 3))
    n_estimators = 50 if args.quick else 200
    trial_counts = (2, 6) if args.quick else (4, 12)

    print(f"load average at start: {_load()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        if 1 in parts:
            joblib_speedup(n_estimators, Path(tmp))
        if 2 in parts:
            optuna_overhead(trial_counts, Path(tmp))
        if 3 in parts:
            tracking_cost((2, 6) if args.quick else (2, 8), 1 if args.quick else 3, Path(tmp))
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
