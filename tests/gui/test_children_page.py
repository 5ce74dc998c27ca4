"""The Children & consent page: what it tells the admin after enrolling reference photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.children_page import ChildrenPage
from ijs_vetting.services.core.station import Actor, Station
from tests import privacy_world

pytestmark = pytest.mark.gui


def test_reference_results_name_the_child_from_the_register_shown(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reference photo with no face is reported by the child's name, not the UPN alone."""
    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    folder = tmp_path / "references"
    folder.mkdir()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(folder / "A123.jpg")
    page = ChildrenPage(
        sqlite_station, admin, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    page.findChild(QPushButton, "referencesButton").click()
    qtbot.waitUntil(lambda: page.findChild(QMessageBox) is not None, timeout=60_000)
    text = page.findChild(QMessageBox).text()
    assert "0 reference photos enrolled" in text
    assert "Amelia Smith (A123.jpg)" in text
