"""A full disk met while the app is open, or a read-only data folder at its start: one dialog
in words, the register unchanged, and the same action works once the cause is put right. Real
faults: a small tmpfs filled up, a read-only bind mount (both need root; skipped without it)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.gui import app
from ijs_vetting.gui.admin_dialogs import UsersDialog
from ijs_vetting.gui.app import make_app
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Station, open_station
from tests.mounts import mounted, read_only

pytestmark = pytest.mark.gui


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB disk of its own."""
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a small tmpfs, which only root can mount")
    folder = tmp_path / "disk"
    folder.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)):
        yield folder


@pytest.fixture
def on_disk(disk: Path) -> Iterator[Station]:
    station = open_station(str(disk / "home"))
    yield station
    station.close()


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
    return filler


def _add_user(qtbot: QtBot, dialog: UsersDialog, name: str) -> list[str]:
    """Type a new user and press Add; the texts of the message boxes it opened."""
    before = set(dialog.findChildren(QMessageBox))
    dialog.findChild(QLineEdit, "newUsername").setText(name)
    dialog.findChild(QLineEdit, "newPassword").setText("a-long-password")
    qtbot.mouseClick(dialog.findChild(QPushButton, "addUserButton"), Qt.MouseButton.LeftButton)
    boxes = [box for box in dialog.findChildren(QMessageBox) if box not in before]
    texts = [box.text() for box in boxes if box.isVisible()]
    for box in boxes:
        box.close()
    return texts


def _names(station: Station, admin: users.Actor) -> list[str]:
    return [user.username for user in users.list_users(station, admin)]


def test_a_full_disk_is_one_dialog_and_clears_with_space(
    qtbot: QtBot, on_disk: Station, disk: Path
) -> None:
    make_app()
    admin = users.login(on_disk, "mrs.khan", "first-password")
    dialog = UsersDialog(on_disk, admin)
    qtbot.addWidget(dialog)
    dialog.show()
    filler = _fill(disk)

    (text,) = _add_user(qtbot, dialog, "mr.lee")
    assert "disk is full" in text and "Nothing was changed" in text
    assert "Traceback" not in text and "OperationalError" not in text

    filler.unlink()
    assert _names(on_disk, admin) == ["mrs.khan"]
    assert _add_user(qtbot, dialog, "mr.lee") == []
    assert _names(on_disk, admin) == ["mr.lee", "mrs.khan"]


def test_a_read_only_data_folder_at_start_is_one_dialog(
    qtbot: QtBot, disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder made read-only while the app runs does not stop it (SQLite keeps writing
    through the file it has open); the next start meets it."""
    home = disk / "home"
    open_station(str(home)).close()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _title, text: shown.append(text))
    with read_only(home):
        assert app.run_gui(str(home)) == 1
    (text,) = shown
    assert "read-only" in text and "Nothing was changed" in text
