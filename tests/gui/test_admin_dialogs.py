"""The admin's Users and Settings dialogs, with real widgets and the real services."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.admin_dialogs import SettingsDialog, UsersDialog
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.setting_labels import LABELS
from ijs_vetting.services.core import station_settings, users
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.settings import defaults

pytestmark = pytest.mark.gui


def test_adding_a_user(qtbot: QtBot, sqlite_station: Station) -> None:
    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    dialog = UsersDialog(sqlite_station, admin)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.findChild(QLineEdit, "newUsername"), "mr.lee")
    role = dialog.findChild(QComboBox, "newRole")
    role.setCurrentIndex(role.findText("SLT"))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "newPassword"), "lee-password")
    qtbot.mouseClick(dialog.findChild(QPushButton, "addUserButton"), Qt.MouseButton.LeftButton)
    table = dialog.findChild(QTableWidget, "usersTable")
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["mr.lee", "mrs.khan"]
    assert [table.item(r, 2).text() for r in range(table.rowCount())] == ["SLT", "Admin"]
    assert users.login(sqlite_station, "mr.lee", "lee-password").role is Role.SLT


def test_changing_a_setting_in_the_table(qtbot: QtBot, sqlite_station: Station) -> None:
    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    dialog = SettingsDialog(sqlite_station, admin)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.findChild(QTableWidget, "settingsTable")
    rows = {table.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(table.rowCount())}
    assert set(rows) == set(defaults()) == set(LABELS)  # every setting has its words
    row = rows["posting.caption_limit"]
    assert table.item(row, 0).text() == "Caption length limit (characters)"
    assert table.item(rows["sheets.reference_photos"], 1).text() == "no"
    with qtbot.waitSignal(dialog.changed):
        table.item(row, 1).setText("100")
    assert current(sqlite_station).caption_limit == 100


def test_a_value_out_of_bounds_is_refused_in_the_dialog(
    qtbot: QtBot, sqlite_station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed into the cell and Enter pressed: the dialog stays open, says under the table
    why (in the setting's words, not its key), and the value shown is the one in force."""
    from PySide6.QtWidgets import QLabel, QMessageBox

    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: boxes.append(box.text()) or 0)
    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    dialog = SettingsDialog(sqlite_station, admin)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.findChild(QTableWidget, "settingsTable")
    rows = {table.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(table.rowCount())}
    row = rows["faces.match_threshold"]
    table.setCurrentCell(row, 1)
    table.editItem(table.item(row, 1))
    editor = table.viewport().findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    error = dialog.findChild(QLabel, "settingError")
    qtbot.waitUntil(lambda: bool(error.text()))
    assert dialog.isVisible() and boxes == []
    said = error.text()
    assert "largest distance that counts" in said and "faces.match_threshold" not in said
    assert "between" in said
    in_force = station_settings.list_settings(sqlite_station)["faces.match_threshold"][0]
    qtbot.waitUntil(lambda: table.item(row, 1).text() == str(in_force))
    table.item(rows["posting.caption_limit"], 1).setText("100")  # a good value clears it
    qtbot.waitUntil(lambda: not error.text())
