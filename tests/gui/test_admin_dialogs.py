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
from ijs_vetting.services.core import users
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
