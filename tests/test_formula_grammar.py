"""The formula grammar: what parses (with its warm-up) and every refusal, with its message."""

from __future__ import annotations

import re

import pytest

from stockml.features import FeatureBuilder
from stockml.features.formulas import OPERATORS, compile_formulas
from stockml.features.registry import FAMILIES
from stockml.messages import InputError

# The `minimal` preset's features, so formulas may read e.g. ret_lag_1 (warm-up 1).
PRESET = FAMILIES["returns"].features({"lags": [1, 2], "windows": [20]})


def _warmup(text: str) -> int:
    (formula,) = compile_formulas({"f": text}, PRESET)
    return formula.warmup


# Hand-derived: delay/delta(n) add n; ts_* and ema windows add n - 1; cross-sectional and
# element-wise operators add 0; a preset input brings its own (ret_lag_2: 2); nesting adds and
# arithmetic takes the larger side.
WARMUPS = [
    ("close", 0),
    ("3.5", 0),
    ("-volume", 0),
    ("(high - low) / close", 0),
    ("log(close) * abs(sign(open - close))", 0),
    ("sqrt(volume) + clip(close, 1, 2)", 0),
    ("delay(close, 5)", 5),
    ("delta(close, 1)", 1),
    ("ts_mean(close, 20)", 19),
    ("ts_std(close, 2)", 1),
    ("ts_sum(volume, 1)", 0),
    ("ts_min(low, 10) + ts_max(high, 12)", 11),
    ("ts_rank(close, 5)", 4),
    ("ts_corr(close, delay(volume, 2), 10)", 11),
    ("ema(close, 10)", 9),
    ("ema(delta(close, 3), 4)", 6),
    ("ts_mean(delta(close, 3), 10)", 12),
    ("cs_rank(close / delay(close, 20) - 1)", 20),
    ("cs_zscore(ts_std(close, 20))", 19),
    ("cs_demean(close)", 0),
    ("ret_lag_1", 1),
    ("ts_sum(ret_lag_2, 5)", 6),
    ("roc_20 - cs_rank(ret_lag_1)", 20),
    ("clip(delay(close, 3), 0, ts_max(close, 7))", 6),
    ("delay(ts_mean(ema(close, 3), 4), 2)", 2 + 3 + 2),
    ("+close", 0),
    (" close\n/ open ", 0),
]


@pytest.mark.parametrize(("text", "warmup"), WARMUPS)
def test_valid_formulas_parse_with_the_warmup_of_their_operators(text: str, warmup: int) -> None:
    assert _warmup(text) == warmup


# (formula, the message after "formula 'f' = '<text>', column <c>: ")
REFUSALS = [
    (
        "clsoe + 1",
        1,
        "unknown name 'clsoe' (did you mean 'close'?); valid names: open, high, "
        "low, close, volume, ret_lag_1, ret_lag_2, roc_20",
    ),
    ("close + ret_lg_1", 9, "unknown name 'ret_lg_1' (did you mean 'ret_lag_1'?)"),
    (
        "ts_maen(close, 5)",
        1,
        "unknown operator 'ts_maen' (did you mean 'ts_mean'?); valid "
        "operators: log, abs, sign, sqrt, clip, delay, delta, ts_mean",
    ),
    ("os.system('ls')", 1, "only operators can be called"),
    ("__import__('os')", 1, "unknown operator '__import__'"),
    ("close.real", 1, "attribute access is not supported"),
    ("close[0]", 1, "indexing is not supported"),
    ("close > open", 1, "comparison is not supported"),
    ("close and open", 1, "'and'/'or' is not supported"),
    ("close if open else low", 1, "'if' expression is not supported"),
    ("(lambda: 1)()", 1, "only operators can be called"),
    ("close ** 2", 1, "'**' is not supported"),
    ("close % 2", 1, "'%' is not supported"),
    ("~close", 1, "'~' is not supported"),
    ("'close'", 1, "'close' is not a number; only numbers may be literals"),
    ("True + close", 1, "True is not a number"),
    ("[close]", 1, "List is not supported"),
    ("ts_mean", 1, "'ts_mean' is an operator; call it as ts_mean(x, n)"),
    ("ts_mean(close, n=5)", 16, "ts_mean: arguments are positional only"),
    ("ts_mean(close)", 1, "ts_mean(x, n) takes 2 arguments, got 1"),
    ("log(close, 2)", 1, "log(x) takes 1 arguments, got 2"),
    ("ts_corr(close, 5)", 1, "ts_corr(x, y, n) takes 3 arguments, got 2"),
    (
        "delay(close, -1)",
        14,
        "delay(x, n): n must be an integer literal >= 1, got -1 (a negative lag reads future bars)",
    ),
    ("delta(close, -5)", 14, "got -5 (a negative lag reads future bars)"),
    ("delay(close, 0)", 14, "delay(x, n): n must be an integer literal >= 1, got 0"),
    ("ts_mean(close, 0)", 16, "ts_mean(x, n): n must be an integer literal >= 1, got 0"),
    ("ts_std(close, 1)", 15, "ts_std(x, n): n must be an integer literal >= 2, got 1"),
    ("ts_rank(close, 1)", 16, "n must be an integer literal >= 2, got 1"),
    ("ts_corr(close, open, 1)", 22, "n must be an integer literal >= 2, got 1"),
    ("ts_mean(close, 2.5)", 16, "ts_mean(x, n): n must be an integer literal >= 1, got 2.5"),
    ("ema(close, True)", 12, "ema(x, n): n must be an integer literal >= 1, got True"),
    (
        "delay(close, volume)",
        14,
        "n must be an integer literal >= 1 (a window computed from data could read ahead)",
    ),
    ("delay(close, 2 + 3)", 14, "(a window computed from data could read ahead)"),
    ("close +", None, "invalid syntax"),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "column", "message"), REFUSALS)
def test_refusals_are_one_line_and_say_where(text: str, column: int | None, message: str) -> None:
    with pytest.raises(InputError) as caught:
        compile_formulas({"f": text}, PRESET)
    error = str(caught.value)
    assert "\n" not in error
    if not text:
        assert error == "formula 'f': expected a formula string, got ''"
        return
    prefix = f"formula 'f' = {text!r}, column "
    assert error.startswith(prefix), error
    if column is not None:
        assert error.startswith(f"{prefix}{column}: "), error
    assert message in error, error


@pytest.mark.parametrize(
    ("expressions", "message"),
    [
        ({"ret_lag_1": "close"}, "formula 'ret_lag_1': the name is already a preset feature"),
        ({"close": "open"}, "formula 'close': the name is already a price column"),
        ({"f": 3}, "formula 'f': expected a formula string, got 3"),
        (["close"], "expressions must map column name -> formula, got ['close']"),
        ({"": "close"}, "a formula name must be a non-empty string, got ''"),
    ],
)
def test_bad_expression_mappings_are_refused(expressions: object, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        compile_formulas(expressions, PRESET)  # type: ignore[arg-type]


def test_the_builder_refuses_a_formula_named_like_its_preset_feature() -> None:
    builder = FeatureBuilder(preset="minimal", expressions={"rsi_14": "close"})
    with pytest.raises(InputError, match="'rsi_14': the name is already a preset feature"):
        builder.feature_names()


def test_every_operator_has_a_signature_and_summary() -> None:
    assert set(OPERATORS) >= {
        "log", "abs", "sign", "sqrt", "clip", "delay", "delta", "ts_mean", "ts_std", "ts_sum",
        "ts_min", "ts_max", "ts_rank", "ts_corr", "ema", "cs_rank", "cs_zscore", "cs_demean",
    }  # fmt: skip
    assert OPERATORS["ts_corr"].signature == "ts_corr(x, y, n)"
    assert OPERATORS["clip"].signature == "clip(x, lo, hi)"
    assert all(operator.summary for operator in OPERATORS.values())
