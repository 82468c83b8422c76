"""The report's figures and page, from synthetic evaluation documents (no browser, no MLflow).

Numbers drawn are checked against an independent computation from the document (numpy, not
the pandas the figures use), so a wrong compounding or a shifted series fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import plotly.graph_objects as go
import pytest
import yaml
from report_documents import synthetic_document

from stockml.reporting.board_figures import leaderboard_figure
from stockml.reporting.cli import main
from stockml.reporting.page import Note, Section, figure_count, render_page
from stockml.reporting.run_figures import (
    MAX_FEATURES_SHOWN,
    cumulative_ic_figure,
    drawdown_figure,
    equity_figure,
    forecast_figure,
    importance_figure,
)
from stockml.reporting.run_report import CV_LABEL, run_sections
from stockml.reporting.sources import sweep_study
from stockml.sweep_files import MULTIRUN_FILE, RESULTS_FILE

FIGURES_PER_PERIOD = 6


def _returns(values: list[float | None]) -> np.ndarray:
    return np.array([0.0 if v is None else v for v in values])


def test_equity_curves_compound_the_daily_returns() -> None:
    daily = synthetic_document()["holdout"]["daily"]
    figure = equity_figure(daily, "holdout")
    by_name = {trace.name: trace for trace in figure.data}
    for key, name in (("gross", "gross"), ("net", "net of costs"), ("benchmark", "benchmark")):
        expected = np.cumprod(1.0 + _returns(daily[key]))
        np.testing.assert_allclose(np.asarray(by_name[name].y, dtype=float), expected)
    assert np.asarray(by_name["gross"].x).dtype.kind == "M"  # dates, so plotly draws a date axis


def test_drawdown_is_the_loss_from_the_running_peak() -> None:
    daily = synthetic_document(seed=3)["holdout"]["daily"]
    net = np.cumprod(1.0 + _returns(daily["net"]))
    expected = net / np.maximum.accumulate(net) - 1.0
    (trace,) = [t for t in drawdown_figure(daily, "x").data if t.name == "net of costs"]
    np.testing.assert_allclose(np.asarray(trace.y, dtype=float), expected)
    assert expected.min() < 0.0  # the check is not vacuous


def test_cumulative_ic_skips_undefined_dates() -> None:
    ic = synthetic_document(seed=5)["holdout"]["ic_by_date"]
    ic["ic"][3] = None  # IC of a date whose forecasts were all equal
    (trace,) = [t for t in cumulative_ic_figure(ic, "x").data if t.name == "IC"]
    np.testing.assert_allclose(np.asarray(trace.y, dtype=float), np.cumsum(_returns(ic["ic"])))


def test_forecast_density_counts_every_sampled_pair() -> None:
    period = synthetic_document(n_sample=500)["holdout"]
    (density,) = forecast_figure(period, "x").data
    sample = period["forecast_vs_realised"]
    assert density.type == "histogram2d"
    np.testing.assert_array_equal(np.asarray(density.x), sample["prediction"])
    np.testing.assert_array_equal(np.asarray(density.y), sample["y_true"])
    assert "500 sampled pairs" in forecast_figure(period, "x").layout.title.text


def test_importance_shows_the_largest_features_by_size() -> None:
    document = synthetic_document(n_features=MAX_FEATURES_SHOWN + 10)
    importance = document["feature_importance"]
    assert importance is not None
    (bars,) = importance_figure(importance).data
    sizes = sorted(np.abs(importance["importance"]))
    assert len(bars.y) == MAX_FEATURES_SHOWN
    assert sorted(np.abs(bars.x)) == pytest.approx(sizes[-MAX_FEATURES_SHOWN:])
    assert abs(bars.x[-1]) == pytest.approx(sizes[-1])  # drawn last: at the top


def test_a_run_shows_holdout_and_cv_then_folds_and_features() -> None:
    sections = run_sections(synthetic_document(), "run")
    assert [s.title for s in sections] == ["run", "holdout", CV_LABEL, "CV folds", "features"]
    assert figure_count(sections) == 2 * FIGURES_PER_PERIOD + 2


def test_a_run_without_cv_predictions_says_so() -> None:
    sections = run_sections(synthetic_document(cv=False), "run")
    (cv,) = [s for s in sections if s.title == CV_LABEL]
    assert cv.blocks == [Note("No fold produced a prediction.")]
    assert figure_count(sections) == FIGURES_PER_PERIOD + 2


def test_the_page_inlines_plotly_js_once_and_loads_nothing() -> None:
    sections = run_sections(synthetic_document(), "<run & co>")
    page = render_page("<report>", sections)
    assert len(re.findall(r"plotly\.js v\d", page)) == 1  # the library's banner, once
    assert page.count('class="plotly-graph-div"') == figure_count(sections)
    assert not re.search(r"<script[^>]+src=", page)  # offline: no CDN, no other file
    assert "<run & co>" not in page and "&lt;run &amp; co&gt;" in page


def test_leaderboard_figure_puts_cv_error_bars_beside_the_holdout() -> None:
    board = pd.DataFrame(
        {
            "run_name": ["b", "a"],
            "cv_ic_mean": [0.05, 0.03],
            "cv_ic_std": [0.01, 0.02],
            "test_ic": [0.04, 0.01],
            "baseline_test_ic": [np.nan, np.nan],  # the zero forecast has no IC: not drawn
            "last_return_test_ic": [-0.01, -0.01],
        }
    )
    figure = leaderboard_figure(board, "ic")
    cv, *others = figure.data
    assert list(cv.x) == ["b", "a"] and list(cv.error_y.array) == [0.01, 0.02]
    assert [t.name for t in others] == ["holdout", "last-return baseline, holdout"]


def _sweep_dir(tmp_path: Path, storage: str, metric: object = "cv_ic_mean") -> Path:
    sweep = tmp_path / "outputs" / "multiruns" / "day" / "time"
    sweep.mkdir(parents=True)
    (sweep / RESULTS_FILE).write_text(yaml.safe_dump({"name": "s"}))
    snapshot = {
        "hydra": {"sweeper": {"storage": storage}, "runtime": {"cwd": str(tmp_path)}},
        "paths": {"output_root": "outputs"},
        "optimized_metric": metric,
    }
    (sweep / MULTIRUN_FILE).write_text(yaml.safe_dump(snapshot))
    return sweep


def test_a_sweeps_study_is_found_from_where_the_sweep_started(tmp_path: Path) -> None:
    database = tmp_path / "outputs" / "optuna.db"
    database.parent.mkdir(parents=True)
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{database}",
                                direction="maximize")  # fmt: skip
    study.optimize(lambda t: t.suggest_float("alpha", 0.0, 1.0), n_trials=3)
    # relative to the sweep's start directory, as a preset writes it, not to this process's
    sweep = _sweep_dir(tmp_path, "sqlite:///${paths.output_root}/optuna.db")
    found = sweep_study(sweep)
    assert not isinstance(found, str), found
    loaded, names = found
    assert names == ["cv_ic_mean"] and len(loaded.trials) == 3


def test_a_sweep_without_a_study_gives_a_note(tmp_path: Path) -> None:
    assert "not an Optuna sweep" in str(sweep_study(tmp_path))
    missing = _sweep_dir(tmp_path, "sqlite:///${paths.output_root}/optuna.db")
    assert "does not exist" in str(sweep_study(missing))


def test_study_figures_are_optunas_plotly_figures() -> None:
    from stockml.reporting.study_figures import study_figures

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("a", 0, 1) + t.suggest_float("b", 0, 1) / 9,
                   n_trials=8)  # fmt: skip
    figures = study_figures(study, ["cv_ic_mean"])
    assert len(figures) == 3 and all(isinstance(f, go.Figure) for f in figures)
    assert "Optimization History" in figures[0].layout.title.text


def test_bad_top_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--top", "-1", "--html", "x.html"])
    assert exited.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.endswith("--top must be 0 or more, got -1")


def test_a_page_of_sections_without_figures_still_renders() -> None:
    page = render_page("t", [Section("s", [Note("nothing to draw")])])
    assert "nothing to draw" in page and 'class="plotly-graph-div"' not in page
