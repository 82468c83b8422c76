"""`stockml-report`: a leaderboard of tracked runs, from an MLflow experiment or a sweep dir.

It prints the board, and writes it as CSV (`--csv`), Markdown (`--markdown`) or one
self-contained HTML page (`--html`: the board as a chart and a table, a sweep's Optuna
study, and the best `--top` runs' own report sections).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from stockml.console_table import frame_table

# Importing the lifecycle CLI also turns off MLflow's per-download progress bar on stderr.
from stockml.lifecycle.cli import default_tracking_uri
from stockml.reporting.leaderboard import leaderboard, markdown_table

DEFAULT_TOP = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stockml-report", description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=default_tracking_uri())
    parser.add_argument("--experiment", help="MLflow experiment name (default: all)")
    parser.add_argument("--sweep-dir", help="only runs of this multirun directory")
    parser.add_argument("--metric", default="ic", help="metric to rank by (default: ic)")
    parser.add_argument("--csv", type=Path, help="also write the board as CSV")
    parser.add_argument("--markdown", type=Path, help="also write the board as Markdown")
    parser.add_argument("--html", type=Path, help="also write a self-contained HTML report")
    parser.add_argument(
        "--top", type=int, default=DEFAULT_TOP,
        help=f"runs drawn in full in the HTML report, best first (default {DEFAULT_TOP})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.top < 0:
        parser.error(f"--top must be 0 or more, got {args.top}")
    return args


def write_html(args: argparse.Namespace, board: pd.DataFrame, shown: pd.DataFrame) -> Path:
    from mlflow import MlflowClient

    from stockml.reporting.board_report import board_sections
    from stockml.reporting.page import write_page

    sweep_dir = Path(args.sweep_dir) if args.sweep_dir else None
    client = MlflowClient(tracking_uri=args.tracking_uri)
    sections = board_sections(client, board, shown, args.metric, args.top, sweep_dir)
    scope = f"sweep {sweep_dir}" if sweep_dir else f"experiment {args.experiment or '(all)'}"
    return write_page(args.html, f"stockml report: {scope}", sections)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        board = leaderboard(args.tracking_uri, args.experiment, args.sweep_dir, args.metric)
    except ValueError as exc:
        print(f"stockml-report: error: {exc}", file=sys.stderr)
        return 2
    if board.empty:
        print("stockml-report: no finished runs match", file=sys.stderr)
        return 1
    # one sweep's board names each run by id (to open it in MLflow); a wider board by name
    shown = board.drop(columns=["sweep_dir"] if args.sweep_dir else ["run_id", "sweep_dir"])
    print(frame_table(shown))
    if args.csv:
        board.to_csv(args.csv, index=False)
    if args.markdown:
        args.markdown.write_text(markdown_table(shown))
    if args.html:
        print(f"report: {write_html(args, board, shown)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
