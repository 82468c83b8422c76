"""Every `stockml` command the README shows, and every experiment and hparams_search preset,
run end to end as a user would type it, on a small slice so the whole set takes minutes.

The commands are parsed from the README's bash blocks, so a command added there is tested
without touching this file. Fast settings are appended (later overrides win in Hydra): a tmp
output root, MLflow off, two trials per search, sample data from mid-2010. `$HOME/prices/` is
in a tmp HOME holding copies of the bundled sample files, and a data file a command names
(`data.path=all.csv`) is written from the sample in the form its options describe. Lines with a
`...` placeholder stand for "any command" and are skipped. A `data=parquet_dataset` store is
written from the sample, partitioned by ticker. A Python block whose first line names a file
(`# myfeatures.py`) is written to the command's directory, as the user would save it; a
companion command (`stockml audit ...`) writes no run, so only its exit code is checked.
"""

from __future__ import annotations

import math
import re
import shlex
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from stockml_runs import run_stockml

from stockml.commands import COMMANDS
from stockml.config import config_dir
from stockml.data import load_sample

README = Path(__file__).resolve().parents[1] / "README.md"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
MODULE_BLOCK = re.compile(r"```python\n# (\w+\.py)\n(.*?)```", re.DOTALL)
SAMPLE_START = "2010-06-01"


def readme_commands(text: str) -> list[list[str]]:
    """The arguments of each `stockml ...` / `python -m stockml ...` command in bash blocks,
    as bash passes them except for `$HOME`, which the test fills in."""
    commands = []
    for block in BASH_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():  # join continued lines
            for part in line.split("&&"):
                tokens = shlex.split(part, comments=True)
                if tokens[:3] == ["python", "-m", "stockml"]:
                    tokens = tokens[2:]
                if not tokens or tokens[0] != "stockml" or "..." in tokens:
                    continue
                commands.append(tokens[1:])
    return commands


def preset_commands() -> list[list[str]]:
    return [
        [f"{group}={path.stem}"]
        for group in ("experiment", "hparams_search")
        for path in sorted((config_dir() / group).glob("*.yaml"))
    ]


def all_commands() -> list[list[str]]:
    """README commands, then the presets, each once."""
    unique: dict[str, list[str]] = {}
    for args in [*readme_commands(README.read_text()), *preset_commands()]:
        unique.setdefault(shlex.join(["stockml", *args]), args)
    return list(unique.values())


def uses_optuna(args: list[str]) -> bool:
    return any(token.startswith(("hparams_search=", "hydra/sweeper=optuna")) for token in args)


def is_sweep_value(token: str) -> bool:
    """`key=a,b,c` sweeps three values; a bracketed list (`data.tickers=[A,B]`) is one value."""
    key, _, value = token.partition("=")
    return not key.startswith("-") and "," in value and not value.startswith(("[", "{"))


def expected_jobs(args: list[str]) -> int | None:
    """Runs the command launches: the product of its sweep lists, 2 trials for Optuna, None
    (at least one) when a sweep function such as `range(...)` is used."""
    if uses_optuna(args):
        return 2
    sweeps = [token.partition("=")[2] for token in args if is_sweep_value(token)]
    if any("(" in value for value in sweeps):
        return None
    return math.prod(len(value.split(",")) for value in sweeps)


def fast_settings(args: list[str], output_root: Path) -> list[str]:
    extra = [f"paths.output_root={output_root}", "tracking.enabled=false"]
    extra += ["++optimizer.n_trials=2", "++optimizer.grid_points=2"]
    if not any(token.startswith(("data=synthetic", "data=parquet")) for token in args):
        extra.append(f"data.start={SAMPLE_START}")
    if uses_optuna(args):
        extra.append("hydra.sweeper.n_trials=2")
    return extra


def test_the_readme_commands_are_found() -> None:
    commands = [" ".join(args) for args in readme_commands(README.read_text())]
    assert "" in commands  # the Quick start's bare `stockml`
    assert "data=synthetic data.n_tickers=50 data.signal=0.05" in commands
    assert "data=csv data.path=$HOME/prices/ data.tickers=[AAPL,MSFT]" in commands
    assert not any("..." in command for command in commands)
    presets = {" ".join(args) for args in preset_commands()}
    assert {"experiment=weekly_purged", "hparams_search=ridge_optuna"} <= presets
    assert expected_jobs(["-m", "seed=1,2,3", "data.tickers=[AAPL,MSFT]"]) == 3
    assert expected_jobs(["-m", "seed=range(1,4)"]) is None
    assert expected_jobs(["-m", "hydra/sweeper=optuna", "model.alpha=interval(0.1, 1)"]) == 2


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME whose ~/prices/ holds one CSV file per sample ticker, as a user's would."""
    prices = tmp_path / "home" / "prices"
    prices.mkdir(parents=True)
    for source in files("stockml.data").joinpath("sample").iterdir():
        if source.name.endswith(".csv.gz"):
            shutil.copyfile(str(source), prices / source.name)
    return prices.parent


def write_dataset_store(path: Path) -> None:
    """A Parquet dataset directory partitioned by ticker, as `pyarrow.dataset` writes one."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    frame = load_sample(start=SAMPLE_START).reset_index()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ds.write_dataset(
        table, path, format="parquet", partitioning=["ticker"], partitioning_flavor="hive"
    )


def write_readme_modules(text: str, cwd: Path) -> None:
    """The Python files the README tells the user to create (`# myfeatures.py` blocks)."""
    for name, body in MODULE_BLOCK.findall(text):
        (cwd / name).write_text(body)


def make_missing_data_file(args: list[str], cwd: Path) -> None:
    """The long file a `data=csv data.path=<file>` command reads, as its user would have it:
    the bundled sample (from SAMPLE_START) with the command's column names and date format."""
    options = dict(token.partition("=")[::2] for token in args if token.startswith("data."))
    path = cwd / options.get("data.path", "")
    if "data=parquet_dataset" in args and not path.exists():
        write_dataset_store(path)
        return
    if "data=csv" not in args or path.exists() or not path.suffix:
        return
    frame = load_sample(start=SAMPLE_START).reset_index()
    date_format = options.get("data.date_format")
    if date_format:
        frame["date"] = frame["date"].dt.strftime(date_format)
    columns = {
        "date": options.get("data.date_column", "date"),
        "ticker": options.get("data.ticker_column", "ticker"),
    }
    frame.rename(columns=columns).to_csv(path, index=False)


@pytest.mark.slow
@pytest.mark.parametrize("args", all_commands(), ids=lambda args: shlex.join(["stockml", *args]))
def test_command_runs_and_writes_its_results(args: list[str], tmp_path: Path, home: Path) -> None:
    if any("<" in token and ">" in token for token in args):
        pytest.skip("a <placeholder> needs an input this test does not know how to make")
    output_root = tmp_path / "out"
    args = [arg.replace("$HOME", str(home)) for arg in args]  # bash would expand it
    make_missing_data_file(args, tmp_path)
    write_readme_modules(README.read_text(), tmp_path)
    completed = run_stockml(
        tmp_path, *args, *fast_settings(args, output_root), env={"HOME": str(home)}
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    if args and args[0] in COMMANDS:
        return
    metrics = list(output_root.glob("**/metrics.json"))
    jobs = expected_jobs(args)
    if jobs is None:
        assert metrics
    else:
        assert len(metrics) == jobs, metrics
    if uses_optuna(args):
        assert list(output_root.glob("multiruns/*/*/optimization_results.yaml"))
