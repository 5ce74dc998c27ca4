"""The main window opens on a station and shows the register and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QListWidget, QTableView
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.main_window import SECTIONS, MainWindow
from ijs_vetting.services import roster
from ijs_vetting.services.station import Actor, Station

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot: QtBot, sqlite_station: Station, admin: Actor, roster_file: Path) -> MainWindow:
    make_app()
    roster.import_roster(sqlite_station, admin, roster_file)
    win = MainWindow(sqlite_station, admin)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def _visible_ids(table: QTableView) -> list[str]:
    model = table.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_children_page_lists_the_register(window: MainWindow) -> None:
    table = window.findChild(QTableView, "childrenTable")
    assert window.pages.currentWidget().objectName() == "childrenPage"
    assert sorted(_visible_ids(table)) == ["A123", "B456", "C789"]
    headers = [
        table.model().headerData(c, Qt.Orientation.Horizontal)
        for c in range(table.model().columnCount())
    ]
    assert headers[:5] == ["Id", "Name", "Year", "Class", "Twitter"]
    assert "children on roll" in window.counts.text()
    assert window.counts.text().startswith("3 children on roll · 2 with Twitter consent")


def test_search_and_year_filter(qtbot: QtBot, window: MainWindow) -> None:
    table = window.findChild(QTableView, "childrenTable")
    qtbot.keyClicks(window.findChild(QLineEdit, "childrenSearch"), "millie")
    assert _visible_ids(table) == ["A123"]
    window.findChild(QLineEdit, "childrenSearch").clear()
    year = window.findChild(QComboBox, "childrenYear")
    year.setCurrentIndex(year.findText("Reception"))
    assert _visible_ids(table) == ["C789"]
    assert window.findChild(QCheckBox, "childrenOnRoll").isChecked()


def test_keyboard_navigation_to_the_audit_log(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(QListWidget, "navigation").currentRow() == SECTIONS.index("audit")
    assert window.pages.currentWidget().objectName() == "auditPage"
    table = window.findChild(QTableView, "auditTable")
    actions = [table.model().index(r, 2).data() for r in range(table.model().rowCount())]
    assert "roster.import" in actions
