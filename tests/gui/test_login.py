"""The login dialog, first-admin set-up and the idle lock, with real widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.login import IdleLock, LoginDialog
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Station

pytestmark = pytest.mark.gui


def _submit(qtbot: QtBot, dialog: LoginDialog, password: str, confirm: str | None = None) -> None:
    field = dialog.findChild(QLineEdit, "passwordEdit")
    field.clear()
    qtbot.keyClicks(field, password)
    if confirm is not None:
        qtbot.keyClicks(dialog.findChild(QLineEdit, "confirmEdit"), confirm)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_first_start_sets_up_the_admin(qtbot: QtBot, sqlite_station: Station) -> None:
    make_app()
    dialog = LoginDialog(sqlite_station)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    assert dialog.findChild(QLineEdit, "passwordEdit").isVisible()
    assert dialog.windowTitle() == "Set up the station"
    username = dialog.findChild(QLineEdit, "usernameEdit")
    username.clear()
    qtbot.keyClicks(username, "mrs.khan")
    _submit(qtbot, dialog, "first-password", "other-password")
    assert "differ" in dialog.findChild(QLabel, "errorLabel").text()
    dialog.findChild(QLineEdit, "confirmEdit").clear()
    _submit(qtbot, dialog, "first-password", "first-password")
    assert dialog.actor is not None and dialog.actor.role is Role.ADMIN
    assert dialog.result() == LoginDialog.DialogCode.Accepted


def test_wrong_password_is_explained_and_right_one_logs_in(
    qtbot: QtBot, sqlite_station: Station
) -> None:
    make_app()
    users.login(sqlite_station, "mrs.khan", "first-password")
    dialog = LoginDialog(sqlite_station)
    qtbot.addWidget(dialog)
    dialog.findChild(QLineEdit, "usernameEdit").setText("mrs.khan")
    assert not dialog.findChild(QLineEdit, "confirmEdit").isVisibleTo(dialog)
    _submit(qtbot, dialog, "not-it-at-all")
    assert "wrong password" in dialog.findChild(QLabel, "errorLabel").text()
    _submit(qtbot, dialog, "first-password")
    assert dialog.actor is not None and dialog.actor.username == "mrs.khan"


def test_idle_lock_needs_the_password_again(qtbot: QtBot, sqlite_station: Station) -> None:
    make_app()
    actor = users.login(sqlite_station, "mrs.khan", "first-password")
    window = QWidget()
    qtbot.addWidget(window)
    page = QLabel("the audit entries an admin left open", window)
    window.show()
    lock = IdleLock(window, sqlite_station, actor, minutes=10)
    lock.lock()
    assert not window.isEnabled() and lock.dialog is not None
    assert not page.isVisible()  # whoever sits down next cannot read what was left open
    dialog = lock.dialog
    assert dialog.findChild(QLineEdit, "usernameEdit").isReadOnly()
    _submit(qtbot, dialog, "first-password")
    assert window.isEnabled() and lock.dialog is None and page.isVisible()
    lock.timer.stop()
    qtbot.keyClick(window.windowHandle(), Qt.Key.Key_A)  # input restarts the countdown
    assert lock.timer.isActive()
    typed_at = lock.last_input
    dialog = QDialog(window)  # input in a dialog counts too, once it has the focus
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is dialog.windowHandle())
    qtbot.keyClick(dialog.windowHandle(), Qt.Key.Key_B)
    assert lock.last_input > typed_at


def test_the_login_suggests_the_last_user_not_the_os_login(
    qtbot: QtBot, sqlite_station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    users.login(sqlite_station, "mrs.khan", "first-password")  # the first admin
    users.add_user(
        sqlite_station,
        users.login(sqlite_station, "mrs.khan", "first-password"),
        "mr.lee",
        Role.SLT,
        "lee-password",
    )
    monkeypatch.setenv("IJS_VETTING_USER", "office-pc")
    first = LoginDialog(sqlite_station)
    qtbot.addWidget(first)
    assert first.findChild(QLineEdit, "usernameEdit").text() == ""  # nobody yet, not "office-pc"
    first.findChild(QLineEdit, "usernameEdit").setText("mr.lee")
    _submit(qtbot, first, "lee-password")
    assert first.actor is not None and first.actor.username == "mr.lee"
    again = LoginDialog(sqlite_station)
    qtbot.addWidget(again)
    assert again.findChild(QLineEdit, "usernameEdit").text() == "mr.lee"


def test_switching_user_opens_the_next_users_own_window(
    qtbot: QtBot, sqlite_station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File > Switch user: the next person logs in as themselves and gets a window of their
    role; the last one's window is closed. Cancel logs out."""
    from PySide6.QtWidgets import QApplication

    from ijs_vetting.gui.main_window import MainWindow
    from ijs_vetting.gui.session import open_session, switch_user

    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    users.add_user(sqlite_station, admin, "mr.lee", Role.STAFF, "lee-password")
    first = open_session(sqlite_station, admin)
    dialog = switch_user(sqlite_station, first)
    assert dialog is not None and dialog.isVisible() and not first.isVisible()
    cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.text() == "Log out and quit"  # what Cancel (and Esc) does here
    assert not any(lock.timer.isActive() for lock in first.findChildren(IdleLock))
    dialog.findChild(QLineEdit, "usernameEdit").setText("mr.lee")
    _submit(qtbot, dialog, "lee-password")
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    shown = [w for w in windows if w.isVisible()]
    assert [w.actor.username for w in shown] == ["mr.lee"]
    assert "Admin" not in [a.text().replace("&", "") for a in shown[0].menuBar().actions()]
    leaving = switch_user(sqlite_station, shown[0])
    assert leaving is not None
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton) -> None:
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append("") or reply)

    answer(QMessageBox.StandardButton.No)  # an Esc by habit: asked, and nothing closes
    qtbot.keyClick(leaving.findChild(QLineEdit, "passwordEdit"), Qt.Key.Key_Escape)
    assert asked and leaving.isVisible()
    answer(QMessageBox.StandardButton.Yes)  # Cancel logs out
    leaving.reject()
    assert not leaving.isVisible() and not shown[0].isVisible()
    for window in windows:
        window.deleteLater()


def test_a_new_idle_time_counts_at_once(qtbot: QtBot, sqlite_station: Station) -> None:
    """Changed in Settings, the idle lock's minutes applied only from the next start."""
    from ijs_vetting.gui.admin_dialogs import SettingsDialog
    from ijs_vetting.gui.session import open_session

    make_app()
    admin = users.login(sqlite_station, "mrs.khan", "first-password")
    window = open_session(sqlite_station, admin)
    qtbot.addWidget(window)
    (lock,) = window.findChildren(IdleLock)
    assert lock.timer.interval() != 60_000
    window.show_settings()
    (dialog,) = window.findChildren(SettingsDialog)
    table = dialog.table
    row = next(
        r
        for r in range(table.rowCount())
        if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == "gui.idle_lock_minutes"
    )
    with qtbot.waitSignal(window.settings_changed):
        table.item(row, 1).setText("1")
    assert lock.timer.interval() == 60_000 and lock.timer.isActive()
    dialog.close()
