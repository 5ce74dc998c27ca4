"""The main window: sections, the register and the audit log, driven with real widgets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTableView,
)
from pytestqt.qtbot import QtBot

from ijs_vetting.config import write_station_file
from ijs_vetting.gui.app import make_app, start_retention
from ijs_vetting.gui.log_view import LogDialog
from ijs_vetting.gui.main_window import SECTIONS, MainWindow
from ijs_vetting.logs import setup_logging
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import devices
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import roster
from tests.query_count import count_statements

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


def _go(qtbot: QtBot, window: MainWindow, section: str) -> None:
    qtbot.keyClick(
        window, Qt.Key(Qt.Key.Key_1 + SECTIONS.index(section)), Qt.KeyboardModifier.ControlModifier
    )
    assert window.findChild(QListWidget, "navigation").currentRow() == SECTIONS.index(section)
    page = window.pages.currentWidget()
    qtbot.waitUntil(lambda: not getattr(page, "loading", False), timeout=30_000)


def test_children_page_lists_the_register(qtbot: QtBot, window: MainWindow) -> None:
    _go(qtbot, window, "children")
    table = window.findChild(QTableView, "childrenTable")
    assert sorted(_visible_ids(table)) == ["A123", "B456", "C789"]
    headers = [
        table.model().headerData(c, Qt.Orientation.Horizontal)
        for c in range(table.model().columnCount())
    ]
    assert headers[:5] == ["Id", "Name", "Year", "Class", "Twitter"]
    assert window.counts.text().startswith("To review: 0")


def test_search_year_and_consent_filters(qtbot: QtBot, window: MainWindow) -> None:
    _go(qtbot, window, "children")
    table = window.findChild(QTableView, "childrenTable")
    search = window.findChild(QLineEdit, "childrenSearch")
    qtbot.keyClicks(search, "millie")
    assert _visible_ids(table) == ["A123"]
    search.clear()
    year = window.findChild(QComboBox, "childrenYear")
    year.setCurrentIndex(year.findText("Reception"))
    assert _visible_ids(table) == ["C789"]
    year.setCurrentIndex(0)
    consent = window.findChild(QComboBox, "childrenConsent")
    consent.setCurrentIndex(consent.findText("Twitter: no or not recorded"))
    assert _visible_ids(table) == ["B456"]
    consent.setCurrentIndex(0)
    biometric = window.findChild(QComboBox, "childrenBiometric")
    biometric.setCurrentIndex(biometric.findText("Face matching allowed"))
    assert _visible_ids(table) == ["A123"]
    assert window.findChild(QCheckBox, "childrenOnRoll").isChecked()


def test_keyboard_navigation_to_the_audit_log(qtbot: QtBot, window: MainWindow) -> None:
    _go(qtbot, window, "audit")
    assert window.pages.currentWidget() is window.audit_page
    table = window.findChild(QTableView, "auditTable")
    model = table.model()
    assert model.headerData(2, Qt.Orientation.Horizontal) == "Station"
    actions = [model.index(r, 3).data() for r in range(model.rowCount())]
    assert "roster.import" in actions
    assert {model.index(r, 2).data() for r in range(model.rowCount())} == {window.station.name}
    qtbot.keyClicks(window.findChild(QLineEdit, "auditSearch"), "no-such-thing")
    qtbot.waitUntil(lambda: table.model().rowCount() == 0)  # searched once typing pauses


def test_hidden_sections_load_nothing_until_shown(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, roster_file: Path
) -> None:
    """A school's four years made every action reload all five sections (issue 15): only the
    section in view loads; another one loads when it is opened, with what changed meanwhile."""
    make_app()
    roster.import_roster(sqlite_station, admin, roster_file)
    with count_statements(sqlite_station.engine) as counted:
        win = MainWindow(sqlite_station, admin)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        win.refresh()  # what every action ends with
        qtbot.wait(50)
    assert win.pages.currentWidget() is win.review_page
    assert not counted.matching("FROM audit_entries"), "the hidden Audit page was loaded"
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    _go(qtbot, win, "audit")
    assert win.pages.currentWidget() is win.audit_page
    assert "audit" in win._loaded  # opened: loaded now


def test_the_log_is_readable_in_the_app(qtbot: QtBot, window: MainWindow) -> None:
    logger = logging.getLogger("ijs_vetting")
    before = list(logger.handlers)
    setup_logging(window.station.paths)
    try:
        logging.getLogger("ijs_vetting.test").warning("a line for IT support")
        for handler in logger.handlers:
            handler.flush()
        window.show_log()
        dialog = window.findChild(LogDialog)
        assert dialog is not None
        assert "a line for IT support" in dialog.findChild(QPlainTextEdit).toPlainText()
    finally:
        for handler in set(logger.handlers) - set(before):
            logger.removeHandler(handler)
            handler.close()


def test_retention_runs_in_the_background_for_an_admin(qtbot: QtBot, window: MainWindow) -> None:
    start_retention(window)

    def audited() -> None:
        assert audit.list_audit(window.station, action="retention")

    qtbot.waitUntil(audited, timeout=30_000)


def test_another_stations_change_shows_in_the_section_in_view(
    qtbot: QtBot, window: MainWindow, admin: Actor, tmp_path: Path
) -> None:
    """The title names the station; a write on another station (another home on the same
    database) reloads the section in view at the next look, the station's own writes do not."""
    assert window.station.name in window.windowTitle()
    _go(qtbot, window, "audit")
    table = window.findChild(QTableView, "auditTable")
    with qtbot.waitSignal(window.watch.timer.timeout, timeout=10_000):
        pass  # the first look: where the register stands
    qtbot.waitUntil(lambda: window.watch._seen is not None, timeout=10_000)
    shown = table.model().rowCount()
    with qtbot.assertNotEmitted(window.watch.changed, wait=100):
        devices.add_device(window.station, admin, "Office iPad", "Apple", "iPad")
        window.watch.poll()
        qtbot.waitUntil(lambda: not window.watch._job.running, timeout=10_000)
    assert table.model().rowCount() == shown  # its own write: no reload
    write_station_file(tmp_path / "deputy", name="DEPUTY")
    other = open_station(str(tmp_path / "deputy"), url=str(window.station.engine.url))
    try:
        devices.add_device(other, admin, "Deputy iPad", "Apple", "iPad Air")
    finally:
        other.close()
    with qtbot.waitSignal(window.watch.changed, timeout=10_000):
        window.watch.poll()
    qtbot.waitUntil(lambda: table.model().rowCount() == shown + 2, timeout=10_000)
    newest = [table.model().index(r, 2).data() for r in range(table.model().rowCount())]
    assert "DEPUTY" in newest  # the entry signed by the other station
