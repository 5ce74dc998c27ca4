"""The whole flow through the GUI, as the office and SLT do it: roster import, reference photos,
iPad import, review (identify a face, draw a missed one), batch clear, export.

Real widgets, real database, real face engine. Only the operating system's file dialogs are
answered by the test (they are not Qt widgets the test can type into).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
)
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import PhotoStatus
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.gui.roster_dialog import RosterDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import queue
from tests import scenes
from tests.gui.review_world import wait_loaded

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROSTER = (
    "UPN,Legal Forename,Legal Surname,Year,Reg,Twitter,Biometric\n"
    "G5,Grace,Hopper,Year 5,5H,Y,Y\n"
    "E5,Eileen,Collins,Year 5,5H,Y,N\n"
)


def _visible_box(qtbot: QtBot, title: str) -> QMessageBox:
    found: list[QMessageBox] = []

    def shown() -> None:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible() and w.windowTitle() == title
        ]
        assert found

    qtbot.waitUntil(shown, timeout=120_000)
    return found[0]


def test_roster_to_export(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    station = sqlite_station
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(ROSTER, encoding="utf-8")
    refs = tmp_path / "refs"
    refs.mkdir()
    scenes.write_jpeg(refs / "G5.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg(dcim / "IMG_0001.JPG", group.pixels)  # Grace + Eileen (not enrolled)
    alone = scenes.portrait(scenes.GRACE, 200).pixels
    wide = np.full((alone.shape[0], alone.shape[1] * 3, 3), 200, np.uint8)
    wide[:, : alone.shape[1]] = alone
    scenes.write_jpeg(dcim / "IMG_0002.JPG", wide)  # Grace, and room for a "missed" face
    export_dir = tmp_path / "export"

    make_app()
    window = MainWindow(station, admin)
    qtbot.addWidget(window)
    window.resize(1366, 740)
    window.show()
    qtbot.waitExposed(window)

    # 1. Roster import with its preview.
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(roster_file), "CSV files (*.csv)")
    )
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(
        window.children_page.findChild(QPushButton, "rosterButton"), Qt.MouseButton.LeftButton
    )
    dialog = window.children_page.findChild(RosterDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.changes.isVisible()  # the preview is on screen, not in a hidden window
    assert "2 new" in dialog.summary.text()
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.children_page.model.rowCount() == 2, timeout=30_000)

    # 2. Reference photos (Grace has biometric consent; Eileen does not and is not enrolled).
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(refs))
    qtbot.mouseClick(
        window.children_page.findChild(QPushButton, "referencesButton"), Qt.MouseButton.LeftButton
    )
    box = _visible_box(qtbot, "Reference photos")
    assert "1 reference photos enrolled" in box.text()
    box.close()

    # 3. Import from the iPad folder.
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    folder = window.import_page.findChild(QLineEdit, "folderEdit")
    folder.clear()
    qtbot.keyClicks(folder, str(dcim))
    with qtbot.waitSignal(window.import_page.imported, timeout=120_000):
        qtbot.mouseClick(
            window.import_page.findChild(QPushButton, "importButton"), Qt.MouseButton.LeftButton
        )
    # Eileen is not enrolled: "Who is this?" offers her face
    qtbot.waitUntil(lambda: window.import_page.who is not None, timeout=30_000)
    who = window.import_page.who
    assert who is not None and who.isVisible() and who.crops.count() >= 1
    qtbot.keyClick(who, Qt.Key.Key_Escape)  # named on Review instead, below
    assert not who.isVisible()

    # 4. Review: identify Eileen by hand, draw the face the detector "missed".
    window.activateWindow()  # as the closed view hands it back
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    review = window.review_page
    wait_loaded(qtbot, window)
    by_file = {p.file: p for p in photos.list_photos(station)}
    pair = by_file["IMG_0001.JPG"]
    assert pair.status is PhotoStatus.READY_WITH_BLUR
    review.select_photo(pair.id)
    unknown = next(f for f in pair.faces if f.child_id is None)
    review.faces.select(unknown.id)
    qtbot.keyClicks(review.child_field.edit, "E5")
    qtbot.keyClick(review.child_field.edit, Qt.Key.Key_Return)
    assert photos.get_photo(station, pair.id).status is PhotoStatus.READY

    single = by_file["IMG_0002.JPG"]
    review.select_photo(single.id)
    review.head_count.setValue(2)
    review.head_count.editingFinished.emit()
    assert photos.get_photo(station, single.id).status is PhotoStatus.REVIEW
    centre = review.canvas.rect().center()
    qtbot.mousePress(review.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(-40, -40))
    qtbot.mouseRelease(review.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(40, 40))
    assert photos.get_photo(station, single.id).status is PhotoStatus.READY_WITH_BLUR

    # 5. Batch clear both with one caption; the account comes from the year group.
    review.select_all_ready()
    assert len(review.selected_photos()) == 2
    qtbot.keyClicks(review.clearing.caption, "Science week in 5H")
    assert review.clearing.caption_counter.text() == "18/140"
    qtbot.mouseClick(review.findChild(QPushButton, "clearButton"), Qt.MouseButton.LeftButton)
    box = _visible_box(qtbot, "Clear for posting")
    assert "2 photo(s) cleared" in box.text()
    box.close()
    items = queue.list_queue(station)
    assert [(i.account, i.caption) for i in items] == [("@Year5IJS", "Science week in 5H")] * 2

    # 6. Export from the queue page.
    window.activateWindow()  # as the closed box hands it back; its shortcuts work again
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.queue_page
    qtbot.waitUntil(lambda: not window.queue_page.loading)  # read in the background
    assert window.queue_page.model.rowCount() == 2
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(export_dir))
    qtbot.mouseClick(
        window.queue_page.findChild(QPushButton, "exportButton"), Qt.MouseButton.LeftButton
    )
    box = _visible_box(qtbot, "Queue exported")
    box.close()
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert len(manifest["items"]) == 2
    for entry in manifest["items"]:
        image = (export_dir / entry["image"]).read_bytes()
        assert image.startswith(b"\xff\xd8") and b"Exif" not in image
    # the group shows both children now; the single photo masks the face drawn by hand
    assert sorted(e["blurred_faces"] for e in manifest["items"]) == [0, 1]

    # 7. A parent withdraws Grace's consent: the admin is told what it pulls back first.
    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str, *args: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    dialog = ChildDialog(station, admin, "G5")
    qtbot.addWidget(dialog)
    dialog.consents.selectRow(0)  # twitter
    with qtbot.waitSignal(dialog.changed):
        dialog.findChild(QPushButton, "withdrawButton").click()
    assert "2 queued item(s) showing this child will be withdrawn" in asked[0]
    assert {i.status.value for i in queue.list_queue(station)} == {"withdrawn"}
    assert not (export_dir / manifest["items"][0]["image"]).exists()
