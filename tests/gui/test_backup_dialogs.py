"""Admin > Backup… and Restore…, and the reminder at start, with real widgets and services."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.backup_dialogs import BackupDialog, remind_backup
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.privacy import backup
from ijs_vetting.services.register import children, consent, roster

pytestmark = pytest.mark.gui

PASSPHRASE = "a passphrase for the dialog"


def _fill(qtbot: QtBot, dialog: BackupDialog, archive: Path, passphrase: str) -> None:
    path = dialog.findChild(QLineEdit, "archivePath")
    path.clear()
    qtbot.keyClicks(path, str(archive))
    qtbot.keyClicks(dialog.findChild(QLineEdit, "passphrase"), passphrase)
    if not dialog.restoring:
        qtbot.keyClicks(dialog.findChild(QLineEdit, "confirmPassphrase"), passphrase)


def _start(qtbot: QtBot, dialog: BackupDialog) -> None:
    button = dialog.findChild(QDialogButtonBox, "buttons").button(
        QDialogButtonBox.StandardButton.Ok
    )
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _consent(station: Station, mis_id: str) -> bool | None:
    child = next(c for c in children.list_children(station) if c.mis_id == mis_id)
    return child.consents["twitter"]


def test_back_up_then_restore_from_the_admin_menu(
    qtbot: QtBot, sqlite_station: Station, roster_file: Path, tmp_path: Path
) -> None:
    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    roster.import_roster(sqlite_station, admin, roster_file)
    window = QMainWindow()
    qtbot.addWidget(window)

    dialog = BackupDialog(sqlite_station, admin, restoring=False, parent=window)
    dialog.show()
    _fill(qtbot, dialog, tmp_path / "school.ijsbackup", PASSPHRASE)
    _start(qtbot, dialog)
    outcome = dialog.findChild(QLabel, "outcome")
    qtbot.waitUntil(lambda: outcome.text().startswith("Backed up to"), timeout=60_000)
    assert (tmp_path / "school.ijsbackup").is_file()
    assert backup.backup_reminder(sqlite_station) is None  # the backup is on the record
    dialog.close()

    consent.set_consent(sqlite_station, admin, "A123", "twitter", False)  # after the backup
    restoring = BackupDialog(sqlite_station, admin, restoring=True, parent=window)
    restoring.show()
    assert not restoring.findChild(QLineEdit, "confirmPassphrase").isVisible()
    _fill(qtbot, restoring, tmp_path / "school.ijsbackup", "not the right passphrase")
    _start(qtbot, restoring)
    qtbot.waitUntil(lambda: restoring.findChild(QMessageBox) is not None, timeout=60_000)
    assert "passphrase is wrong" in restoring.findChild(QMessageBox).text()
    assert _consent(sqlite_station, "A123") is False  # refused: nothing changed
    restoring.findChild(QMessageBox).close()
    restoring.findChild(QMessageBox).deleteLater()
    qtbot.waitUntil(lambda: restoring.findChild(QMessageBox) is None)

    restoring.findChild(QLineEdit, "passphrase").clear()
    qtbot.keyClicks(restoring.findChild(QLineEdit, "passphrase"), PASSPHRASE)
    _start(qtbot, restoring)
    qtbot.waitUntil(lambda: restoring.findChild(QMessageBox) is not None, timeout=60_000)
    assert "start it again" in restoring.findChild(QMessageBox).text()
    assert "audit chain verified" in restoring.findChild(QLabel, "outcome").text()
    sqlite_station.close()
    again = open_station(str(sqlite_station.paths.home), url=str(sqlite_station.engine.url))
    try:
        assert _consent(again, "A123") is True  # as it was backed up
    finally:
        again.close()


def test_the_reminder_at_start_is_for_admins(qtbot: QtBot, sqlite_station: Station) -> None:
    make_app()
    window = QMainWindow()
    qtbot.addWidget(window)
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    box = remind_backup(window, sqlite_station, admin)
    assert box is not None and "never been backed up" in box.text()
    assert remind_backup(window, sqlite_station, Actor("teacher", Role.STAFF)) is None
