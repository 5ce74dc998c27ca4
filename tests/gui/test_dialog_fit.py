"""Every dialog closes on Esc as Cancel (never leaving an emptied grey window) and fits the
smallest screen the office uses (1920x1080 at 150%: 1280x720 logical pixels, less the frame)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.admin_dialogs import SettingsDialog, UsersDialog
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.backup_dialogs import BackupDialog
from ijs_vetting.gui.caption_warning import confirm_names
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.gui.device_dialog import DevicesDialog
from ijs_vetting.gui.log_view import LogDialog
from ijs_vetting.gui.login import LoginDialog
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.gui.roster_dialog import RosterDialog
from ijs_vetting.gui.screen_fit import ROOMY_WIDTH, USABLE, available
from ijs_vetting.gui.sheet_dialog import SheetDialog
from ijs_vetting.gui.text_post import TextPostDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting.caption_preview import preview_for_text
from ijs_vetting.services.register import roster

pytestmark = pytest.mark.gui

Factory = Callable[[Station, Actor, Path], QDialog]


def _child(station: Station, admin: Actor, path: Path) -> QDialog:
    return ChildDialog(station, admin, "A123")


def _roster(station: Station, admin: Actor, path: Path) -> QDialog:
    dialog = RosterDialog(station, admin, path)
    dialog.preview()
    return dialog


DIALOGS: dict[str, Factory] = {
    "login": lambda station, _a, _p: LoginDialog(station),
    "settings": lambda station, admin, _p: SettingsDialog(station, admin),
    "users": lambda station, admin, _p: UsersDialog(station, admin),
    "child": _child,
    "roster": _roster,
    "log": lambda station, _a, _p: LogDialog(station.paths),
    "devices": lambda station, admin, _p: DevicesDialog(station, admin),
    "sheet": lambda station, admin, _p: SheetDialog(station, admin),
    "text post": lambda station, admin, _p: TextPostDialog(station, admin),
    "backup": lambda station, admin, _p: BackupDialog(station, admin, restoring=False),
    "restore": lambda station, admin, _p: BackupDialog(station, admin, restoring=True),
}


@pytest.fixture
def school(sqlite_station: Station, admin: Actor, roster_file: Path) -> Station:
    roster.import_roster(sqlite_station, admin, roster_file)
    return sqlite_station


def _fits(size: QSize) -> bool:
    return size.width() <= USABLE.width() and size.height() <= USABLE.height()


@pytest.mark.parametrize("name", sorted(DIALOGS))
def test_each_dialog_fits_the_screen_and_closes_on_escape(
    qtbot: QtBot, school: Station, admin: Actor, roster_file: Path, name: str
) -> None:
    make_app()
    dialog = DIALOGS[name](school, admin, roster_file)
    qtbot.addWidget(dialog)
    if not dialog.isVisible():
        dialog.open()
    qtbot.waitExposed(dialog)
    assert _fits(dialog.sizeHint()), dialog.sizeHint()
    assert _fits(dialog.size()), dialog.size()
    assert _fits(dialog.minimumSizeHint()), dialog.minimumSizeHint()
    # Esc where the user is: in a field or table of the dialog's content, not on its frame
    focus = dialog.focusWidget() or next(
        w
        for w in dialog.findChildren(QWidget)
        if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
    )
    qtbot.keyClick(focus, Qt.Key.Key_Escape)
    assert not dialog.isVisible(), focus  # closed, not emptied
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_the_caption_question_is_answered_no_by_escape(
    qtbot: QtBot, school: Station, admin: Actor
) -> None:
    """Esc on "Caption names children" goes back to the caption, never confirms it."""
    make_app()
    host = QWidget()
    qtbot.addWidget(host)
    report = preview_for_text(school, "Millie Smith at the fair", "@year3ijs")
    assert report.found

    def press_escape() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        assert _fits(box.sizeHint())
        qtbot.keyClick(box, Qt.Key.Key_Escape)

    QTimer.singleShot(200, press_escape)
    assert confirm_names(host, report, admin) is None


def test_the_main_window_opens_within_the_screen(
    qtbot: QtBot, school: Station, admin: Actor, tmp_path: Path
) -> None:
    make_app()
    window = MainWindow(school, admin)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    # the default size is the screen's room, and the window can be that small at 150%
    room = available(window)
    assert window.width() <= max(room.width(), window.minimumWidth())
    assert window.height() <= max(room.height(), window.minimumHeight())
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    assert window.statusBar().isVisible()
    # a first start on a screen narrower than ROOMY_WIDTH (offscreen's is) uses all of it
    assert room.width() < ROOMY_WIDTH and window.isMaximized()


@pytest.mark.parametrize("section", ["import", "review", "queue", "children", "audit"])
def test_each_section_fits_the_smallest_screen_without_scrolling(
    qtbot: QtBot, school: Station, admin: Actor, section: str
) -> None:
    """At 1920x1080 and 150% the window has 1264 x 640 logical pixels: the Review page
    needed more and scrolled both ways (its filters, its picture and its face row)."""
    from PySide6.QtWidgets import QScrollArea

    from ijs_vetting.gui.main_window import SECTIONS

    make_app()
    window = MainWindow(school, admin)
    qtbot.addWidget(window)
    window.show()
    window.showNormal()
    window.resize(USABLE)
    window.navigation.setCurrentRow(SECTIONS.index(section))
    qtbot.waitUntil(lambda: window.size() == USABLE)
    QApplication.processEvents()
    scroll = window.findChild(QScrollArea, "pagesScroll")
    assert not scroll.horizontalScrollBar().isVisible(), scroll.horizontalScrollBar().maximum()
    assert not scroll.verticalScrollBar().isVisible(), scroll.verticalScrollBar().maximum()
    if section == "review":  # the search box's words whole ("Searc…" at 150%)
        from PySide6.QtWidgets import QLineEdit

        search = window.review_page.findChild(QLineEdit, "photoSearch")
        words = search.fontMetrics().horizontalAdvance(search.placeholderText())
        assert search.width() >= words + 40, (search.width(), words)
    navigation = window.navigation  # every section's name whole, and no scroll bar under them
    assert navigation.sizeHintForColumn(0) <= navigation.viewport().width()
    assert not navigation.horizontalScrollBar().isVisible()
