"""Starting the GUI: the QApplication, the style sheet, the station and the main window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from ijs_vetting.assets import resource
from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.gui.backup_dialogs import remind_backup
from ijs_vetting.gui.demo_offer import offer_demo
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.idle_gc import defer_full_collections
from ijs_vetting.gui.jobs import start_job
from ijs_vetting.gui.login import LoginDialog
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.gui.malloc_arenas import limit_arenas
from ijs_vetting.gui.session import open_session
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.privacy.retention import RetentionReport, run_retention
from ijs_vetting.services.register.consent_lapse import apply_lapses

log = logging.getLogger(__name__)


def _report_uncaught(kind: type[BaseException], exc: BaseException, tb: object) -> None:
    """An exception escaping a Qt slot: log it and tell the user, instead of only stderr."""
    log.error("uncaught exception", exc_info=(kind, exc, tb))  # type: ignore[arg-type]
    window = QApplication.activeWindow()
    show_error(window, exc, "doing that")


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("IJS vetting station")
    app.setOrganizationName("IJS")
    app.setStyleSheet(resource("style.qss").read_text(encoding="utf-8"))
    return app


def start_retention(window: MainWindow) -> None:
    """Apply the retention periods in the background when an admin starts the app (the station
    keeps nothing longer than the school decided, without anyone remembering to run it)."""

    def done(report: object) -> None:
        assert isinstance(report, RetentionReport)
        if report.rejected_photos or report.posted_originals or report.leavers_erased:
            window.statusBar().showMessage(
                f"Retention: {len(report.rejected_photos)} rejected photos and "
                f"{len(report.posted_originals)} posted originals removed, "
                f"{len(report.leavers_erased)} leavers' records erased.",
                15_000,
            )
            window.refresh()

    start_job(
        lambda _p: run_retention(window.station, window.actor),
        on_done=done,
        on_error=lambda e: show_error(window, e, "applying the retention periods"),
        parent=window,
    )


def apply_lapses_on_start(window: MainWindow) -> None:
    """Record consent whose review's grace period ended while the app was closed, whoever logs
    in (decisions already treat it as none; this withdraws what it no longer allows)."""
    try:
        report = apply_lapses(window.station, window.actor)
    except ServiceError as exc:
        show_error(window, exc, "applying consent reviews")
        return
    if report.lapsed:
        window.statusBar().showMessage(
            f"Consent reviews: {len(report.lapsed)} consent record(s) lapsed, "
            f"{len(report.withdrawn)} queue item(s) withdrawn, "
            f"{len(report.takedowns)} post(s) to take down.",
            15_000,
        )
        window.refresh()


def warn_at_start(window: MainWindow, station: Station, actor: Actor) -> None:
    """What the station found wrong as it opened, told to those who can act on it: a vault it
    cannot use (everyone: the register can still be kept, photos wait), an audit anchor missing
    or damaged (SLT and admins, who run `audit verify`: it fails until the file is put back)."""
    if station.vault_fault is not None:
        QMessageBox.warning(window, "The vault cannot be used", station.vault_fault)
    if station.anchor_fault is not None and actor.role in (Role.ADMIN, Role.SLT):
        fault = station.anchor_fault
        QMessageBox.warning(
            window, "The audit log cannot be fully checked", f"{fault[:1].upper()}{fault[1:]}."
        )


def run_gui(home: str | None, vault: str | None = None) -> int:
    """Open the station at `home` in the main window; a station that cannot open is explained."""
    limit_arenas()  # before Qt starts any thread
    app = make_app()
    sys.excepthook = _report_uncaught
    defer_full_collections()  # run at idle by the session's IdleCollector (gui/idle_gc)
    try:
        station = open_station(home, vault=vault)
    except ServiceError as exc:
        QMessageBox.critical(None, "The station cannot start", str(exc))
        return 1
    login = LoginDialog(station)
    if login.exec() != QDialog.DialogCode.Accepted or login.actor is None:
        station.close()
        return 0
    window = open_session(station, login.actor)
    warn_at_start(window, station, login.actor)
    apply_lapses_on_start(window)
    if offer_demo(window) is None and login.actor.role is Role.ADMIN:
        start_retention(window)
        remind_backup(window, station, login.actor)
    try:
        return app.exec()
    finally:
        station.close()
