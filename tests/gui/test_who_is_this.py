""" "Who is this?" and "Add as reference": names only on the faces a person selected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, FaceTemplate
from ijs_vetting.domain import Role
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.gui.who_is_this import WhoIsThisDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.register import configure, naming
from tests import scenes
from tests.gui.review_world import message_boxes, open_photo, open_window

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_naming_the_selected_crops_and_no_other(qtbot: QtBot, window: MainWindow) -> None:
    station = window.station
    dialog = WhoIsThisDialog(station, window.actor, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=30_000)
    before = naming.unnamed_faces(station, naming.latest_batch(station))
    assert dialog.crops.count() == len(before) >= 3
    labels = [dialog.crops.item(r).text() for r in range(dialog.crops.count())]
    assert "IMG_0104.JPG\nface 2" in labels and "IMG_0105.JPG\nface 1" in labels
    qtbot.waitUntil(lambda: not dialog.crops.item(0).icon().isNull())  # crops, not just words
    chosen = [labels.index("IMG_0104.JPG\nface 2"), labels.index("IMG_0105.JPG\nface 1")]
    for row in chosen:
        index = dialog.crops.model().index(row, 0)
        dialog.crops.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
    assert dialog.count.text() == "2 selected"
    assert dialog.choice.currentData() is None  # nobody until the reviewer chooses
    assert dialog.choice.currentText() == "" and dialog.choice.placeholderText()
    assert not dialog.name_button.isEnabled()  # offered once someone is chosen
    dialog.choice.setCurrentIndex(dialog.choice.findData("D100004"))  # Ada: no biometric consent
    assert dialog.name_button.isEnabled()
    dialog.findChild(QPushButton, "nameButton").click()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=30_000)
    by_id = {f.id: f for p in photos.list_photos(station) for f in p.faces}
    picked = {before[r].face_id for r in chosen}
    assert all(by_id[i].child_id == "D100004" and by_id[i].by_reviewer for i in picked)
    assert all(by_id[i].decision == "show" for i in picked)  # consent, no biometrics needed
    others = [by_id[f.face_id] for f in before if f.face_id not in picked]
    assert not any(f.by_reviewer or f.child_id == "D100004" for f in others)
    # naming IMG_0104's face 2 settles who its face 1 is (matching), and nothing more
    assert dialog.crops.count() == len(before) - 3
    # IMG_0105 now shows a Year 4 child: its faces propose Year 4 (after Year 3 in the register)
    rest = [dialog.crops.item(r).text() for r in range(dialog.crops.count())]
    dialog.crops.item(rest.index("IMG_0105.JPG\nface 2")).setSelected(True)
    assert "4L" in dialog.choice.itemText(0)
    with station.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.assign_many")).one()
    assert entry.actor == window.actor.username and len(entry.details["faces"]) == 2
    dialog.close()


def test_a_reference_from_a_face_needs_biometric_consent(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    photo = open_photo(window, "IMG_0103.JPG")
    (face,) = photo.faces
    page.faces.select(face.id)
    page.assign_child("D100003")  # Alan: no biometric consent
    assert page.findChild(QPushButton, "referenceButton").isVisible()
    page.findChild(QPushButton, "referenceButton").click()
    qtbot.waitUntil(lambda: bool(message_boxes()))
    (box,) = message_boxes()
    assert "no biometric consent" in box.text()
    box.close()
    with window.station.read() as s:
        alans = s.scalars(select(FaceTemplate).where(FaceTemplate.child_id == 3)).all()
    assert not alans


def test_staff_do_not_see_add_as_reference(qtbot: QtBot, demo_station: Station) -> None:
    window = open_window(qtbot, demo_station, Actor("teacher", Role.STAFF))
    assert not window.review_page.findChild(QPushButton, "referenceButton").isVisible()


def _import_on_page(qtbot: QtBot, window: MainWindow, folder: Path) -> None:
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    page = window.import_page
    page.findChild(QLineEdit, "folderEdit").setText(str(folder))
    with qtbot.waitSignal(page.imported, timeout=120_000):
        qtbot.mouseClick(page.findChild(QPushButton, "importButton"), Qt.MouseButton.LeftButton)


def test_an_import_with_faces_nobody_knows_opens_who_is_this(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    configure.set_setting(sqlite_station, admin, "faces.order_unknown_by_likeness", True)
    window = open_window(qtbot, sqlite_station, admin)
    trip = tmp_path / "trip"
    trip.mkdir()
    for n, person in enumerate((scenes.GRACE, scenes.ASTRONAUT, scenes.GRACE), start=1):
        shot = scenes.portrait(person, 140 + 20 * n)
        scenes.write_jpeg(trip / f"IMG_{n:04d}.JPG", shot.pixels)
    _import_on_page(qtbot, window, trip)
    qtbot.waitUntil(lambda: window.import_page.who is not None, timeout=30_000)
    dialog = window.import_page.who
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Who is this? (faces alike together)"
    files = [dialog.crops.item(r).text().split("\n")[0] for r in range(dialog.crops.count())]
    assert files == ["IMG_0001.JPG", "IMG_0003.JPG", "IMG_0002.JPG"]  # Grace's two together
    dialog.close()

    again = tmp_path / "again"  # the same photos: nothing new to name, nothing opens
    shutil.copytree(trip, again)
    _import_on_page(qtbot, window, again)
    qtbot.waitUntil(lambda: window.import_page.asking is None, timeout=30_000)
    assert not dialog.isVisible() and window.import_page.who is dialog
