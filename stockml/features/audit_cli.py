"""`stockml audit [overrides...]`: the look-ahead audit a run makes, on demand, as a table.

The config is composed from the same overrides a run takes, so `stockml audit X` checks
exactly the features `stockml X` would use, on the same data. Exit code 0 when every
user-added feature is causal, 1 when one reads ahead, 2 for a bad command or config.
"""

from __future__ import annotations

import argparse
import sys

from hydra.utils import instantiate

from stockml.commands import summary
from stockml.config import compose_config
from stockml.console_table import table
from stockml.data.schema import format_stamp
from stockml.errors import COMMAND_ERROR_EXIT as ERROR_EXIT
from stockml.errors import user_error_message
from stockml.features.audit import AuditResult, audit_features

LEAK_EXIT = 1
HEADER = ("FEATURE", "WARM-UP", "CAUSAL", "FIRST MOVED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stockml-audit",
        description=summary("audit"),
        epilog="example: stockml audit features=minimal 'features.custom=[myfeatures.gap]'",
    )
    parser.add_argument(
        "overrides", nargs="*", help="config overrides, as for a run (data=..., features...=)"
    )
    args = parser.parse_args(argv)
    try:
        results = _audit(args.overrides)
    except Exception as exc:
        message = user_error_message(exc)
        if message is None:
            raise
        print(f"stockml-audit: error: {message}", file=sys.stderr)
        return ERROR_EXIT
    if not results:
        print("nothing to audit: no formula or custom features (features.expressions, .custom)")
        return 0
    rows = [
        (
            result.feature,
            result.warmup,
            "yes" if result.causal else "no",
            "-" if result.moved is None else format_stamp(result.moved),
        )
        for result in results
    ]
    print(table(HEADER, rows, rule=True))
    return 0 if all(result.causal for result in results) else LEAK_EXIT


def _audit(overrides: list[str]) -> list[AuditResult]:
    cfg = compose_config(overrides)
    panel = instantiate(cfg.data, _convert_="all")
    return audit_features(instantiate(cfg.features, _convert_="all"), panel)
