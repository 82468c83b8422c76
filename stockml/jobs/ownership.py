"""Which entries of a run or sweep directory stockml wrote, and so may delete.

Cleanup deletes a directory only when every entry in it is one of these; anything else (a
user's notes, a symlink, a file some other tool dropped) keeps the whole directory. The
names are those the writers use: Hydra's snapshot and job log, `stockml.run_files`, the
rolling run's files (`stockml.lifecycle.rolling_record`) and a sweep's own files
(`stockml.sweep_files`: Hydra's snapshot, the Optuna summary, the MLflow link, study plots).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from stockml import run_files, sweep_files

HYDRA_SNAPSHOT_DIR = ".hydra"
HYDRA_SNAPSHOT_FILES = frozenset({"config.yaml", "hydra.yaml", "overrides.yaml"})
RUN_FILES = frozenset(
    {
        run_files.METRICS_FILE,
        run_files.FEATURES_FILE,
        run_files.PREDICTIONS_FILE,
        run_files.SEARCH_TRIALS_FILE,
        run_files.SELECTED_FEATURES_FILE,
        run_files.EVALUATION_FILE,
        run_files.FAILED_FILE,
        "rolling_predictions.csv",
        "rolling_windows.csv",
        "rolling_daily_ic.csv",
        "rolling_metrics.json",
    }
)
SWEEP_FILES = frozenset(
    {sweep_files.MULTIRUN_FILE, sweep_files.RESULTS_FILE, sweep_files.LINK_FILE}
)


@dataclass
class Inventory:
    """What a directory holds: stockml's files and directories, or the first foreign entry."""

    files: list[Path] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)  # deepest first
    foreign: str | None = None  # why the directory is not all stockml's


def _job_log(run_dir: Path) -> str | None:
    """`<hydra.job.name>.log`, the log Hydra writes for the run, named in its snapshot."""
    try:
        snapshot = OmegaConf.load(run_dir / HYDRA_SNAPSHOT_DIR / "hydra.yaml")
        return f"{OmegaConf.select(snapshot, 'hydra.job.name')}.log"
    except Exception:  # no or unreadable snapshot: then no log is recognised as Hydra's
        return None


def inventory(directory: Path) -> Inventory:
    """Classify every entry under `directory` without following any symbolic link."""
    found = Inventory()
    _take(directory, found)
    return found


def _take(directory: Path, found: Inventory) -> None:
    if directory.is_symlink():
        found.foreign = f"{directory} is a symbolic link"
        return
    is_run = (directory / HYDRA_SNAPSHOT_DIR).is_dir()
    is_sweep = (directory / sweep_files.MULTIRUN_FILE).is_file()
    if not is_run and not is_sweep:
        found.foreign = f"{directory} is not a stockml run directory (no .hydra/ or multirun.yaml)"
        return
    allowed = RUN_FILES | SWEEP_FILES | {_job_log(directory) or ""}
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            if entry.is_symlink():
                found.foreign = f"{path} is a symbolic link"
            elif entry.is_dir() and entry.name == HYDRA_SNAPSHOT_DIR:
                _take_snapshot(path, found)
            elif is_sweep and entry.is_dir() and entry.name == sweep_files.PLOTS_DIR:
                _take_plots(path, found)
            elif entry.is_dir():
                _take(path, found)  # a sweep's trial directory is a run directory itself
            elif entry.is_file() and entry.name in allowed:
                found.files.append(path)
            else:
                found.foreign = f"{path} was not written by stockml"
            if found.foreign:
                return
    found.directories.append(directory)


def _take_snapshot(snapshot: Path, found: Inventory) -> None:
    with os.scandir(snapshot) as entries:
        for entry in entries:
            if entry.is_symlink() or not entry.is_file() or entry.name not in HYDRA_SNAPSHOT_FILES:
                found.foreign = f"{entry.path} was not written by Hydra"
                return
            found.files.append(Path(entry.path))
    found.directories.append(snapshot)


def _take_plots(plots: Path, found: Inventory) -> None:
    """A sweep's study plots: only PNGs under the names the plots are written with."""
    with os.scandir(plots) as entries:
        for entry in entries:
            if entry.is_symlink() or not entry.is_file() or not sweep_files.is_study_plot(
                entry.name
            ):
                found.foreign = f"{entry.path} was not written by stockml"
                return
            found.files.append(Path(entry.path))
    found.directories.append(plots)
