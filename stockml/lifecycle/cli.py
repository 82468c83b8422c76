"""The lifecycle console scripts: stockml-reproduce, -retrain, -register, -promote, -predict.

Each is a thin argparse front over one module. Errors caused by the user's input (a wrong run
id, bad overrides, short data, an unknown model) leave as one line `stockml-<cmd>: error: ...`
with exit code 2; stockml-reproduce keeps exit code 1 for "ran, but the metrics differ".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from stockml.commands import summary
from stockml.console_table import frame_table, table
from stockml.errors import COMMAND_ERROR_EXIT as ERROR_EXIT
from stockml.errors import user_error_message
from stockml.lifecycle.errors import LifecycleError
from stockml.messages import first_line
from stockml.tracking_uri import LOCAL_STORE_URI, TRACKING_URI_ENV, default_tracking_uri

if TYPE_CHECKING:
    from stockml.lifecycle.snapshot import RunSnapshot

# MLflow draws a progress bar on stderr for every download; keep the commands' output readable.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error format of the other stockml commands."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(ERROR_EXIT)


def _parser(command: str) -> _Parser:
    parser = _Parser(prog=f"stockml-{command}", description=summary(command))
    parser.add_argument(
        "--tracking-uri",
        default=default_tracking_uri(),
        help=f"MLflow tracking and registry store (default ${TRACKING_URI_ENV}, else "
        f"{LOCAL_STORE_URI})",
    )
    return parser


def _user_message(exc: BaseException) -> str | None:
    """The one line to print for an error the user caused (None for a bug), as `stockml` does,
    including errors Hydra wraps while instantiating a data loader."""
    message = user_error_message(exc)
    if message is not None:
        return message
    mlflow_exceptions = sys.modules.get("mlflow.exceptions")  # only if MLflow was used
    if mlflow_exceptions is not None and isinstance(exc, mlflow_exceptions.MlflowException):
        return first_line(exc)
    return None


def _command(name: str) -> Callable[[Callable[[list[str] | None], int]], Callable[..., int]]:
    def decorate(body: Callable[[list[str] | None], int]) -> Callable[..., int]:
        @wraps(body)
        def main(argv: list[str] | None = None) -> int:
            try:
                return body(argv)
            except Exception as exc:
                message = _user_message(exc)
                if message is None:
                    raise
                print(f"stockml-{name}: error: {message}", file=sys.stderr)
                return ERROR_EXIT

        return main

    return decorate


@_command("reproduce")
def reproduce_main(argv: list[str] | None = None) -> int:
    """Exit 0 when every recorded metric came out identical, 1 when any differs."""
    from stockml.lifecycle.reproduce import differences_table, reproduce
    from stockml.lifecycle.snapshot import load_snapshot

    parser = _parser("reproduce")
    parser.add_argument("run", metavar="RUN", help="an MLflow run id or a run directory")
    args = parser.parse_args(argv)
    result = reproduce(load_snapshot(args.run, args.tracking_uri))
    if result.differences:
        print(f"metrics differ from {args.run} (re-run in {result.rerun.run_dir}):")
        print(differences_table(result.differences))
        return 1
    print(f"metrics identical to {args.run} (re-run in {result.rerun.run_dir})")
    return 0


@_command("retrain")
def retrain_main(argv: list[str] | None = None) -> int:
    from stockml.lifecycle.snapshot import load_snapshot

    parser = _parser("retrain")
    parser.add_argument("run", metavar="RUN", help="an MLflow run id or a run directory")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data.end=2013-03-01")
    parser.add_argument("--rolling", action="store_true", help="walk forward, refitting")
    parser.add_argument("--step", type=int, default=None, help="rolling: dates per window (63)")
    parser.add_argument("--window", type=int, default=None, help="rolling: training dates")
    parser.add_argument("--start", default=None, help="rolling: first scored date")
    args = parser.parse_intermixed_args(argv)  # options may follow the overrides
    rolling_only = [f"--{name}" for name in ("step", "window", "start") if getattr(args, name)]
    if rolling_only and not args.rolling:
        parser.error(f"{', '.join(rolling_only)} only apply with --rolling")
    args.step = 63 if args.step is None else args.step
    snapshot = load_snapshot(args.run, args.tracking_uri)
    if args.rolling:
        return _rolling(snapshot, args)
    from stockml.lifecycle.retrain import retrain

    result = retrain(snapshot, args.overrides, args.tracking_uri)
    print(f"retrained {result.parent_run_id} as {result.rerun.run_id} ({result.rerun.run_dir})")
    print(
        f"old vs new model on the new holdout ({len(result.comparison.rows)} rows, "
        f"{result.comparison.period}):"
    )
    print(_metrics_table(result.comparison.metrics))
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _rolling(snapshot: RunSnapshot, args: argparse.Namespace) -> int:
    from stockml.lifecycle.rolling import rolling_retrain
    from stockml.lifecycle.rolling_record import log_rolling_run, write_rolling_files
    from stockml.lifecycle.snapshot import compose_snapshot

    cfg = compose_snapshot(snapshot, args.overrides)
    result = rolling_retrain(cfg, step=args.step, window=args.window, start=args.start)
    settings = {
        "run": args.run,
        "overrides": args.overrides,
        "step": args.step,
        "window": args.window,
        "start": args.start,
    }
    files = write_rolling_files(result, cfg, settings)
    print(frame_table(result.windows))
    print(f"stitched out-of-sample ({len(result.predictions)} rows):")
    print(_metrics_table({"rolling": result.metrics}))
    print(f"files in {files[0].parent}")
    if cfg.tracking.enabled:
        run_id = log_rolling_run(result, cfg, files, snapshot.run_id)
        print(f"MLflow run {run_id} in {cfg.tracking.uri}")
    return 0


def _metrics_table(columns: dict[str, dict[str, float]]) -> str:
    names = list(next(iter(columns.values())))
    rows = ([name, *(f"{values[name]:.6g}" for values in columns.values())] for name in names)
    return table(["metric", *columns], rows)


@_command("register")
def register_main(argv: list[str] | None = None) -> int:
    from omegaconf import OmegaConf

    from stockml.lifecycle.registry import CHALLENGER, register_run
    from stockml.lifecycle.snapshot import load_snapshot

    parser = _parser("register")
    parser.add_argument("run", metavar="RUN", help="an MLflow run id or a run directory")
    parser.add_argument(
        "--name",
        default=None,
        help="registered model name (default: the run's registry.model_name)",
    )
    args = parser.parse_args(argv)
    snapshot = load_snapshot(args.run, args.tracking_uri)
    if snapshot.run_id is None:
        raise LifecycleError(f"{args.run} has no MLflow run, so no logged model to register")
    name = args.name or str(OmegaConf.select(snapshot.config, "registry.model_name") or "stockml")
    version = register_run(snapshot.run_id, name, args.tracking_uri)
    print(f"registered run {snapshot.run_id} as {name} version {version.version} ({CHALLENGER})")
    return 0


@_command("promote")
def promote_main(argv: list[str] | None = None) -> int:
    from stockml.lifecycle.promote import promote

    parser = _parser("promote")
    parser.add_argument("name", metavar="NAME", help="registered model name")
    parser.add_argument(
        "--metric", default=None, help="default: the challenger run's registry.promotion_metric"
    )
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--rows", type=int, default=None, help="score on the last N labelled dates")
    window.add_argument("--since", default=None, help="score on labelled dates from DATE")
    parser.add_argument(
        "--allow-in-sample",
        action="store_true",
        help="also score rows a model trained on (their labels included); noted in the reason",
    )
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < 1:
        parser.error(f"--rows must be >= 1, got {args.rows}")
    decision = promote(
        args.name, args.tracking_uri, args.metric, args.rows, args.since, args.allow_in_sample
    )
    print(f"{'promoted' if decision.promoted else 'kept champion'}: {decision.reason}")
    return 0


@_command("predict")
def predict_main(argv: list[str] | None = None) -> int:
    from hydra.utils import instantiate

    from stockml.config import compose_config
    from stockml.data.schema import format_stamp
    from stockml.lifecycle.predict import output_format, predict_panel, write_csv, write_predictions
    from stockml.lifecycle.scoring import load_scoring_model

    parser = _parser("predict")
    parser.add_argument(
        "settings",
        nargs="+",
        metavar="KEY=VALUE",
        help="model=<MLflow model URI> (required), out=<file.csv|.parquet> (default: stdout), "
        "and data overrides, e.g. data=csv data.path=prices/",
    )
    args = parser.parse_args(argv)
    model_uri, out, data_overrides = _predict_settings(args.settings, parser)
    if out is not None:
        output_format(out)
    panel = instantiate(compose_config(data_overrides).data, _convert_="all")
    frame = predict_panel(load_scoring_model(model_uri, args.tracking_uri), panel)
    if out is None:
        write_csv(frame, sys.stdout)
    else:
        write_predictions(frame, out)
        print(
            f"{len(frame)} predictions for {format_stamp(frame['date'].min())}.."
            f"{format_stamp(frame['date'].max())} written to {out}",
            file=sys.stderr,
        )
    return 0


def _predict_settings(
    settings: Sequence[str], parser: _Parser
) -> tuple[str, Path | None, list[str]]:
    model_uri, out, data_overrides = None, None, []
    for setting in settings:
        key, _, value = setting.partition("=")
        if key == "model" and value:
            model_uri = value
        elif key == "out" and value:
            out = Path(value).expanduser()
        elif key.lstrip("+~").split(".")[0] == "data":
            data_overrides.append(setting)
        else:
            parser.error(f"unknown setting {setting!r}; use model=..., out=... or data overrides")
    if model_uri is None:
        parser.error("model=<MLflow model URI> is required, e.g. model=models:/stockml@champion")
    return model_uri, out, data_overrides
