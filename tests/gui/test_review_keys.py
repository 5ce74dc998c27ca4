"""The review screen's keys and labels: which face each key reaches, and none while typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from tests.gui.review_world import message_boxes, open_photo, open_window

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _face(window: MainWindow, face_id: int) -> photos.FaceInfo:
    photo = window.review_page.current_photo()
    assert photo is not None
    return next(f for f in photos.get_photo(window.station, photo.id).faces if f.id == face_id)


def test_numbers_follow_the_picture_and_keys_reach_that_face(
    qtbot: QtBot, window: MainWindow
) -> None:
    page = window.review_page
    photo = open_photo(window, "IMG_0105.JPG")  # eight small faces in a line
    lefts = sorted(f.left for f in photo.faces)
    page.canvas.setFocus()
    qtbot.keyClick(page.canvas, Qt.Key.Key_3)
    third = page.current_face()
    assert third is not None and third.left == lefts[2]
    assert page.faces.rows.currentItem().text().startswith("3. ")
    qtbot.waitUntil(lambda: not page.faces.zoom.pixmap().isNull())  # the selected face, enlarged
    assert not page.faces.rows.item(2).icon().isNull()  # and each row its own small crop
    qtbot.keyClick(page.canvas, Qt.Key.Key_Tab)
    fourth = page.current_face()
    assert fourth is not None and fourth.left == lefts[3]
    qtbot.keyClick(page.canvas, Qt.Key.Key_B)
    assert _face(window, fourth.id).override == "blur"
    assert _face(window, third.id).override is None
    qtbot.keyClick(page.canvas, Qt.Key.Key_U)  # undone: the policy's decision again
    assert _face(window, fourth.id).override is None
    qtbot.keyClick(page.canvas, Qt.Key.Key_B)
    assert _face(window, fourth.id).override == "blur"
    rows = [page.faces.rows.item(r).text() for r in range(page.faces.rows.count())]
    assert [r.split(".")[0] for r in rows] == [str(n) for n in range(1, 9)]
    assert not any("D1000" in r or "0." in r.split("—")[0] for r in rows)


def test_identifying_by_keyboard_and_back_to_the_photo(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    photo = open_photo(window, "IMG_0103.JPG")  # the astronaut: no one matched her
    page.canvas.setFocus()
    qtbot.keyClick(page.canvas, Qt.Key.Key_F2)
    assert page.child_field.edit.hasFocus()
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Escape)
    assert page.canvas.hasFocus() and page.child_field.edit.text() == ""
    qtbot.keyClick(page.canvas, Qt.Key.Key_I)
    qtbot.keyClicks(page.child_field.edit, "Kath")
    page.child_field.completer.popup().hide()
    page.child_field.edit.setText(
        next(t for t in page.child_field._children if t.startswith("Kath"))
    )
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Return)
    assert page.canvas.hasFocus()
    (face,) = photos.get_photo(window.station, photo.id).faces
    assert face.child_id == "D100005" and face.by_reviewer
    assert page.faces.rows.item(0).text().startswith("1. Kath Johnson · 6C")  # preferred name
    assert page.faces.rows.item(0).toolTip() == "MIS id D100005"
    qtbot.keyClick(page.canvas, Qt.Key.Key_I)
    qtbot.keyClicks(page.child_field.edit, "a")
    qtbot.keyClick(page.child_field.edit, Qt.Key.Key_Backspace)
    qtbot.wait(50)
    assert not page.child_field.completer.popup().isVisible()  # no register over the buttons


def test_typing_a_caption_after_a_warning_changes_no_face(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    pair = open_photo(window, "IMG_0102.JPG")
    eileen = next(f for f in pair.faces if f.child_id == "D100002")
    page.faces.select(eileen.id)
    page.findChild(QPushButton, "showButton").click()  # refused: no consent
    qtbot.waitUntil(lambda: bool(message_boxes()))
    assert len(message_boxes()) == 1  # one message for one failure
    message_boxes()[0].close()
    page.clearing.caption.setFocus()
    qtbot.keyClicks(page.clearing.caption, "Brilliant run on sports day")
    assert page.clearing.caption.text() == "Brilliant run on sports day"
    after = photos.get_photo(window.station, pair.id)
    assert [(f.override, f.decision) for f in after.faces] == [
        (f.override, f.decision) for f in pair.faces
    ]
    assert not message_boxes()  # R opened no Reject, C no Clear


def test_staff_see_clear_and_reject_disabled_saying_who_can(
    qtbot: QtBot, demo_station: Station
) -> None:
    window = open_window(qtbot, demo_station, Actor("teacher", Role.STAFF))
    for name in ("clearButton", "rejectButton", "confirmCameraButton"):
        button = window.review_page.findChild(QPushButton, name)
        assert not button.isEnabled() and "SLT or an admin" in button.toolTip()
    assert not window.review_page.findChild(QPushButton, "registerCameraButton").isVisible()
    page = window.review_page
    page.select_all_ready()
    qtbot.waitUntil(
        lambda: page.selection_count.text() == f"{len(page.selected_photos())} selected"
    )
    assert len(page.selected_photos()) > 0


def test_a_burst_of_selection_changes_is_followed_once(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change read the account and the caption's names from the register on the GUI
    thread: twenty photos picked one by one froze the window for all twenty."""
    from PySide6.QtCore import QItemSelectionModel

    page = window.review_page
    followed: list[int] = []
    real = page.clearing.targets_changed
    monkeypatch.setattr(page.clearing, "targets_changed", lambda: followed.append(1) or real())
    selection = page.grid.selectionModel()
    selection.clearSelection()
    for row in range(page.filter.rowCount()):
        selection.select(page.filter.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    assert followed == []  # not yet: once the burst is over
    qtbot.waitUntil(lambda: followed == [1])
    assert page.selection_count.text() == f"{page.filter.rowCount()} selected"
    qtbot.wait(20)
    assert followed == [1]


def test_status_bar_counts_follow_a_review(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    open_photo(window, "IMG_0101.JPG")  # Grace alone: ready
    before = photos.status_counts(window.station).get("review", 0)
    assert f"To review: {before}" in window.counts.text()
    page.head_count.setValue(2)  # two people, one face: back to review
    page.head_count.editingFinished.emit()
    assert f"To review: {before + 1}" in window.counts.text()


def test_the_keyboard_help_names_every_key_of_the_photo_menu(window: MainWindow) -> None:
    from PySide6.QtWidgets import QMenu

    from ijs_vetting.gui.main_window import SHORTCUT_HELP

    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Photo")
    keys = [a.text().split("\t")[1] for a in menu.actions() if "\t" in a.text()]
    assert "W" in keys and "Ctrl+Shift+A" in keys
    assert all(a.shortcut().isEmpty() for a in menu.actions())  # shown, bound elsewhere
    assert [k for k in keys if f"<b>{k}</b>" not in SHORTCUT_HELP] == []


def test_the_face_keys_work_again_once_a_refusal_is_closed(
    qtbot: QtBot, window: MainWindow
) -> None:
    """S refused (no consent), the box closed with Esc: B then blurs that face at once."""
    page = window.review_page
    pair = open_photo(window, "IMG_0102.JPG")
    eileen = next(f for f in pair.faces if f.child_id == "D100002")
    page.faces.select(eileen.id)
    page.faces.rows.setFocus()
    qtbot.waitUntil(page.faces.rows.hasFocus)
    qtbot.keyClick(page.faces.rows, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: bool(message_boxes()))
    (box,) = message_boxes()
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not message_boxes())
    focused = QApplication.focusWidget()
    assert focused is page.faces.rows
    qtbot.keyClick(focused, Qt.Key.Key_B)
    assert _face(window, eileen.id).override == "blur"


def test_a_small_selected_face_is_labelled_by_its_number_only(window: MainWindow) -> None:
    """Eight small faces in a line: the selected one's words ("too small") covered its
    neighbours' numbers; like the others it shows its number, its words being in the list."""
    from PySide6.QtGui import QFontMetrics

    from ijs_vetting.gui.photo_canvas import box_label

    metrics = QFontMetrics(window.review_page.canvas.font())
    assert box_label(3, "too small", 30, metrics) == "3"
    assert box_label(3, "Grace Hopper · 5H", 400, metrics) == "3  Grace Hopper · 5H"


def test_no_face_key_acts_while_the_menu_bar_has_the_keyboard(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a menu open (Alt, or Alt+G), B blurred the last face opened on the Review page
    and S "showed" it, even from the Queue page: the Photo menu's actions carried the keys."""
    from PySide6.QtWidgets import QMessageBox

    from ijs_vetting.gui.main_window import SECTIONS

    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append("N") or QMessageBox.StandardButton.No
    )
    page = window.review_page
    pair = open_photo(window, "IMG_0102.JPG")
    before = photos.get_photo(window.station, pair.id).faces
    page.faces.rows.setFocus()
    bar = window.menuBar()
    for section in ("review", "queue"):
        window.navigation.setCurrentRow(SECTIONS.index(section))
        bar.setFocus()  # what Alt does: the menu bar takes the keyboard
        qtbot.waitUntil(bar.hasFocus)
        for key in (Qt.Key.Key_B, Qt.Key.Key_S, Qt.Key.Key_N, Qt.Key.Key_U):
            qtbot.keyClick(bar, key)
        QApplication.processEvents()
        for box in message_boxes():
            box.close()
        assert photos.get_photo(window.station, pair.id).faces == before, section
        assert asked == [], section
        assert window.photo_menu.menuAction().isEnabled() == (section == "review")
    window.navigation.setCurrentRow(SECTIONS.index("review"))
    page.faces.rows.setFocus()
    qtbot.waitUntil(page.faces.rows.hasFocus)
    qtbot.keyClick(page.faces.rows, Qt.Key.Key_B)  # where the keys belong, they still act
    assert photos.get_photo(window.station, pair.id).faces != before


def test_a_refused_head_count_is_tried_once_and_shown_as_stored(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter in the head count, refused: the box that took the focus made the spin box finish
    editing again, so the service was asked twice (and a second box was only held back)."""
    from ijs_vetting.domain import ChangedElsewhere
    from ijs_vetting.services.intake import review

    page = window.review_page
    photo = open_photo(window, "IMG_0105.JPG")
    calls: list[int | None] = []

    def refuse(_station: Station, _actor: Actor, _photo_id: int, count: int | None) -> None:
        calls.append(count)
        raise ChangedElsewhere("IMG_0105.JPG changed on another station")

    monkeypatch.setattr(review, "set_head_count", refuse)
    page.head_count.setFocus()
    page.head_count.setValue(12)
    qtbot.keyClick(page.head_count, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(message_boxes()))
    QApplication.processEvents()
    assert calls == [12] and len(message_boxes()) == 1
    stored = photos.get_photo(window.station, photo.id).head_count
    assert page.head_count.value() == (-1 if stored is None else stored)
    message_boxes()[0].done(0)


def test_delete_drawn_is_offered_for_drawn_faces_only(qtbot: QtBot, window: MainWindow) -> None:
    page = window.review_page
    open_photo(window, "IMG_0101.JPG")
    undraw = page.findChild(QPushButton, "deleteDrawnButton")
    assert page.current_face() is not None and not undraw.isEnabled()
    page.canvas.box_drawn.emit(40, 40, 160, 160)  # image pixels, as a drag gives them
    drawn = next(f for f in page.current_photo().faces if f.origin == "drawn")
    page.faces.select(drawn.id)
    assert undraw.isEnabled()
    qtbot.mouseClick(undraw, Qt.MouseButton.LeftButton)
    assert all(f.origin != "drawn" for f in page.current_photo().faces)
    assert not undraw.isEnabled()
