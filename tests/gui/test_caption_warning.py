"""The caption warning on the Queue page: shown as the caption is typed, confirmed by SLT."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.queue_page import QueuePage
from ijs_vetting.gui.text_post import TextPostDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import queue
from tests import privacy_world
from tests.privacy_world import Face

pytestmark = pytest.mark.gui


def test_queue_caption_warns_as_typed_and_saves_only_when_slt_confirms(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    slt: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    photo = privacy_world.add_photo(sqlite_station, [Face("A123"), Face("C789")])
    item = privacy_world.add_item(sqlite_station, photo, caption="Fair")
    page = QueuePage(
        sqlite_station, slt, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    page.table.selectRow(0)
    page.caption.clear()
    qtbot.keyClicks(page.caption, "Amelia and Zo")
    assert page.counter.text() == "13/140"
    page.caption.insert("ë 🎉")  # typed as the keyboard would (QTest types Latin-1 only)
    assert page.counter.text() == "17/140  ⚠ names Zoë"
    assert "(masked in the photo)" in page.counter.toolTip()
    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton) -> None:
        monkeypatch.setattr(
            QMessageBox, "question", lambda _p, _t, text, *a: asked.append(text) or reply
        )

    answer(QMessageBox.StandardButton.No)
    page.save_caption()
    assert queue.get_item(sqlite_station, item).caption == "Fair"
    answer(QMessageBox.StandardButton.Yes)
    page.save_caption()
    assert queue.get_item(sqlite_station, item).caption == "Amelia and Zoë 🎉"
    assert len(asked) == 2 and "'Zoë' (masked in the photo)" in asked[0]
    page.caption.setText("Amelia at the fair")
    assert page.counter.text() == "18/140" and page.counter.styleSheet() == ""


def test_children_page_prints_a_sheet_for_a_year_group(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QPushButton

    from ijs_vetting.gui.children_page import ChildrenPage
    from ijs_vetting.gui.sheet_dialog import SheetDialog

    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    page = ChildrenPage(
        sqlite_station, admin, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(page)
    out = tmp_path / "sheet.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    page.findChild(QPushButton, "sheetButton").click()
    dialog = page.findChild(SheetDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.loading)
    dialog.by_year.setChecked(True)
    dialog.years.setCurrentIndex(dialog.years.findText("Year 6"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert out.read_bytes().startswith(b"%PDF")
    assert not dialog.isVisible()
    box = page.findChild(QMessageBox)
    assert box is not None and "1 of 1 children must not appear on Twitter" in box.text()


def test_a_trip_list_is_ticked_and_pasted(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    """Issue 17: a sheet for a trip: children ticked in the register and names pasted."""
    from PySide6.QtCore import Qt

    from ijs_vetting.gui.sheet_dialog import SheetDialog

    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    dialog = SheetDialog(sqlite_station, admin)
    qtbot.addWidget(dialog)
    dialog.open()
    assert not dialog.save_button.isEnabled()  # until the register is read
    with qtbot.waitSignal(dialog.loaded):
        pass
    assert dialog.save_button.isEnabled()
    dialog.by_list.setChecked(True)
    qtbot.keyClicks(dialog.search, "noah")
    shown = [
        dialog.picked.item(r)
        for r in range(dialog.picked.count())
        if not dialog.picked.item(r).isHidden()
    ]
    assert [i.text() for i in shown] == ["Noah Jones (Year 5)"]
    shown[0].setCheckState(Qt.CheckState.Checked)
    dialog.pasted.setPlainText("zoe brown\n")
    assert dialog.summary.text() == "1 ticked, 1 pasted."
    out = tmp_path / "trip.pdf"
    dialog.write(out, dialog.scope())
    assert dialog.report is not None and out.read_bytes().startswith(b"%PDF")
    assert dialog.report.selected == 2
    listed = [e.mis_id for entries in dialog.report.classes.values() for e in entries]
    assert listed == ["C789"]  # Zoe has no Twitter consent; Noah has
    dialog.pasted.setPlainText("Nobody Here")
    dialog.write(out, dialog.scope())
    assert "is no child on roll" in dialog.findChildren(QMessageBox)[-1].text()


def test_a_refresh_keeps_the_item_and_an_exported_caption_cannot_be_typed(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, slt: Actor, tmp_path: Path
) -> None:
    """After a refresh (an export, a save) the item shown stays selected with its own caption;
    once it is exported neither the caption field nor Save caption can be used."""
    from sqlalchemy import update

    from ijs_vetting.db.models import QueueItem
    from ijs_vetting.domain import QueueStatus

    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    photo = privacy_world.add_photo(sqlite_station, [Face("A123")])
    item = privacy_world.add_item(sqlite_station, photo, caption="Fair")
    page = QueuePage(
        sqlite_station, slt, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    page.table.selectRow(0)
    assert page.caption.isEnabled() and page.save_button.isEnabled()
    page.caption.setText("half typed")
    with sqlite_station.sessions.begin() as s:
        s.execute(update(QueueItem).where(QueueItem.id == item).values(status=QueueStatus.EXPORTED))
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    shown = page.current_item()
    assert shown is not None and shown.id == item and page.caption.text() == "Fair"
    assert not page.caption.isEnabled() and not page.save_button.isEnabled()


def test_a_text_post_is_one_dialog_that_keeps_the_words_until_they_can_go(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    staff: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It took two dialogs, the account first (@year3ijs last); a text over the limit was
    refused after OK and lost. Now one dialog: OK only for words that can go, and staff whose
    words name a child are told once and get the words back to change."""
    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    dialog = TextPostDialog(sqlite_station, staff)
    qtbot.addWidget(dialog)
    dialog.show()
    handles = [dialog.account.itemText(n) for n in range(dialog.account.count())]
    assert handles == ["@year3ijs", "@Year4IJS", "@Year5IJS", "@Year6IJS"]
    assert not dialog.ok.isEnabled() and dialog.counter.text() == "0/140"
    qtbot.keyClicks(dialog.text, "x" * 141)
    assert not dialog.ok.isEnabled() and dialog.counter.text() == "141/140"
    questions: list[str] = []
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: questions.append("") or 0)
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warnings.append(text))
    dialog.account.setCurrentText("@Year5IJS")
    dialog.text.setText("Amelia Smith won the race")
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return)
    assert questions == [] and len(warnings) == 1 and "change the words" in warnings[0]
    assert dialog.isVisible() and dialog.text.text() == "Amelia Smith won the race"
    assert not [i for i in queue.list_queue(sqlite_station) if i.photo_id is None]
    dialog.text.setText("Year 5 won the race")
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    (item,) = [i for i in queue.list_queue(sqlite_station) if i.photo_id is None]
    assert (item.caption, item.account) == ("Year 5 won the race", "@Year5IJS")
    assert dialog.added is not None and dialog.added.id == item.id
