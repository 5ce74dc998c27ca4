"""Plain, role-aware words: who can is said before trying, one box per failure, names and file
names instead of ids, the first step on an empty station."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import PermissionDenied
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.main_window import SECTIONS, MainWindow
from ijs_vetting.gui.queue_page import item_photo
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import queue
from ijs_vetting.services.register import consent, roster
from tests import privacy_world
from tests.privacy_world import Face

pytestmark = pytest.mark.gui


def _window(qtbot: QtBot, station: Station, actor: Actor) -> MainWindow:
    make_app()
    window = MainWindow(station, actor)
    qtbot.addWidget(window)
    return window


def test_staff_are_told_who_can_before_trying(
    qtbot: QtBot, sqlite_station: Station, staff: Actor
) -> None:
    window = _window(qtbot, sqlite_station, staff)
    export = window.queue_page.findChild(QPushButton, "exportButton")
    assert not export.isEnabled()
    assert export.toolTip() == "Only SLT or an admin can export the queue."
    roster_button = window.children_page.findChild(QPushButton, "rosterButton")
    assert not roster_button.isEnabled()
    assert roster_button.toolTip() == "Only an admin can import a roster."
    assert "Admin" not in [a.text().replace("&", "") for a in window.menuBar().actions()]


def test_the_go_menu_reads_children_and_consent(
    qtbot: QtBot, sqlite_station: Station, admin: Actor
) -> None:
    window = _window(qtbot, sqlite_station, admin)
    go = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Go")
    assert "Children && consent" in [a.text() for a in go.actions()]  # shown "Children & consent"


def test_an_empty_station_says_what_to_do_first(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, staff: Actor, roster_file: Path
) -> None:
    assert "import a roster first" in _window(qtbot, sqlite_station, admin).hint.text()
    assert "an admin must import" in _window(qtbot, sqlite_station, staff).hint.text()
    roster.import_roster(sqlite_station, admin, roster_file)
    assert "No photos yet" in _window(qtbot, sqlite_station, admin).hint.text()


def test_one_box_for_one_failure(qtbot: QtBot) -> None:
    make_app()
    parent = QWidget()
    qtbot.addWidget(parent)
    refusal = PermissionDenied("Only SLT or an admin can clear photos.")
    show_error(parent, refusal, "clearing photos")
    show_error(parent, PermissionDenied(str(refusal)), "clearing photos")  # the same, again
    boxes = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
    assert [b.text() for b in boxes] == ["Only SLT or an admin can clear photos."]
    boxes[0].done(0)
    show_error(parent, refusal, "clearing photos")  # closed: a new failure is shown again
    assert len([b for b in parent.findChildren(QMessageBox) if b.isVisible()]) == 1


def test_queue_and_register_show_names_files_and_never_publish_in_red(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    privacy_world.school(sqlite_station, admin, tmp_path)
    photo = privacy_world.add_photo(sqlite_station, [Face("A123")])
    privacy_world.add_item(sqlite_station, photo, caption="Fair")
    consent.set_safeguarding(sqlite_station, admin, "C789", True, "court order")
    window = _window(qtbot, sqlite_station, admin)
    item = queue.list_queue(sqlite_station)[0]
    assert item_photo(item).startswith("IMG_") and item.shown_names == ("Amelia Smith",)
    window.navigation.setCurrentRow(SECTIONS.index("queue"))  # a section loads when shown
    qtbot.waitUntil(lambda: not window.queue_page.loading)
    model = window.queue_page.model
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert item_photo(item) in row and "Amelia Smith" in row
    window.navigation.setCurrentRow(SECTIONS.index("children"))
    qtbot.waitUntil(lambda: not window.children_page.loading, timeout=30_000)
    register = window.children_page.model
    column = register.headers().index("Never publish")
    zoe = next(r for r in range(register.rowCount()) if register.row(r).mis_id == "C789")
    index = register.index(zoe, column)
    assert register.data(index) == "NEVER PUBLISH"
    assert register.data(index, 9) == QColor("#a4262c")  # ForegroundRole: red, not green
