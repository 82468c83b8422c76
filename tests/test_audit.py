"""The look-ahead audit: a user-added feature that reads later bars is refused before a run
uses it, naming the first date that moved; causal ones (per ticker or cross-sectional) pass."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from hydra.utils import instantiate
from stockml_runs import FAST, run_stockml

from stockml.config import compose_config
from stockml.data import synthetic_panel
from stockml.data.schema import panel_dates
from stockml.dataset import build_modelling_data
from stockml.features import FeatureBuilder
from stockml.features.audit import (
    AuditResult,
    audit_features,
    audit_tags,
    require_causal,
    with_future_bars,
)
from stockml.features.audit_cli import main as audit_main
from stockml.lifecycle.rolling import rolling_retrain
from stockml.messages import InputError

USER_MODULE = Path(__file__).with_name("user_features.py")
README = Path(__file__).resolve().parents[1] / "README.md"
N_DAYS = 300
WARMUP = 20
SMALL = ["data=synthetic", "data.n_tickers=3", f"data.n_days={N_DAYS}", "features=minimal"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(3, N_DAYS, seed=11)


def sample_dates(panel: pd.DataFrame) -> pd.DatetimeIndex:
    """The audit's sample: the panel's first 200 dates past the warm-up (the `minimal`
    preset's 20 rows: a formula may read preset features, so its warm-up counts)."""
    return panel_dates(panel).unique()[: 200 + WARMUP]


def first_cut(panel: pd.DataFrame) -> pd.Timestamp:
    """Cuts at 1/3, 2/3 and the end of the 200 dates past the warm-up: the first at
    20 + round(199 / 3) = 86."""
    return sample_dates(panel)[86]


def audit(panel: pd.DataFrame, *paths: str) -> list[AuditResult]:
    return audit_features(FeatureBuilder(preset="minimal", custom=list(paths)), panel)


def test_causal_features_pass_per_ticker_and_cross_sectional(panel: pd.DataFrame) -> None:
    results = audit(
        panel,
        "user_features.overnight_gap",
        "user_features.gap_and_range",
        "user_features.volume_rank",
    )
    assert results == [
        AuditResult("overnight_gap", 1, None),
        AuditResult("gap", 0, None),
        AuditResult("range", 0, None),
        AuditResult("volume_rank", 0, None),
    ]


def test_reading_the_next_bar_moves_the_last_row_of_the_first_slice(panel: pd.DataFrame) -> None:
    # The next bar's close is unknown (NaN) at the first slice's last row until bars are
    # appended.
    (result,) = audit(panel, "user_features.tomorrow_return")
    assert result == AuditResult("tomorrow_return", 0, first_cut(panel))


@pytest.mark.parametrize("name", ["full_sample_zscore", "ungrouped_return"])
def test_whole_history_and_cross_ticker_leaks_move_the_first_date(
    panel: pd.DataFrame, name: str
) -> None:
    """A full-sample z-score moves every row; a shift over the long frame hands the second
    ticker's first row a close from the first ticker's end."""
    (result,) = audit(panel, f"user_features.{name}")
    assert result.moved == sample_dates(panel)[0]
    assert not result.causal


def test_the_audit_takes_the_columns_to_check(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(
        preset="minimal", custom=["user_features.gap_and_range", "user_features.tomorrow_return"]
    )
    results = audit_features(builder, panel, names=["tomorrow_return", "gap"])
    assert [(result.feature, result.causal) for result in results] == [
        ("tomorrow_return", False),
        ("gap", True),
    ]


def test_fit_refuses_a_leaking_feature_in_one_line_and_audit_false_lets_it_through(
    panel: pd.DataFrame,
) -> None:
    custom = ["user_features.overnight_gap", "user_features.tomorrow_return"]
    moved = first_cut(panel)
    message = (
        f"feature 'tomorrow_return' reads the future: its value on {moved:%Y-%m-%d} changed "
        "when later bars changed (look-ahead audit; features.audit=false skips it)"
    )
    with pytest.raises(InputError) as caught:
        FeatureBuilder(preset="minimal", custom=custom).fit(panel)
    assert str(caught.value) == message
    builder = FeatureBuilder(preset="minimal", custom=custom, audit=False).fit(panel)
    assert builder.user_feature_names() == ["overnight_gap", "tomorrow_return"]


def test_nothing_to_audit_without_user_features(panel: pd.DataFrame) -> None:
    builder = FeatureBuilder(preset="minimal")
    assert audit_features(builder, panel) == []
    require_causal(builder, panel)  # no error, nothing computed


def test_the_modelling_data_of_every_run_is_audited() -> None:
    """`build_modelling_data` (main runs, sweeps, jobs, retrain, promote) fits the builder."""
    leaking = "features.custom=[user_features.tomorrow_return]"
    with pytest.raises(InputError, match="feature 'tomorrow_return' reads the future"):
        build_modelling_data(compose_config([*SMALL, leaking]))
    data = build_modelling_data(compose_config([*SMALL, leaking, "features.audit=false"]))
    assert data.feature_names[-1] == "tomorrow_return"


def test_the_run_audits_development_dates_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a panel so short that the audit's sample (warm-up + 200 dates) would run into the
    holdout, the audit sees only the dates before the holdout's first, and still audits."""
    audited: list[pd.DataFrame] = []
    monkeypatch.setattr(
        "stockml.dataset.require_causal", lambda builder, panel: audited.append(panel)
    )
    short = [*SMALL[:2], "data.n_days=240", "features.custom=[user_features.tomorrow_return]"]
    data = build_modelling_data(compose_config(short))
    holdout_start = panel_dates(data.X_holdout).min()
    assert panel_dates(data.panel).unique().get_loc(holdout_start) < 200 + WARMUP
    (seen,) = audited
    assert panel_dates(seen).max() < holdout_start
    assert panel_dates(seen).max() >= panel_dates(data.X_dev).max()
    assert data.features.audit  # restored: the run's tag says the audit ran


def test_the_rolling_walk_forward_is_audited() -> None:
    """`rolling_retrain` builds its features apart from `build_modelling_data`: fitting the
    builder audits them too."""
    cfg = compose_config([*SMALL, "features.custom=[user_features.tomorrow_return]"])
    with pytest.raises(InputError, match="feature 'tomorrow_return' reads the future"):
        rolling_retrain(cfg, step=40)


def test_future_bars_leave_the_panel_rows_unchanged(panel: pd.DataFrame) -> None:
    extended = with_future_bars(panel, n_bars=7)
    pd.testing.assert_frame_equal(extended.loc[panel.index], panel)
    assert len(extended) == len(panel) + 3 * 7
    later = extended.drop(panel.index)
    last = panel_dates(panel).max()
    assert (panel_dates(later) > last).all()
    assert (later["close"].to_numpy() > 100 * panel["close"].max()).mean() > 0.5  # absurd


def test_a_single_ticker_frame_without_a_ticker_level_is_audited_too() -> None:
    """The builder reads a date-indexed frame as one ticker; so does the audit."""
    single = synthetic_panel(1, N_DAYS, seed=3).droplevel("ticker")
    causal = FeatureBuilder(preset="minimal", custom=["user_features.range_of_day"])
    leaking = FeatureBuilder(preset="minimal", custom=["user_features.next_close"])
    assert audit_features(causal, single)[0].causal
    assert audit_features(leaking, single)[0].moved == first_cut(single)


def test_audit_tags() -> None:
    assert audit_tags({"audit": False, "custom": []}) == {"feature_audit": "skipped"}
    assert audit_tags({"audit": True, "custom": ["m.f"]}) == {"feature_audit": "passed"}
    assert audit_tags({"audit": True, "custom": []}) == {}


def table_rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()[2:]]  # below the header and its rule


def test_audit_command_prints_a_table_and_fails_on_a_leak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    custom = "features.custom=[user_features.overnight_gap,user_features.tomorrow_return]"
    assert audit_main([*SMALL, custom]) == 1
    output = capsys.readouterr().out
    assert output.splitlines()[0].split() == ["FEATURE", "WARM-UP", "CAUSAL", "FIRST", "MOVED"]
    moved = first_cut(instantiate(compose_config(SMALL).data))
    assert table_rows(output) == [
        ["overnight_gap", "1", "yes", "-"],
        ["tomorrow_return", "0", "no", f"{moved:%Y-%m-%d}"],
    ]
    assert audit_main([*SMALL, "features.custom=[user_features.overnight_gap]"]) == 0
    assert table_rows(capsys.readouterr().out) == [["overnight_gap", "1", "yes", "-"]]


def test_audit_command_reports_a_bad_feature_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert audit_main([*SMALL, "features.custom=[no_such_module.feature]"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("stockml-audit: error: custom feature no_such_module.feature: ")


def test_every_formula_column_is_audited(panel: pd.DataFrame) -> None:
    """Formulas cannot read ahead (negative lags are refused when parsed), so what matters is
    that each formula column is among those the audit checks."""
    expressions = {"mom_rank": "cs_rank(close / delay(close, 20) - 1)", "gap": "open / close"}
    builder = FeatureBuilder(preset="minimal", expressions=expressions)
    results = audit_features(builder, panel)
    assert [(result.feature, result.causal) for result in results] == [
        ("mom_rank", True),
        ("gap", True),
    ]


def test_a_formula_whose_operator_reads_ahead_is_refused(
    panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grammar refuses negative lags, so a leaking formula needs a broken operator: with
    `delay` patched to read n bars ahead, the audit (not the parser) must stop the formula."""
    import dataclasses

    import numpy as np

    from stockml.features.formulas import parser

    def lead(data: object, x: object, window: int) -> np.ndarray:
        ahead = np.full_like(x.values, np.nan)
        ahead[:-window] = x.values[window:]
        return ahead

    leaking = {
        **parser.OPERATORS,
        "delay": dataclasses.replace(parser.OPERATORS["delay"], compute=lead),
    }
    monkeypatch.setattr(parser, "OPERATORS", leaking)
    builder = FeatureBuilder(preset="minimal", expressions={"peek": "close / delay(close, 1)"})
    (result,) = audit_features(builder, panel)
    assert result.feature == "peek" and result.moved == first_cut(panel)
    with pytest.raises(InputError, match=r"^feature 'peek' reads the future"):
        require_causal(builder, panel)


def test_the_audit_table_lists_formula_columns_beside_custom_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    formula = "+features.expressions.mom_rank='cs_rank(close / delay(close, 20) - 1)'"
    custom = "features.custom=[user_features.overnight_gap]"
    assert audit_main([*SMALL, formula, custom]) == 0
    assert table_rows(capsys.readouterr().out) == [
        ["mom_rank", "20", "yes", "-"],  # delay(close, 20): 20 rows undefined
        ["overnight_gap", "1", "yes", "-"],
    ]


@pytest.mark.slow
def test_stockml_audit_imports_the_users_module_from_the_launch_directory(
    tmp_path: Path,
) -> None:
    shutil.copyfile(USER_MODULE, tmp_path / "my_features.py")
    completed = run_stockml(
        tmp_path, "audit", *SMALL, "features.custom=[my_features.full_sample_zscore]"
    )
    assert completed.returncode == 1, completed.stderr
    assert table_rows(completed.stdout)[0][:3] == ["full_sample_zscore", "0", "no"]


def readme_transcripts() -> list[tuple[list[str], list[str]]]:
    """(arguments, printed lines) of each `$ stockml ...` transcript in the README's text
    blocks: the audit's refusal and its table, as the README shows them."""
    text = README.read_text()
    transcripts = []
    for block in re.findall(r"```text\n\$ stockml (.*?)```", text, flags=re.DOTALL):
        command, *lines = block.splitlines()
        transcripts.append((shlex.split(command), lines))
    return transcripts


def test_the_readme_shows_a_refusal_and_an_audit_table() -> None:
    commands = [arguments[0] for arguments, _ in readme_transcripts()]
    assert commands == ["features.custom=[myfeatures.tomorrow_return]", "audit"]


@pytest.mark.slow
@pytest.mark.parametrize(("arguments", "lines"), readme_transcripts())
def test_the_readme_transcripts_are_what_stockml_prints(
    tmp_path: Path, arguments: list[str], lines: list[str]
) -> None:
    """On the bundled sample, with the README's module (its leaking function included)."""
    shutil.copyfile(USER_MODULE, tmp_path / "myfeatures.py")
    completed = run_stockml(tmp_path, *arguments, "tracking.enabled=false")
    assert completed.returncode == 1
    assert (completed.stdout + completed.stderr).splitlines() == lines


@pytest.mark.slow
def test_a_run_without_the_audit_is_tagged_and_finds_its_module_after_chdir(
    tmp_path: Path,
) -> None:
    """`-P` keeps the launch directory off the import path, as the `stockml` console script
    does, and `hydra.job.chdir=true` moves the run away from it: the module is still found."""
    import subprocess
    import sys

    shutil.copyfile(USER_MODULE, tmp_path / "my_features.py")
    overrides = ["features.custom=[my_features.tomorrow_return]", "features.audit=false"]
    completed = subprocess.run(
        [sys.executable, "-P", "-m", "stockml", *FAST, *overrides, "hydra.job.chdir=true"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("stockml").experiment_id])
    assert run.data.tags["feature_audit"] == "skipped"
    assert run.data.params["features.audit"] == "False"
    assert "my_features.tomorrow_return" in run.data.params["features.custom"]


@pytest.mark.slow
def test_a_rolling_run_with_a_custom_feature_is_tagged_passed(tmp_path: Path) -> None:
    shutil.copyfile(USER_MODULE, tmp_path / "my_features.py")
    completed = run_stockml(
        tmp_path,
        "experiment=rolling_retrain",
        "rolling.step=60",
        "rolling.start=2011-06-01",
        "data.tickers=[AAPL,MSFT]",
        "data.start=2009-01-01",
        "data.end=2012-06-30",
        "features=minimal",
        "features.custom=[my_features.overnight_gap]",
        "store.enabled=false",
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/outputs/mlflow.db")
    experiment = client.get_experiment_by_name("rolling_retrain")  # the preset's experiment
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["feature_audit"] == "passed"
