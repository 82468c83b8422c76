"""Hydra's sweep grammar as Optuna distributions, and trial params back as overrides."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from stockml.tuning.search_space import (
    SearchSpaceError,
    build_search_space,
    grid_points,
    grid_size,
    render_value,
)


@pytest.mark.parametrize(
    ("grammar", "expected"),
    [
        ("choice(a,b,c)", CategoricalDistribution(["a", "b", "c"])),
        ("a,b,c", CategoricalDistribution(["a", "b", "c"])),
        ("choice(1,2.5,true)", CategoricalDistribution([1, 2.5, True])),
        ("choice('1',2)", CategoricalDistribution(["1", 2])),
        ("range(1,5)", IntDistribution(1, 4)),
        ("range(0,10,3)", IntDistribution(0, 9, step=3)),
        ("range(1,10,3)", IntDistribution(1, 7, step=3)),
        ("range(5,1,-1)", IntDistribution(2, 5)),
        ("range(4)", IntDistribution(0, 3)),
        ("tag(log, range(1,9))", IntDistribution(1, 8, log=True)),
        ("range(0.1,1.0,0.1)", FloatDistribution(0.1, 0.9, step=0.1)),
        ("range(0,1,0.25)", FloatDistribution(0.0, 0.75, step=0.25)),
        ("interval(0,1)", FloatDistribution(0.0, 1.0)),
        ("interval(-2.5,3)", FloatDistribution(-2.5, 3.0)),
        ("tag(log, interval(1e-4, 1))", FloatDistribution(1e-4, 1.0, log=True)),
        ("int(interval(1,10))", IntDistribution(1, 10)),
        ("tag(log, int(interval(1,100)))", IntDistribution(1, 100, log=True)),
        ("tag(note, interval(0,1))", FloatDistribution(0.0, 1.0)),
    ],
)
def test_grammar_maps_to_distribution(grammar: str, expected: object) -> None:
    space = build_search_space({"p": grammar}, [])
    assert space.distributions == {"p": expected}
    assert space.fixed == ()


@pytest.mark.parametrize(
    ("grammar", "message"),
    [
        ("range(3,3)", "empty range"),
        ("range(0.5,0.5,0.1)", "empty range"),
        ("tag(log, range(0,1,0.1))", "log"),
        ("tag(log, range(1,10,2))", "log"),
        ("tag(log, interval(0,1))", "log"),
        ("tag(log, choice(1,2))", "tag(log) needs a range or an interval"),
        ("interval(2,1)", "interval start is after its end"),
        ("choice(1,", "bad sweep override"),
        ("range(a,b)", "bad sweep override"),
    ],
)
def test_bad_grammar_names_the_override(grammar: str, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_search_space({"p": grammar}, [])


@pytest.mark.parametrize(
    ("grammar", "values"),
    [
        ("range(1,5)", [1, 2, 3, 4]),
        ("range(5,1,-2)", [3, 5]),
        ("range(0.1,0.5,0.1)", [0.1, 0.2, 0.3, 0.4]),
        ("choice(x,y)", ["x", "y"]),
        ("int(interval(2,4))", [2, 3, 4]),
    ],
)
def test_grid_enumerates_hydras_values(grammar: str, values: list[object]) -> None:
    assert build_search_space({"p": grammar}, []).grid() == {"p": values}


def test_grid_refuses_a_continuous_interval_with_a_clear_message() -> None:
    space = build_search_space({"a": "choice(1,2)", "lr": "interval(0,1)"}, [])
    with pytest.raises(SearchSpaceError, match="finite set of values for 'lr'"):
        space.grid()


def test_command_line_wins_over_params_and_plain_values_stay_fixed() -> None:
    space = build_search_space(
        {"x": "interval(0,1)", "model": "ridge", "y": "range(1,3)"},
        ["x=interval(5,6)", "+extra=3", "model=lasso", "z=a,b"],
    )
    assert space.distributions == {
        "y": IntDistribution(1, 2),
        "x": FloatDistribution(5.0, 6.0),
        "z": CategoricalDistribution(["a", "b"]),
    }
    assert space.fixed == ("+extra=3", "model=lasso")


def test_overrides_pass_choices_back_as_written() -> None:
    """A quoted '1' stays a string and a list stays a list when the job parses its overrides."""
    space = build_search_space({"s": "choice('1', 'a b', [1,'2'])", "n": "range(1,3)"}, ["+k=v"])
    assert space.overrides({"s": "1", "n": 2}) == ["s='1'", "n=2", "+k=v"]
    assert space.overrides({"s": "[1,'2']", "lr": 1e-05}) == ["s=[1,'2']", "lr=1e-05", "+k=v"]
    assert space.overrides({"s": "a b"})[0] == "s='a b'"


@pytest.mark.parametrize(
    "value", ["plain", "a b", "1", "true", "null", "inf", "it's", "a,b", "", 3, 2.5, 1e-7, True]
)
def test_render_value_round_trips_through_hydras_parser(value: object) -> None:
    parsed = OverridesParser.create().parse_override(f"k={render_value(value)}").value()
    assert parsed == value
    assert type(parsed) is type(value)


def test_grid_points_count_distinct_points_inside_the_grid() -> None:
    grid = {"c": ["a", "b"], "n": [1, 2, 3]}
    assert grid_size(grid) == 6
    trials = [{"c": "a", "n": 1}, {"c": "a", "n": 1}, {"c": "b", "n": 3}, {"c": "z", "n": 1}, {}]
    assert grid_points(trials, grid) == {("a", 1), ("b", 3)}
