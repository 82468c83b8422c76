"""The `stockml` command: one Hydra entrypoint from composed config to a recorded run.

Kept thin: it wires `run_experiment` (pure computation) to the recorders (run files, MLflow)
and turns known input errors into one-line messages.
"""

from __future__ import annotations

import gc
import logging
import platform
import re
import sys
from contextlib import AbstractContextManager, chdir, nullcontext
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from stockml.commands import COMMANDS, closest_command, command_list
from stockml.config import CONFIG_NAME, config_dir
from stockml.config_checks import check_config
from stockml.errors import (
    StockmlError,
    one_line_errors,
    unknown_command_message,
    user_error_message,
)
from stockml.memory import reuse_freed_memory
from stockml.progress import hidden
from stockml.threads import limit_threads
from stockml.tracking.identity import RunIdentity, job_identity
from stockml.tracking.sweep_callback import end_open_sweeps

if TYPE_CHECKING:
    from stockml.experiment import ExperimentResult

log = logging.getLogger("stockml")


def run(cfg: DictConfig) -> float | list[float]:
    """Evaluate, fit and record one experiment; return `cfg.optimized_metric` for sweepers:
    one number, or one per metric when it is a list (a multi-objective sweep).

    The sweep direction is checked by the sweeper, once, before any trial is launched.
    """
    hydra_cfg = HydraConfig.get()
    with start_dir(hydra_cfg):
        return _run(cfg, hydra_cfg)


def _run(cfg: DictConfig, hydra_cfg: Any) -> float | list[float]:
    from stockml.experiment import run_experiment
    from stockml.summary import summary_table

    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    check_config(cfg, in_sweep=in_sweep)
    run_dir = Path(hydra_cfg.runtime.output_dir)
    identity = job_identity(hydra_cfg, cfg, datetime.now())
    with limit_threads(hydra_cfg.launcher), hidden(side_by_side(hydra_cfg)):
        if cfg.get("rolling") is not None:
            from stockml.lifecycle.rolling_run import run_rolling

            return run_rolling(cfg, run_dir, in_sweep, identity)
        result = run_experiment(cfg)
    sweep_dir = Path(hydra_cfg.sweep.dir) if in_sweep else None
    record(cfg, result, run_dir, sweep_dir, identity)
    log.info("results in %s\n%s", run_dir, summary_table(result))
    return result.objective(objective_keys(cfg))


def side_by_side(hydra_cfg: Any) -> bool:
    """Whether this job may run beside others (a sweep on any launcher but Hydra's sequential,
    in-process one): then it draws no progress bars."""
    return hydra_cfg.mode == RunMode.MULTIRUN and not str(hydra_cfg.launcher._target_).endswith(
        ".BasicLauncher"
    )


def start_dir(hydra_cfg: Any) -> AbstractContextManager[Any]:
    """Run the job in the directory the command was started in, as `hydra.job.chdir=false`
    promises: relative paths in the config (`data.path`, SQLite stores) mean that directory.

    Ray's workers run jobs in a working directory of their own. A worker on another machine
    may not have that directory at all; the job then stays where it is (absolute paths work).
    """
    cwd = Path(hydra_cfg.runtime.cwd)
    if hydra_cfg.job.chdir or not cwd.is_dir():
        return nullcontext()
    return chdir(cwd)


def objective_keys(cfg: DictConfig) -> str | list[str]:
    """`optimized_metric` as plain Python: a metric key, or a list of them."""
    metric = cfg.optimized_metric
    return metric if isinstance(metric, str) else [str(m) for m in metric]


def record(
    cfg: DictConfig,
    result: ExperimentResult,
    run_dir: Path,
    sweep_dir: Path | None,
    identity: RunIdentity,
) -> None:
    """Run files always; MLflow (and the registry) when tracking is on. metrics.json only
    once all of it succeeded, so a run directory without it is not a complete run.

    A sweep trial registers nothing: the sweep's end logs and registers the best trial's
    model (`stockml.tracking.best_model`).
    """
    from stockml.run_files import run_files_to_log, write_run_files

    metric = objective_keys(cfg)
    if not cfg.tracking.enabled:
        write_run_files(run_dir, result, metric, None)
        return
    from stockml.tracking import run_logging

    with (
        run_logging.start_run(cfg.tracking, identity) as active,
        run_files_to_log(run_dir, result, metric, active.info.run_id) as files,
    ):
        run_logging.log_result(cfg, result, files, run_dir, sweep_dir, identity)
        log.info("MLflow run %s (%s) in %s", active.info.run_id, identity.name, cfg.tracking.uri)
        if cfg.registry.register and sweep_dir is None:
            from stockml.lifecycle.registry import register_run

            version = register_run(
                active.info.run_id, str(cfg.registry.model_name), str(cfg.tracking.uri)
            )
            log.info("registered as %s version %s", version.name, version.version)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name=CONFIG_NAME)
def hydra_entry(cfg: DictConfig) -> float | list[float]:
    try:
        return run(cfg)
    except Exception as exc:
        message = user_error_message(exc)
        if message is None:
            raise
        # Hydra prints an OmegaConf cause in full after the message; the message says it all.
        cause = None if isinstance(exc, OmegaConfBaseException) else exc
        raise StockmlError(message) from cause


# Distributions whose versions `stockml --version` prints: stockml and what shapes its results.
VERSIONED: tuple[str, ...] = ("stockml", "hydra-core", "mlflow", "scikit-learn", "optuna")

# `${stockml.commands:}` in conf/hydra/help/stockml.yaml: the command list of `stockml --help`.
OmegaConf.register_new_resolver("stockml.commands", command_list, replace=True)


def versions() -> str:
    """`stockml --version`: one `name version` line each, then Python's. Hydra's own --version
    would name Hydra alone."""
    lines = []
    for name in VERSIONED:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} (not installed)")
    lines.append(f"Python {platform.python_version()}")
    return "\n".join(lines)


def is_command_word(argument: str) -> bool:
    """A bare word where a command would be: no override (`a=b`, `+a=b`, `~a`, `hydra/x=y`) and
    no flag (`-m`, `--cfg`), so Hydra could only fail on it with a parser error."""
    return re.fullmatch(r"[A-Za-z][\w-]*", argument) is not None


def spare_exit_collections() -> None:
    """Keep the interpreter's exit from traversing every object the imported libraries made.

    Tearing the modules down, CPython runs its cyclic garbage collector several times, and each
    run traverses all ~150,000 objects that scikit-learn, SciPy, pandas and Hydra created at
    import: ~0.4 s of every run. Whatever is garbage now is collected (and finalised) first;
    `gc.freeze` then hides the survivors, which the process's exit frees anyway.
    """
    gc.collect()
    gc.freeze()


def main() -> None:
    """Console-script entry point (`stockml ...`, `python -m stockml ...`)."""
    arguments = sys.argv[1:]
    if arguments and arguments[0] in COMMANDS:
        sys.exit(COMMANDS[arguments[0]].load()(arguments[1:]))
    if "--version" in arguments:
        print(versions())
        return
    if arguments and is_command_word(arguments[0]):
        print(unknown_command_message(arguments[0], closest_command(arguments[0])), file=sys.stderr)
        sys.exit(2)
    reuse_freed_memory()
    with one_line_errors():
        try:
            hydra_entry()
        finally:
            end_open_sweeps()
    spare_exit_collections()
