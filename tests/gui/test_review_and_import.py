"""Import and review screens on a demo station: real faces, real engine, real widgets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QPushButton, QTextBrowser
from pytestqt.qtbot import QtBot

from ijs_vetting import demo
from ijs_vetting.domain import PhotoStatus
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.gui.photo_model import PHOTO_ROLE
from ijs_vetting.services.intake import importing, photos
from tests import scenes
from tests.gui.review_world import ADMIN, message_boxes, open_photo, wait_loaded

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _open(window: MainWindow, file: str) -> photos.PhotoInfo:
    return open_photo(window, file)


def _status(window: MainWindow, photo_id: int) -> PhotoStatus:
    return photos.get_photo(window.station, photo_id).status


def _message_box(qtbot: QtBot) -> QMessageBox:
    qtbot.waitUntil(lambda: bool(message_boxes()))
    return message_boxes()[0]


def test_grid_lists_every_photo_with_thumbnails(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    assert page.filter.rowCount() == 6
    files = {page.filter.index(r, 0).data() for r in range(page.filter.rowCount())}
    assert files == {s.name for s in demo.SHOTS}
    qtbot.waitUntil(
        lambda: all(
            page.thumbs._cache.get(p.id) is not None for p in photos.list_photos(window.station)
        )
    )


def test_identifying_the_ambiguous_twins(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    twins = _open(window, "IMG_0104.JPG")
    assert twins.status is PhotoStatus.REVIEW
    page.faces.rows.setCurrentRow(0)
    qtbot.keyClicks(page.child_field.edit, "D100001")
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Return)
    page.faces.rows.setCurrentRow(1)
    qtbot.keyClick(page.grid, Qt.Key.Key_B)  # blur the other one
    faces = sorted(photos.get_photo(window.station, twins.id).faces, key=lambda f: f.id)
    assert [(f.child_id, f.decision) for f in faces] == [("D100001", "show"), (None, "blur")]
    assert _status(window, twins.id) is PhotoStatus.READY_WITH_BLUR
    assert "Grace Hopper · 5H" in page.faces.rows.item(0).text()


def test_the_child_field_takes_a_name_only_one_child_has(qtbot: QtBot, window: MainWindow) -> None:
    """Part of one child's name and Enter names the face; part of several opens the list to
    pick from; a name nobody has is said so in words, and no face is named."""
    page = window.review_page
    twins = _open(window, "IMG_0104.JPG")
    face = next(f for f in twins.faces if f.child_id is None)  # the window is shared
    page.faces.select(face.id)
    qtbot.keyClicks(page.child_field.edit, "zzz")
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Return)
    assert "No child on roll is called 'zzz'" in _message_box(qtbot).text()
    message_boxes()[0].done(0)
    page.child_field.edit.clear()
    qtbot.keyClicks(page.child_field.edit, "e")  # in several children's names
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Return)
    assert page.child_field.completer.popup().isVisible()
    page.child_field.completer.popup().hide()
    unnamed = {f.id: f for f in photos.get_photo(window.station, twins.id).faces}
    assert unnamed[face.id].child_id != "D100003" and not message_boxes()
    page.child_field.edit.clear()
    qtbot.keyClicks(page.child_field.edit, "turing")  # Alan Turing only
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Return)
    named = {f.id: f for f in photos.get_photo(window.station, twins.id).faces}
    assert named[face.id].by_reviewer and named[face.id].child_id == "D100003"


def test_an_empty_folder_field_imports_nothing(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither an empty field nor a bare folder name is taken as wherever the app started."""
    page = window.import_page
    before = len(photos.list_photos(window.station))
    for text, words in (("", "Choose the folder of photos first"), ("DCIM", "whole folder path")):
        page.folder.setText(text)
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
        assert words in _message_box(qtbot).text()
        assert page.job is None
        message_boxes()[0].done(0)
        qtbot.waitUntil(lambda: not message_boxes())
    assert len(photos.list_photos(window.station)) == before


def test_showing_a_child_without_consent_is_refused(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    pair = _open(window, "IMG_0102.JPG")
    eileen = next(f for f in pair.faces if f.child_id == "D100002")
    page.faces.select(eileen.id)
    page.findChild(QPushButton, "showButton").click()
    box = _message_box(qtbot)
    assert "no current consent" in box.text()
    box.close()
    assert (
        next(
            f for f in photos.get_photo(window.station, pair.id).faces if f.id == eileen.id
        ).decision
        == "blur"
    )


def test_drawing_a_missed_face_and_the_head_count(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    alone = _open(window, "IMG_0103.JPG")
    page.head_count.setValue(2)
    page.head_count.editingFinished.emit()
    assert _status(window, alone.id) is PhotoStatus.REVIEW
    canvas = page.canvas
    middle = canvas.rect().center()
    start, end = middle + QPoint(40, -60), middle + QPoint(110, 20)  # right of her face
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    drawn = [f for f in photos.get_photo(window.station, alone.id).faces if f.origin == "drawn"]
    assert len(drawn) == 1 and drawn[0].decision == "blur"
    assert _status(window, alone.id) is PhotoStatus.READY_WITH_BLUR


def test_import_page_runs_in_the_background(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "ipad"
    folder.mkdir()
    scenes.write_jpeg(folder / "IMG_9001.JPG", scenes.group_scene(face_width=150, seed=7).pixels)
    (folder / "IMG_9002.MOV").write_bytes(b"movie")
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    page = window.import_page
    edit = page.findChild(QLineEdit, "folderEdit")
    edit.clear()
    qtbot.keyClicks(edit, str(folder))
    with qtbot.waitSignal(page.imported, timeout=120_000):
        qtbot.mouseClick(page.findChild(QPushButton, "importButton"), Qt.MouseButton.LeftButton)
        assert page.findChild(QPushButton, "cancelButton").isEnabled()
    summary = page.findChild(QTextBrowser, "summaryText").toPlainText()
    assert "1 new photos imported" in summary and "1 .mov" in summary
    if page.who is not None:  # faces nobody identified are offered for naming
        page.who.close()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Review loads
    wait_loaded(qtbot, window)
    assert (
        window.review_page.model.row_of(
            next(p.id for p in photos.list_photos(window.station) if p.file == "IMG_9001.JPG")
        )
        is not None
    )


def test_failed_photos_are_tried_again_from_the_import_page(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "ipad-cut"
    folder.mkdir()
    scenes.write_truncated_jpeg(folder / "IMG_9101.JPG", scenes.group_scene(seed=9).pixels)
    importing.import_folder(window.station, ADMIN, folder, workers=1)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    page = window.import_page
    retry = page.findChild(QPushButton, "retryButton")
    with qtbot.waitSignal(page.imported, timeout=120_000):
        qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
        assert not retry.isEnabled() and page.findChild(QPushButton, "cancelButton").isEnabled()
    summary = page.findChild(QTextBrowser, "summaryText").toPlainText()
    assert "1 failed photo tried again" in summary
    assert "IMG_9101.JPG: the picture is damaged" in summary
    assert retry.isEnabled()


def test_year_group_and_date_filters(window: MainWindow) -> None:
    page = window.review_page
    page.filters.year.setCurrentIndex(page.filters.year.findText("Year 6"))
    shown = {page.filter.index(r, 0).data() for r in range(page.filter.rowCount())}
    # where Eileen (Year 6) is identified; Grace (Year 5) alone is not shown
    assert {"IMG_0102.JPG", "IMG_0103.JPG"} <= shown and "IMG_0101.JPG" not in shown
    page.filters.year.setCurrentIndex(0)
    page.filters.date.setCurrentIndex(page.filters.date.findText("Last 7 days"))
    assert page.filter.rowCount() == 0  # the demo photos carry no capture time
    page.filters.date.setCurrentIndex(0)
    page.filters.order.setCurrentIndex(2)
    assert page.filter.rowCount() >= 6


def test_a_caption_stays_with_the_photos_it_was_typed_for(qtbot: QtBot, window: MainWindow) -> None:
    """A caption typed for one photo (naming its child) was still there when the next photo
    was opened, ready to be cleared with it. Opening another photo empties it; a reload of
    the same photo keeps it."""
    page = window.review_page
    _open(window, "IMG_0104.JPG")
    qtbot.keyClicks(page.clearing.caption, "Grace in 5H")
    window.refresh()
    wait_loaded(qtbot, window)
    assert page.clearing.caption.text() == "Grace in 5H"
    _open(window, "IMG_0106.JPG")
    assert page.clearing.caption.text() == ""
    assert page.clearing.caption_counter.text() == "0/140"


def test_a_refused_clearing_keeps_the_caption(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N asks first (No changes nothing); the check refuses a real face marked "not a face";
    the caption typed is still there to clear the photo with once the face is blurred."""
    page = window.review_page
    twins = _open(window, "IMG_0104.JPG")
    page.faces.rows.setCurrentRow(1)
    chosen = page.current_face()
    assert chosen is not None
    before = photos.get_photo(window.station, twins.id).faces
    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton) -> None:
        monkeypatch.setattr(
            QMessageBox, "question", lambda _p, _t, text, *a: asked.append(text) or reply
        )

    answer(QMessageBox.StandardButton.No)
    qtbot.keyClick(page.grid, Qt.Key.Key_N)
    assert "box 2" in asked[0] and "will not be blurred" in asked[0]
    assert photos.get_photo(window.station, twins.id).faces == before
    answer(QMessageBox.StandardButton.Yes)
    qtbot.keyClick(page.grid, Qt.Key.Key_N)
    marked = {f.id: f.override for f in photos.get_photo(window.station, twins.id).faces}
    assert marked[chosen.id] == "not_a_face"
    qtbot.keyClicks(page.clearing.caption, "Science week")
    qtbot.mouseClick(page.findChild(QPushButton, "clearButton"), Qt.MouseButton.LeftButton)
    box = _message_box(qtbot)
    assert "0 photo(s) cleared" in box.text() and "IMG_0104.JPG" in box.text()
    box.close()
    wait_loaded(qtbot, window)
    assert _status(window, twins.id) is PhotoStatus.REVIEW
    assert page.clearing.caption.text() == "Science week"


def test_reject_says_it_is_for_good_and_what_it_did(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QInputDialog

    asked: list[str] = []
    answers = iter([("  ", True), ("dark", True)])  # an empty reason is asked for again
    monkeypatch.setattr(
        QInputDialog,
        "getText",
        lambda _p, _t, label, *a, **k: asked.append(label) or next(answers),
    )
    page = window.review_page
    photo = _open(window, "IMG_0106.JPG")
    qtbot.keyClick(page.grid, Qt.Key.Key_R)
    assert len(asked) == 2 and "IMG_0106.JPG" in asked[0] and "cannot be undone" in asked[0]
    assert asked[1].startswith("A reason is needed") and not message_boxes()
    assert _status(window, photo.id) is PhotoStatus.REJECTED
    said = window.statusBar().currentMessage()
    assert said == "IMG_0106.JPG rejected: never to be posted."


def _select(window: MainWindow, *files: str) -> None:
    """Ctrl-click-like selection of several photos in the grid."""
    from PySide6.QtCore import QItemSelectionModel

    page = window.review_page
    open_photo(window, files[0])
    ids = {p.id for p in photos.list_photos(window.station) if p.file in files}
    for row in range(page.filter.rowCount()):
        index = page.filter.index(row, 0)
        if index.data(PHOTO_ROLE).id in ids:
            page.grid.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
    QApplication.processEvents()  # the panel follows the selection once the change is over
    assert {p.file for p in page.selected_photos()} == set(files)
    _routed(window)


def _routed(window: MainWindow) -> None:
    """Until the Account box shows where the photos chosen go (read in the background)."""
    panel = window.review_page.clearing
    deadline = time.monotonic() + 30
    while panel.routing:
        assert time.monotonic() < deadline
        QApplication.processEvents()


def test_the_account_box_says_where_each_photo_goes_before_clear(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grace's portrait (Year 5) and a photo whose only face is masked were offered as going
    to @Year5IJS together; Clear then masked, checked and refused the second one. With an
    account chosen, a Year 5 photo went to @Year6IJS without a word."""
    page, panel = window.review_page, window.review_page.clearing
    before = {p.id: p.status for p in photos.list_photos(window.station)}
    _select(window, "IMG_0101.JPG", "IMG_0103.JPG")
    assert panel.account.currentIndex() == 0
    assert panel.account.itemText(0) == "From the year groups shown (choose one)"
    assert not panel.clear_button.isEnabled()
    assert "IMG_0103.JPG" in panel.clear_button.toolTip()
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_C)  # the key says why instead of clearing
    assert "Choose the account for IMG_0103.JPG" in window.statusBar().currentMessage()
    assert panel.account.hasFocus() and not message_boxes()

    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.No,
    )
    panel.account.setCurrentIndex(panel.account.findData("@Year6IJS"))
    assert panel.clear_button.isEnabled()
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and asked[0].startswith("IMG_0101.JPG shows children")
    assert "to @Year6IJS all the same" in asked[0]
    assert {p.id: p.status for p in photos.list_photos(window.station)} == before

    panel.account.setCurrentIndex(0)
    _select(window, "IMG_0101.JPG", "IMG_0102.JPG")
    assert panel.account.itemText(0) == "From the year groups shown (@Year5IJS)"
    assert panel.clear_button.isEnabled() and panel.clear_button.toolTip() == ""
    # A photo still to review is refused for that, not for want of an account.
    _open(window, "IMG_0104.JPG")
    _routed(window)
    assert panel.account.itemText(0) == "From the year groups shown"
    assert panel.clear_button.isEnabled()


def test_an_admin_registers_a_photos_camera_from_review(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trip's phone is not yet a school device: its photo waits in review saying so, and the
    admin registers its camera from the photo (before, only from Admin > Devices)."""
    from PIL import Image
    from PySide6.QtWidgets import QInputDialog

    from ijs_vetting.services.core.station import open_station
    from ijs_vetting.services.intake import devices
    from tests.gui.review_world import open_window

    station = open_station(str(tmp_path / "home"), url=f"sqlite:///{tmp_path / 'station.db'}")
    try:
        demo.load_demo(station, ADMIN, tmp_path / "demo")
        trip = tmp_path / "trip"
        trip.mkdir()
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
        scenes.write_jpeg(
            trip / "IMG_2001.JPG", scenes.portrait(scenes.GRACE, 200).pixels, exif=exif.tobytes()
        )
        importing.import_folder(station, ADMIN, trip, workers=1)
        window = open_window(qtbot, station, ADMIN)
        page = window.review_page
        photo = _open(window, "IMG_2001.JPG")
        assert photo.status is PhotoStatus.REVIEW and "not a registered" in (photo.note or "")
        button = page.findChild(QPushButton, "registerCameraButton")
        assert button.isVisible() and button.isEnabled()
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Trip phone", True))
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert "Trip phone is a school device now" in _message_box(qtbot).text()
        message_boxes()[0].done(0)
        assert ("Trip phone", "Apple", "iPhone 12") in {
            (d.name, d.make, d.model) for d in devices.list_devices(station)
        }
        assert _status(window, photo.id) is PhotoStatus.READY
        _open(window, "IMG_0101.JPG")  # from a registered iPad: nothing to register
        assert not button.isEnabled()
    finally:
        station.close()
