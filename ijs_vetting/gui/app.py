"""Starting the GUI: the QApplication, the style sheet, the station and the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from ijs_vetting.assets import resource
from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.demo_offer import offer_demo
from ijs_vetting.gui.login import IdleLock, LoginDialog
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.station import open_station
from ijs_vetting.settings import idle_lock_minutes


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("IJS vetting station")
    app.setOrganizationName("IJS")
    app.setStyleSheet(resource("style.qss").read_text(encoding="utf-8"))
    return app


def run_gui(home: str | None) -> int:
    """Open the station at `home` in the main window; a station that cannot open is explained."""
    app = make_app()
    try:
        station = open_station(home)
    except ServiceError as exc:
        QMessageBox.critical(None, "The station cannot start", str(exc))
        return 1
    login = LoginDialog(station)
    if login.exec() != QDialog.DialogCode.Accepted or login.actor is None:
        station.close()
        return 0
    window = MainWindow(station, login.actor)
    window.show()
    IdleLock(window, station, login.actor, idle_lock_minutes())
    offer_demo(window)
    try:
        return app.exec()
    finally:
        station.close()
