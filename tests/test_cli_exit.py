"""`stockml.cli.main` after a run: garbage collected as before, the rest hidden from the
collections the interpreter runs while it exits."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

import stockml.cli as cli


class _Node:
    cycle: _Node


def test_a_finished_run_collects_its_garbage_and_freezes_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    garbage: list[weakref.ref[_Node]] = []

    def run() -> None:  # stands in for Hydra's run: leaves a reference cycle behind
        node = _Node()
        node.cycle = node
        garbage.append(weakref.ref(node))

    monkeypatch.setattr(cli, "hydra_entry", run)
    monkeypatch.setattr(sys, "argv", ["stockml"])
    gc.disable()  # no collection but main's own
    try:
        cli.main()
        assert garbage[0]() is None  # collected (and finalised), not frozen alive
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
