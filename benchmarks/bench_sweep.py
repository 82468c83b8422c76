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

Everything runs with tracking and the job store off, in fresh temporary directories, so the
numbers are about the launcher and sweeper alone. The machine is shared: read the load
averages printed beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
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
# Stages of run_experiment recorded in metrics.json; their sum is a job's own work.
WORK_KEYS = ("data_s", "search_s", "cv_s", "fit_s")


@dataclass(frozen=True)
class Sweep:
    """One finished multirun: wall time and what each of its jobs reported."""

    wall_s: float
    work_s: list[float]
    overrides: list[list[str]]

    @property
    def outside_work_s(self) -> float:
        return self.wall_s - sum(self.work_s)


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _multirun(overrides: Sequence[str], root: Path) -> Sweep:
    """Run `python -m stockml` (a multirun) in a fresh cwd and read back its job dirs."""
    cwd = Path(tempfile.mkdtemp(dir=root))
    args = [PYTHON, "-m", "stockml", *overrides, *NO_RECORDING]
    start = time.perf_counter()
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    (sweep_dir,) = cwd.glob("outputs/multiruns/*/*")
    jobs = sorted((path for path in sweep_dir.iterdir() if path.name.isdigit()), key=_job_num)
    work, job_overrides = [], []
    for job in jobs:
        timings = json.loads((job / "metrics.json").read_text())["timings"]
        work.append(sum(timings[key] for key in WORK_KEYS))
        job_overrides.append(yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()))
    return Sweep(wall, work, job_overrides)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller forests, fewer trials")
    args = parser.parse_args()
    n_estimators = 50 if args.quick else 200
    trial_counts = (2, 6) if args.quick else (4, 12)

    print(f"load average at start: {_load()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        joblib_speedup(n_estimators, Path(tmp))
        optuna_overhead(trial_counts, Path(tmp))
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
