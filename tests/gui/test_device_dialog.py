"""Admin > Devices: add, rename and retire a school device, and register a camera that
imported photos name, each through the dialog as an admin uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import PhotoStatus
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.device_dialog import DevicesDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, importing, photos
from tests import scenes

pytestmark = pytest.mark.gui


def _rows(dialog: DevicesDialog) -> list[tuple[str, ...]]:
    table = dialog.table
    return [
        tuple(table.item(r, c).text() for c in range(table.columnCount()))
        for r in range(table.rowCount())
    ]


@pytest.mark.slow  # the real engine vets the trip photo
def test_devices_are_added_renamed_retired_and_registered_from_a_photo(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_app()
    station = sqlite_station
    dialog = DevicesDialog(station, admin)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name, "iPad 3")
    qtbot.keyClicks(dialog.make, "Apple")
    qtbot.keyClicks(dialog.model, "iPad (9th generation)")
    qtbot.mouseClick(dialog.findChild(QPushButton, "addDeviceButton"), Qt.MouseButton.LeftButton)
    assert _rows(dialog) == [("iPad 3", "Apple", "iPad (9th generation)", "in use")]
    assert dialog.name.text() == ""

    dialog.table.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Year 5 iPad", True))
    dialog.rename()
    assert _rows(dialog)[0][0] == "Year 5 iPad"

    # A photo from a phone that is no school device waits in review, and its camera is listed.
    trip = tmp_path / "trip"
    trip.mkdir()
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    portrait = scenes.portrait(scenes.GRACE, 200).pixels
    scenes.write_jpeg(trip / "IMG_3001.JPG", portrait, exif=exif.tobytes())
    importing.import_folder(station, admin, trip, workers=1)
    (photo,) = photos.list_photos(station)
    assert photo.status is PhotoStatus.REVIEW
    dialog.load()
    assert dialog.cameras.rowCount() == 1 and dialog.cameras.item(0, 1).text() == "iPhone 12"
    dialog.cameras.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Trip phone", True))
    dialog.register()
    assert ("Trip phone", "Apple", "iPhone 12", "in use") in _rows(dialog)
    assert dialog.cameras.rowCount() == 0
    assert photos.get_photo(station, photo.id).status is not PhotoStatus.REVIEW

    # Retired (asked first, No changes nothing): its photos are no longer accepted.
    trip_row = next(r for r, row in enumerate(_rows(dialog)) if row[0] == "Trip phone")
    dialog.table.selectRow(trip_row)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    dialog.retire()
    assert _rows(dialog)[trip_row][3] == "in use"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.retire()
    assert _rows(dialog)[trip_row][3] == "retired"
    assert not next(d for d in devices.list_devices(station) if d.name == "Trip phone").active
    assert photos.get_photo(station, photo.id).status is PhotoStatus.REVIEW
