"""A child's page: consent per channel with its history, biometric consent, safeguarding flag."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ijs_vetting.domain import ServiceError, year_label
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services import children, consent
from ijs_vetting.services.station import Actor, Station

BIOMETRIC_LABELS = {
    "yes": "Parent consents (signed letter)",
    "no": "Parent refuses or withdraws",
    "child-objects": "The child objects",
    "child-no-longer-objects": "The child no longer objects",
}


def _answer(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


class ChildDialog(QDialog):
    """Shows one child and records changes through the consent services (admins only)."""

    changed = Signal()

    def __init__(
        self, station: Station, actor: Actor, mis_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.mis_id = station, actor, mis_id
        form = mount_form(self, "child_dialog.ui", margins=None)
        self.resize(720, 680)
        self.name = child(form, QLabel, "childName")
        self.details = child(form, QLabel, "childDetails")
        self.consents = child(form, QTableWidget, "consentTable")
        self.history = child(form, QTableWidget, "historyTable")
        self.bio_state = child(form, QLabel, "biometricState")
        self.bio_choice = child(form, QComboBox, "biometricChoice")
        for value, text in BIOMETRIC_LABELS.items():
            self.bio_choice.addItem(text, value)
        self.safe_state = child(form, QLabel, "safeguardingState")
        self.safe_reason = child(form, QLineEdit, "safeguardingReason")
        self.safe_button = child(form, QPushButton, "safeguardingButton")
        child(form, QPushButton, "grantButton").clicked.connect(lambda: self.record(True))
        child(form, QPushButton, "withdrawButton").clicked.connect(lambda: self.record(False))
        child(form, QPushButton, "biometricButton").clicked.connect(self.record_biometric)
        self.safe_button.clicked.connect(self.toggle_safeguarding)
        child(form, QDialogButtonBox, "buttons").rejected.connect(self.reject)
        for table in (self.consents, self.history):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.verticalHeader().hide()
        self.load()

    def load(self) -> None:
        summary = children.get_child(self.station, self.mis_id)
        self.setWindowTitle(f"{summary.display_name} ({summary.mis_id})")
        self.name.setText(summary.display_name)
        left = "" if summary.on_roll else f" · left {summary.date_left or ''}"
        self.details.setText(
            f"{summary.mis_id} · {year_label(summary.year_group)} · class "
            f"{summary.class_name or 'none'}{left}"
        )
        self.consents.setColumnCount(2)
        self.consents.setHorizontalHeaderLabels(["Channel", "Current answer"])
        self.consents.setRowCount(len(summary.consents))
        for row, (channel, granted) in enumerate(summary.consents.items()):
            self.consents.setItem(row, 0, QTableWidgetItem(channel))
            self.consents.setItem(row, 1, QTableWidgetItem(_answer(granted)))
        if self.consents.currentRow() < 0:
            self.consents.selectRow(0)
        rows = children.consent_history(self.station, self.mis_id)
        self.history.setColumnCount(5)
        self.history.setHorizontalHeaderLabels(
            ["Channel", "Answer", "Date given", "Recorded", "Source"]
        )
        self.history.setRowCount(len(rows))
        for row, h in enumerate(rows):
            values = [
                h.channel,
                _answer(h.granted),
                h.given_on.isoformat() if h.given_on else "",
                f"{h.recorded_at.astimezone():%d/%m/%Y %H:%M} by {h.recorded_by}",
                h.source + (" + form" if h.form_sha256 else ""),
            ]
            for column, value in enumerate(values):
                self.history.setItem(row, column, QTableWidgetItem(value))
        state = summary.biometric
        self.bio_state.setText(
            f"Parent consent: {'yes' if state.parent_consent else 'no'}; child objects: "
            f"{'yes' if state.child_objects else 'no'}. Face templates "
            f"{'may be kept' if state.templates_allowed else 'are not kept'}."
        )
        self.safe_state.setText(
            "<b>Never publish: ON.</b> This child may never appear in anything posted."
            if summary.never_publish
            else "No safeguarding restriction."
        )
        self.safe_button.setText(
            "Lift never publish" if summary.never_publish else "Set never publish"
        )
        self._never_publish = summary.never_publish

    def _run(self, doing: str, call: object) -> None:
        try:
            assert callable(call)
            call()
        except ServiceError as exc:
            show_error(self, exc, doing)
            return
        self.load()
        self.changed.emit()

    def _form_file(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Scanned form (optional: Cancel for none)", "", "Scans (*.jpg *.jpeg *.png *.pdf)"
        )
        return Path(name) if name else None

    def record(self, granted: bool) -> None:
        row = self.consents.currentRow()
        if row < 0:
            return
        item = self.consents.item(row, 0)
        if item is None:
            return
        channel = item.text()
        verb = "yes" if granted else "no"
        if (
            QMessageBox.question(self, "Record consent", f"Record '{verb}' for {channel}?")
            != QMessageBox.StandardButton.Yes
        ):
            return
        form = self._form_file()
        self._run(
            "recording consent",
            lambda: consent.set_consent(
                self.station, self.actor, self.mis_id, channel, granted, form=form
            ),
        )

    def record_biometric(self) -> None:
        choice = self.bio_choice.currentData()
        form = self._form_file() if choice == "yes" else None
        self._run(
            "recording biometric consent",
            lambda: consent.set_biometric(
                self.station, self.actor, self.mis_id, consent.BIOMETRIC_CHOICES[choice], form=form
            ),
        )

    def toggle_safeguarding(self) -> None:
        self._run(
            "changing the safeguarding flag",
            lambda: consent.set_safeguarding(
                self.station,
                self.actor,
                self.mis_id,
                not self._never_publish,
                self.safe_reason.text(),
            ),
        )
        self.safe_reason.clear()
