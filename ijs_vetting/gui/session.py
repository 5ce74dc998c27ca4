"""A user's session in the main window, and switching to another user without quitting.

The office PC has one OS login for everyone: the next person logs in as themselves, and the
window the last one used (their role's menus, the pages they left open) is closed, not reused."""

from __future__ import annotations

from PySide6.QtCore import QObject

from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.idle_gc import IdleCollector
from ijs_vetting.gui.jobs import Job, LatestRead
from ijs_vetting.gui.login import IdleLock, LoginDialog
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current


def open_session(station: Station, actor: Actor) -> MainWindow:
    """The main window for `actor`, shown, with its idle lock and its Switch user."""
    window = MainWindow(station, actor)
    window.show()
    lock = IdleLock(window, station, actor, current(station).idle_lock_minutes)
    IdleCollector(window, lock.idle_seconds, lambda: busy(window))
    # a new idle time counts from now, not from the next start
    window.settings_changed.connect(lambda: lock.set_minutes(current(station).idle_lock_minutes))
    window.switch_user.connect(lambda: switch_user(station, window))
    return window


def busy(window: QObject) -> bool:
    """A job the user started (an import, a clearing, an export) is still running in it;
    a page re-reading its data does not count."""
    return any(
        job.running and not isinstance(job.parent(), LatestRead) for job in window.findChildren(Job)
    )


def switch_user(station: Station, old: MainWindow) -> LoginDialog | None:
    """Ask who is next; their own window replaces `old`. Cancel logs out (the app ends)."""
    if busy(old):
        show_error(
            old,
            ServiceError("Wait for the work in progress to finish (or cancel it), then switch."),
            "switching user",
        )
        return None
    old.hide()
    for lock in old.findChildren(IdleLock):  # it would lock the hidden window meanwhile
        lock.stop()
    login = LoginDialog(station)
    login.setWindowTitle("Switch user")
    login.for_next_user()

    def accepted() -> None:
        assert login.actor is not None
        open_session(station, login.actor)
        old.close()
        old.deleteLater()

    login.accepted.connect(accepted)
    login.rejected.connect(old.close)
    login.open()
    return login
