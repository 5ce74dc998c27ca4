"""The demo school on a real main window, shared by the review screens' tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos

ADMIN = Actor("office-admin", Role.ADMIN)


def open_window(qtbot: QtBot, station: Station, actor: Actor) -> MainWindow:
    """The main window at 1366 wide on the Review section, showing every photo."""
    make_app()
    win = MainWindow(station, actor)
    qtbot.addWidget(win)
    win.show()
    win.showNormal()  # it starts maximised on offscreen's small screen
    win.resize(1366, 740)
    qtbot.waitExposed(win)
    win.activateWindow()  # the section shortcuts need the window active
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert win.pages.currentWidget() is win.review_page  # shown, so loading
    wait_loaded(qtbot, win)
    win.review_page.filters.status.setCurrentIndex(win.review_page.filters.status.count() - 1)
    return win


def wait_loaded(qtbot: QtBot, window: MainWindow) -> None:
    """Until the Review page shows what its (background) reload read."""
    qtbot.waitUntil(lambda: not window.review_page.loading, timeout=60_000)


def open_photo(window: MainWindow, file: str) -> photos.PhotoInfo:
    page = window.review_page
    photo = next(p for p in photos.list_photos(window.station) if p.file == file)
    page.select_photo(photo.id)
    QApplication.processEvents()  # the page follows the selection once the change is over
    current = page.current_photo()
    assert current is not None and current.id == photo.id
    return photo


def message_boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]
