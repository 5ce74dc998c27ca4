"""Fixtures for the GUI tests: one demo school per module (the engine runs once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from ijs_vetting import demo
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.core.station import Station, open_station
from tests.gui.review_world import ADMIN, open_window


@pytest.fixture(scope="module")
def demo_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    """One demo school per module; tests change different photos."""
    home = tmp_path_factory.mktemp("demo-home")
    station = open_station(str(home), url=f"sqlite:///{home / 'station.db'}")
    demo.load_demo(station, ADMIN, home / "demo")
    yield station
    station.close()


@pytest.fixture
def window(qtbot: QtBot, demo_station: Station) -> MainWindow:
    return open_window(qtbot, demo_station, ADMIN)
