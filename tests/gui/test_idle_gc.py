"""Full garbage collections at idle moments (gui/idle_gc), never started by allocation."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from ijs_vetting.gui import idle_gc
from ijs_vetting.gui.app import make_app

pytestmark = pytest.mark.gui


@pytest.fixture
def thresholds() -> Iterator[None]:
    kept = gc.get_threshold()
    yield
    gc.set_threshold(*kept)


def test_generation_two_is_left_to_the_idle_collector(thresholds: None) -> None:
    young, middle, _ = gc.get_threshold()
    idle_gc.defer_full_collections()
    assert gc.get_threshold()[:2] == (young, middle)  # young collections as Python runs them
    assert gc.get_threshold()[2] >= 1_000_000


def test_it_collects_when_the_user_pauses_or_when_it_is_overdue(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    clock = [1000.0]
    monkeypatch.setattr(idle_gc.time, "monotonic", lambda: clock[0])
    idle, running = [0.0], [False]
    host = QObject()
    collector = idle_gc.IdleCollector(host, lambda: idle[0], lambda: running[0])
    clock[0] += 30
    _age_objects()
    assert not collector.maybe_collect()  # typing: never in the middle of it
    idle[0], running[0] = idle_gc.IDLE_SECONDS, True
    assert not collector.maybe_collect()  # an import or a clearing runs: not during it
    running[0] = False
    assert collector.maybe_collect() and collector.collections == 1
    assert gc.get_count()[2] == 0
    assert not collector.maybe_collect()  # idle still, but nothing new has grown old
    idle[0] = 0.0
    clock[0] += idle_gc.AT_LEAST_EVERY
    _age_objects()
    assert collector.maybe_collect() and collector.collections == 2  # overdue: even now


def _age_objects() -> None:
    """Objects surviving young collections, as a running station's do."""
    gc.collect(1)
    assert gc.get_count()[2] > 0
