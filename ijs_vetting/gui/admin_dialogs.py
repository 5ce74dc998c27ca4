"""The admin's dialogs: the station's users (add, set a password) and its settings."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.gui import setting_labels
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.jobs import start_job
from ijs_vetting.gui.screen_fit import fit_size
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.progress import Cancelled
from ijs_vetting.services.core import station_settings, users
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import configure


class UsersDialog(QDialog):
    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "users_dialog.ui", margins=None)
        self.setWindowTitle("Users")
        fit_size(self, 640, 480)
        self.table = child(form, QTableWidget, "usersTable")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.username = child(form, QLineEdit, "newUsername")
        self.password = child(form, QLineEdit, "newPassword")
        self.role = child(form, QComboBox, "newRole")
        for role in (Role.STAFF, Role.SLT, Role.ADMIN):
            self.role.addItem(role.label, role)
        child(form, QPushButton, "addUserButton").clicked.connect(self.add_user)
        child(form, QPushButton, "resetPasswordButton").clicked.connect(self.set_password)
        child(form, QDialogButtonBox, "buttons").rejected.connect(self.reject)
        self.load()

    def load(self) -> None:
        rows = users.list_users(self.station, self.actor)
        self.table.setColumnCount(4)
        self.table.setHorizontalHeaderLabels(["Login", "Name", "Role", "State"])
        self.table.setRowCount(len(rows))
        for row, user in enumerate(rows):
            state = "locked" if user.locked else ("active" if user.active else "disabled")
            for column, value in enumerate(
                (user.username, user.display_name, user.role.label, state)
            ):
                self.table.setItem(row, column, QTableWidgetItem(value))

    def add_user(self) -> None:
        try:
            users.add_user(
                self.station,
                self.actor,
                self.username.text(),
                Role(self.role.currentData()),
                self.password.text(),
            )
        except ServiceError as exc:
            show_error(self, exc, "adding the user")
            return
        self.username.clear()
        self.password.clear()
        self.load()

    def set_password(self) -> None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        if item is None:
            return
        password, ok = QInputDialog.getText(
            self, "Set password", f"New password for {item.text()}:", QLineEdit.EchoMode.Password
        )
        if not ok:
            return
        try:
            users.set_password(self.station, self.actor, item.text(), password)
        except ServiceError as exc:
            show_error(self, exc, "setting the password")
            return
        self.load()


class SettingsDialog(QDialog):
    """Settings in a table; editing a value sets it through the service (checked, audited).
    A value the service refuses is said under the table, in the setting's words, and the
    value in force is shown again: a message box raised by the background job came after
    Enter had closed the dialog."""

    changed = Signal()

    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "settings_dialog.ui", margins=None)
        self.setWindowTitle("Settings")
        fit_size(self, 720, 560)
        self.table = child(form, QTableWidget, "settingsTable")
        self.error = child(form, QLabel, "settingError")
        self.table.verticalHeader().hide()
        child(form, QDialogButtonBox, "buttons").rejected.connect(self.reject)
        self._loading = False
        self.table.itemChanged.connect(self._edited)
        self.load()

    def load(self) -> None:
        self._loading = True
        rows = station_settings.list_settings(self.station)
        self.table.setColumnCount(3)
        self.table.setHorizontalHeaderLabels(["Setting", "Value", "Default"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setRowCount(len(rows))
        for row, (key, (value, default)) in enumerate(rows.items()):
            name = QTableWidgetItem(setting_labels.label(key))
            name.setData(Qt.ItemDataRole.UserRole, key)
            name.setToolTip(key)
            name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
            shipped = QTableWidgetItem(setting_labels.shown(default))
            shipped.setFlags(shipped.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(setting_labels.shown(value)))
            self.table.setItem(row, 2, shipped)
        self._loading = False

    def _edited(self, item: QTableWidgetItem) -> None:
        if self._loading or item.column() != 1:
            return
        key_item = self.table.item(item.row(), 0)
        if key_item is None:
            return
        key, raw = str(key_item.data(Qt.ItemDataRole.UserRole)), item.text()
        label = key_item.text()
        try:
            configure.check_setting(key, raw)
        except ServiceError as exc:
            self._refused(exc, key, label)
            return
        self.error.clear()
        # A match setting re-decides every undecided photo (seconds at a school's scale): off
        # the GUI thread, with progress and Cancel (the setting itself is saved first).
        dialog = QProgressDialog(f"Applying {label}…", "Cancel", 0, 0, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(500)

        def progress(done: int, total: int, message: str) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)
            dialog.setLabelText(f"{label}: {message}" if message else f"Applying {label}…")

        def finished(_value: object) -> None:
            dialog.reset()
            self.changed.emit()
            self.load()

        def failed(exc: BaseException) -> None:
            dialog.reset()
            if isinstance(exc, Cancelled):  # saved; the photos not reached are decided again
                self.changed.emit()  # when cleared (clearing always decides first)
            elif isinstance(exc, ServiceError):
                self._refused(exc, key, label)
            else:
                show_error(self, exc, "changing the setting")
            self.load()

        self.job = start_job(
            lambda p: configure.set_setting(self.station, self.actor, key, raw, progress=p),
            on_done=finished,
            on_error=failed,
            on_progress=progress,
            parent=self,
        )
        dialog.canceled.connect(self.job.cancel)

    def _refused(self, exc: ServiceError, key: str, label: str) -> None:
        reason = str(exc).removeprefix(f"Cannot set {key}: ").replace(key, "it")
        self.error.setText(f"“{label}” was not changed: {reason}")
        QTimer.singleShot(0, self.load)  # not while the table is still closing the editor
