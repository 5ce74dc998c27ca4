"""The school's devices (admins): add, rename, retire, and register a camera seen in photos.

Photos from a camera that is not a registered device go to review; registering it here from the
cameras the imported photos name saves typing EXIF makes and models by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.screen_fit import fit_size
from ijs_vetting.gui.uiload import named
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            table.setItem(row, column, QTableWidgetItem(value))


class DevicesDialog(QDialog):
    """`changed` fires when the list changed (the import page offers the devices)."""

    changed = Signal()

    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        self.setWindowTitle("School devices")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Photos are accepted from these devices; photos from any other camera wait in "
                "review. A retired device (lost or replaced) is no longer accepted.",
                self,
                wordWrap=True,
            )
        )
        top = QHBoxLayout()
        listed = QVBoxLayout()
        self.table = _table(["Name", "Make", "Model", "State"], self)
        self.table.setObjectName("devicesTable")
        listed.addWidget(self.table)
        row = QHBoxLayout()
        for name, text, slot in (
            ("renameDeviceButton", "Rename…", self.rename),
            ("retireDeviceButton", "Retire…", self.retire),
        ):
            row.addWidget(self._button(name, text, slot))
        row.addStretch()
        listed.addLayout(row)
        top.addLayout(listed, 3)

        add = QGroupBox("Add a device", self)
        form = QFormLayout(add)
        self.name = named(QLineEdit(add, placeholderText="e.g. iPad 3"), "deviceName")
        self.make = named(QLineEdit(add, placeholderText="e.g. Apple"), "deviceMake")
        self.model = named(QLineEdit(add, placeholderText="e.g. iPad (9th gen)"), "deviceModel")
        form.addRow("Name", self.name)
        form.addRow("Make", self.make)
        form.addRow("Model", self.model)
        form.addRow("", self._button("addDeviceButton", "Add device", self.add))
        form.addRow(
            QLabel("Make and model as the photos' camera details give them.", wordWrap=True)
        )
        top.addWidget(add, 2)
        layout.addLayout(top)

        seen = QGroupBox("Cameras in imported photos that are not registered", self)
        seen_layout = QVBoxLayout(seen)
        self.cameras = _table(["Make", "Model", "Photos", "For example"], seen)
        self.cameras.setObjectName("camerasTable")
        seen_layout.addWidget(self.cameras)
        seen_layout.addWidget(
            self._button("registerCameraButton", "Register as a school device…", self.register)
        )
        layout.addWidget(seen)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_size(self, 820, 560)
        self._seen: list[devices.CameraSeen] = []
        self.load()

    def _button(self, name: str, text: str, slot: Callable[[], None]) -> QPushButton:
        button = named(QPushButton(text, self), name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def load(self) -> None:
        self._devices = devices.list_devices(self.station)
        _fill(
            self.table,
            [(d.name, d.make, d.model, "in use" if d.active else "retired") for d in self._devices],
        )
        self._seen = devices.unregistered_cameras(self.station)
        _fill(
            self.cameras,
            [(c.make, c.model, str(c.photos), c.example_file) for c in self._seen],
        )

    def _current(self) -> devices.DeviceInfo | None:
        row = self.table.currentRow()
        return self._devices[row] if 0 <= row < len(self._devices) else None

    def _run(self, doing: str, call: Callable[[], object]) -> bool:
        try:
            call()
        except ServiceError as exc:
            show_error(self, exc, doing)
            return False
        self.load()
        self.changed.emit()
        return True

    def add(self) -> None:
        if self._run(
            "adding the device",
            lambda: devices.add_device(
                self.station, self.actor, self.name.text(), self.make.text(), self.model.text()
            ),
        ):
            for field in (self.name, self.make, self.model):
                field.clear()

    def rename(self) -> None:
        device = self._current()
        if device is None:
            return
        name, ok = QInputDialog.getText(self, "Rename device", "New name:", text=device.name)
        if ok:
            self._run(
                "renaming the device",
                lambda: devices.rename_device(self.station, self.actor, device.name, name),
            )

    def retire(self) -> None:
        device = self._current()
        if device is None or not device.active:
            return
        answer = QMessageBox.question(
            self,
            "Retire device",
            f"Stop accepting photos from {device.name} ({device.make} {device.model})? "
            "Its photos not yet cleared will wait in review.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._run(
                "retiring the device",
                lambda: devices.retire_device(self.station, self.actor, device.name),
            )

    def register(self) -> None:
        row = self.cameras.currentRow()
        if not 0 <= row < len(self._seen):
            return
        camera = self._seen[row]
        name, ok = QInputDialog.getText(
            self,
            "Register camera",
            f"Name for the school device {camera.make} {camera.model}:",
            text=camera.model,
        )
        if ok:
            self._run(
                "registering the camera",
                lambda: devices.register_camera(
                    self.station, self.actor, camera.example_photo_id, name
                ),
            )
