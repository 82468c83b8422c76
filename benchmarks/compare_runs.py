"""Do two checkouts of stockml record the same run? A check for speed work on the run's stages.

    python benchmarks/compare_runs.py --baseline /path/to/other/checkout
        [--tickers 1000] [--days 5000] [override ...]

Runs `python -m stockml data=synthetic features=full model=ridge` (plus the overrides; no
MLflow, no job store) once with each checkout on the import path, then compares the files
the two runs wrote: every file must be byte-identical, except metrics.json, whose `timings`
(seconds, different every run) are left out before its contents are compared. For a JSON
file that differs, the largest difference between two numbers at the same place is printed,
so a change at the last bit shows as such. Exits 1 when anything differs.

The default, 1,000 tickers x 5,000 days, is the 5M-row run of `bench_scale.py`; `--tickers 50
--days 1000` checks in a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Files that name the run's own directory, time or command line, not its results.
NOT_RESULTS = frozenset({"cli.log", "hydra.yaml", "overrides.yaml"})


def run(checkout: Path, output_root: Path, overrides: list[str]) -> Path:
    """The run directory of one `stockml` run with ``checkout`` first on the import path.

    Both runs write under one ``output_root``, which their recorded configs name."""
    command = [
        sys.executable,
        "-m",
        "stockml",
        "data=synthetic",
        "features=full",
        "model=ridge",
        "tracking.enabled=false",
        "store.enabled=false",
        f"paths.output_root={output_root}",
        *overrides,
    ]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    before = set(output_root.glob("runs/*/*/metrics.json"))
    subprocess.run(command, env=env, check=True, cwd=checkout, stdout=subprocess.DEVNULL)
    (metrics,) = set(output_root.glob("runs/*/*/metrics.json")) - before
    return metrics.parent


def numbers_apart(a: Any, b: Any, where: str = "") -> Iterator[tuple[str, float | None]]:
    """(place, |a - b|) for each number that differs, (place, None) for anything else that
    does."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for key in a:
            yield from numbers_apart(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from numbers_apart(x, y, f"{where}[{i}]")
    elif isinstance(a, int | float) and isinstance(b, int | float) and a != b:
        yield where, abs(a - b)
    elif a != b:
        yield where, None


def compare(baseline: Path, ours: Path) -> list[str]:
    """One line per file that differs between the two run directories."""
    files = {
        path.relative_to(directory)
        for directory in (baseline, ours)
        for path in directory.rglob("*")
        if path.is_file() and path.name not in NOT_RESULTS
    }
    problems = []
    for name in sorted(files):
        old, new = baseline / name, ours / name
        if not old.exists() or not new.exists():
            problems.append(f"{name}: only in {'ours' if new.exists() else 'the baseline'}")
            continue
        if name.name == "metrics.json":
            documents = [json.loads(path.read_text()) for path in (old, new)]
            for document in documents:
                document.pop("timings")
            apart = list(numbers_apart(*documents))
        elif old.read_bytes() == new.read_bytes():
            continue
        elif name.suffix == ".json":
            apart = list(numbers_apart(json.loads(old.read_text()), json.loads(new.read_text())))
        else:
            problems.append(f"{name}: the bytes differ")
            continue
        if apart:
            largest = max((gap for _, gap in apart if gap is not None), default=None)
            problems.append(
                f"{name}: {len(apart)} values differ, first at {apart[0][0]}"
                + ("" if largest is None else f"; the largest number apart by {largest:.3g}")
            )
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--tickers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=5000)
    parser.add_argument("overrides", nargs="*", help="more Hydra overrides for both runs")
    args = parser.parse_args()
    ours = Path(__file__).resolve().parents[1]
    overrides = [f"data.n_tickers={args.tickers}", f"data.n_days={args.days}", *args.overrides]
    with tempfile.TemporaryDirectory(prefix="compare_runs_") as scratch:
        baseline_run = run(args.baseline.resolve(), Path(scratch), overrides)
        our_run = run(ours, Path(scratch), overrides)
        problems = compare(baseline_run, our_run)
        files = sorted(p.name for p in our_run.rglob("*") if p.is_file())
    for line in problems:
        print(line)
    print(f"{'DIFFERENT' if problems else 'identical'}: {', '.join(files)}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
