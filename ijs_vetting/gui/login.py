"""Logging in, creating the first admin on a new station, and the idle lock.

The office PC is shared, so the station asks who is there at start and again after some idle
minutes; the check itself (Argon2, lockout, audit) lives in `services.users`.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from ijs_vetting.config import acting_username
from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.errors import ask
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station

LAST_USER = "login/last_user"


class LoginDialog(QDialog):
    """Asks for a user and password; `actor` is set when the dialog is accepted."""

    def __init__(
        self, station: Station, parent: QWidget | None = None, *, locked_user: str | None = None
    ) -> None:
        super().__init__(parent)
        self.station = station
        self.actor: Actor | None = None
        form = mount_form(self, "login_dialog.ui", margins=None)
        self.username = child(form, QLineEdit, "usernameEdit")
        self.password = child(form, QLineEdit, "passwordEdit")
        self.confirm = child(form, QLineEdit, "confirmEdit")
        self.error = child(form, QLabel, "errorLabel")
        self.info = info = child(form, QLabel, "loginInfo")
        self.first_admin = users.station_is_new(station)
        self._asks_before_quitting = False  # set when handing the station over
        # The office PC has one OS login for everyone: suggest who logged in last, not it.
        self.remembered = QSettings(str(station.paths.home / "gui.ini"), QSettings.Format.IniFormat)
        last = str(self.remembered.value(LAST_USER, ""))
        self.username.setText(locked_user or (acting_username() if self.first_admin else last))
        if locked_user:
            self.setWindowTitle("Station locked")
            info.setText(
                f"The station locked itself after a while without use. {locked_user}, "
                "enter your password to carry on."
            )
            self.username.setReadOnly(True)
        elif self.first_admin:
            self.setWindowTitle("Set up the station")
            info.setText(
                "This station is new. Choose the name and password of its first admin "
                "(the person who records children and consent)."
            )
        if not self.first_admin:
            self.confirm.hide()
            child(form, QLabel, "confirmLabel").hide()
        self.buttons = buttons = child(form, QDialogButtonBox, "buttons")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        (self.password if self.username.text() else self.username).setFocus()

    def for_next_user(self) -> None:
        """Asked when the station is handed over: Cancel logs the last user out and closes
        the station, so the button says so (an Esc there quit without a word)."""
        self.info.setText("Log in as yourself to carry on. “Log out and quit” closes the station.")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setText("Log out and quit")
        self._asks_before_quitting = True

    def reject(self) -> None:
        """Esc or Cancel. Handing the station over, they close it: asked first (No by default),
        since an Esc pressed by habit ended the app without a word."""
        if self._asks_before_quitting and not ask(
            self, "Log out and quit?", "Close the station? Nobody will be logged in."
        ):
            return
        super().reject()

    def try_login(self) -> None:
        if self.first_admin and self.password.text() != self.confirm.text():
            self.error.setText("The two passwords differ.")
            return
        try:
            self.actor = users.login(self.station, self.username.text(), self.password.text())
        except ServiceError as exc:
            self.error.setText(str(exc))
            self.password.clear()
            return
        self.remembered.setValue(LAST_USER, self.actor.username)
        self.remembered.sync()
        self.accept()


class IdleLock(QObject):
    """Locks the window after `minutes` without keyboard or mouse input.

    Input is watched on the app's windows (each QWindow, as it takes the focus), not on the
    whole application: an application-wide Python event filter made every Qt event (each
    paint, timer and layout) wait for Python's lock while a background read held it, which
    was most of what froze the window during a refresh (issue 15)."""

    _INPUT = frozenset(
        {
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
        }
    )

    def __init__(self, window: QWidget, station: Station, actor: Actor, minutes: int) -> None:
        super().__init__(window)
        self.window, self.station, self.actor = window, station, actor
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, minutes) * 60_000)
        self.timer.timeout.connect(self.lock)
        self._watched: list[QWindow] = []
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.focusWindowChanged.connect(self._watch)
        self._watch(window.windowHandle())
        self.timer.start()
        self.dialog: LoginDialog | None = None
        self._hidden: list[QWidget] = []
        self.last_input = time.monotonic()

    def _watch(self, handle: QWindow | None) -> None:
        """Count input in `handle` too (the main window, then each dialog as it is used)."""
        self._watched = [h for h in self._watched if shiboken6.isValid(h)]  # closed dialogs
        if handle is not None and handle not in self._watched:
            handle.installEventFilter(self)
            self._watched.append(handle)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self._INPUT:
            self.last_input = time.monotonic()
            if self.dialog is None:
                self.timer.start()
        return False

    def idle_seconds(self) -> float:
        """Since the last keyboard or mouse input anywhere in the app."""
        return time.monotonic() - self.last_input

    def lock(self) -> None:
        """Cover the window with the login dialog; only the same user's password opens it.
        What the window showed is hidden meanwhile: a disabled page is still readable, and
        an admin's Audit page left open would be read by whoever sits down next."""
        self.window.setEnabled(False)
        self._hidden = [
            widget
            for widget in self.window.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            )
            if widget.isVisible()
        ]
        for widget in self._hidden:
            widget.hide()
        self.dialog = LoginDialog(self.station, None, locked_user=self.actor.username)
        self.dialog.accepted.connect(self._unlocked)
        self.dialog.rejected.connect(self.window.close)
        self.dialog.open()

    def set_minutes(self, minutes: int) -> None:
        """Lock after `minutes` without input from now on (the countdown starts again)."""
        self.timer.setInterval(max(1, minutes) * 60_000)
        if self.dialog is None:
            self.timer.start()

    def stop(self) -> None:
        """Never lock again (the window is being handed to another user)."""
        self.timer.stop()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.disconnect(self._watch)
        for handle in self._watched:
            if shiboken6.isValid(handle):
                handle.removeEventFilter(self)
        self._watched = []

    def _unlocked(self) -> None:
        self.dialog = None
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self.window.setEnabled(True)
        self.timer.start()
