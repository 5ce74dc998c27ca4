"""The Children & consent page and its dialogs: what they say, and what Enter does."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.gui.children_page import ChildrenPage
from ijs_vetting.gui.sheet_dialog import SheetDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children
from tests import privacy_world

pytestmark = pytest.mark.gui


def _page(station: Station, admin: Actor, tmp_path: Path) -> ChildrenPage:
    make_app()
    privacy_world.school(station, admin, tmp_path)
    return ChildrenPage(
        station, admin, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    )


def test_reference_results_name_the_child_from_the_register_shown(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reference photo with no face is reported by the child's name, not the UPN alone."""
    folder = tmp_path / "references"
    folder.mkdir()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(folder / "A123.jpg")
    page = _page(sqlite_station, admin, tmp_path)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    page.findChild(QPushButton, "referencesButton").click()
    qtbot.waitUntil(lambda: page.findChild(QMessageBox) is not None, timeout=60_000)
    text = page.findChild(QMessageBox).text()
    assert "0 reference photos enrolled" in text
    assert "Amelia Smith (A123.jpg)" in text


def test_enter_in_a_dialogs_text_field_presses_only_its_own_button(
    qtbot: QtBot, sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    """Enter in the safeguarding reason sets never publish and leaves the child's page open;
    Enter in the sheet's search box saves nothing."""
    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    dialog = ChildDialog(sqlite_station, admin, "A123")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.safe_reason, "Court order")
    qtbot.keyClick(dialog.safe_reason, Qt.Key.Key_Return)
    assert dialog.isVisible()
    (amelia,) = children.list_children(sqlite_station, mis_id="A123")
    assert amelia.never_publish
    assert children.never_publish_reason(sqlite_station, admin, "A123") == "Court order"

    sheet = SheetDialog(sqlite_station, admin)
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitUntil(lambda: not sheet.loading)
    sheet.by_list.setChecked(True)
    qtbot.keyClicks(sheet.search, "noah")
    qtbot.keyClick(sheet.search, Qt.Key.Key_Return)
    assert sheet.isVisible() and sheet.report is None and not sheet.findChildren(QMessageBox)


def test_a_trip_list_is_checked_before_the_file_is_asked_for(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_app()
    privacy_world.school(sqlite_station, admin, tmp_path)
    asked: list[object] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or ("", ""))
    sheet = SheetDialog(sqlite_station, admin)
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitUntil(lambda: not sheet.loading)
    sheet.by_list.setChecked(True)
    sheet.pasted.setPlainText("Nobody Here\n")
    sheet.save()
    assert asked == [] and "is no child on roll" in sheet.findChildren(QMessageBox)[-1].text()
    sheet.findChildren(QMessageBox)[-1].done(0)
    sheet.pasted.setPlainText("zoe brown\n")
    sheet.save()
    assert len(asked) == 1  # a list that names children goes on to the file


def test_columns_are_measured_once_when_the_register_loads(
    qtbot: QtBot,
    sqlite_station: Station,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each column as wide as its contents after a load; a change of a row asks the model for
    nothing more (ResizeToContents measured every column again on each change: issue 15)."""
    from PySide6.QtCore import QModelIndex
    from PySide6.QtWidgets import QHeaderView

    from ijs_vetting.gui.table_models import ChildrenTableModel

    page = _page(sqlite_station, admin, tmp_path)
    qtbot.addWidget(page)
    page.resize(1200, 600)
    page.show()
    qtbot.waitExposed(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    qtbot.wait(20)  # laid out and painted as loaded
    table, header = page.table, page.table.horizontalHeader()
    for column in range(page.filter.columnCount()):
        if header.sectionResizeMode(column) is QHeaderView.ResizeMode.Interactive:
            wanted = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
            assert header.sectionSize(column) >= wanted, column
    assert header.sectionResizeMode(1) is QHeaderView.ResizeMode.Stretch
    calls: list[int] = []
    real = ChildrenTableModel.data

    def counted(model: ChildrenTableModel, index: QModelIndex, role: int = 0) -> object:
        calls.append(index.row())
        return real(model, index, role)

    monkeypatch.setattr(ChildrenTableModel, "data", counted)
    page.model.dataChanged.emit(page.model.index(0, 0), page.model.index(0, 3))  # one row
    assert calls == []  # a change measures nothing: that row is redrawn when painted
    table.viewport().repaint()
    assert calls  # (the counting does see the model's calls)
