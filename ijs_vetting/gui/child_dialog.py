"""A child's page: consent per channel with its history, biometric consent, safeguarding flag."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import (
    BIOMETRIC_CHOICES,
    PermissionDenied,
    QueueStatus,
    Role,
    ServiceError,
    year_label,
)
from ijs_vetting.gui.caption_warning import WARNING_STYLE
from ijs_vetting.gui.child_references import ReferencePhotos
from ijs_vetting.gui.enter_key import enter_presses
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.images import to_qimage
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.screen_fit import fit_size, scroll_tabs
from ijs_vetting.gui.uiload import child, mount_form, named
from ijs_vetting.services.core.permissions import allows
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import queue
from ijs_vetting.services.register import children, consent, forms

BIOMETRIC_LABELS = {
    "yes": "Parent consents (signed letter)",
    "no": "Parent refuses or withdraws",
    "child-objects": "The child objects",
    "child-no-longer-objects": "The child no longer objects",
}


def _answer(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def ask_form_date(parent: QWidget) -> date | None:
    """The date written on a scanned form (consent counts from then), or None if cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Date on the form")
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("What date did the parent write on the form?", dialog))
    field = named(QDateEdit(QDate.currentDate(), dialog), "formDate")
    field.setCalendarPopup(True)
    field.setMaximumDate(QDate.currentDate())
    field.setDisplayFormat("d MMMM yyyy")
    layout.addWidget(field)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    picked = field.date()
    return date(picked.year(), picked.month(), picked.day())


class ChildDialog(QDialog):
    """Shows one child and records changes through the consent services (admins only)."""

    changed = Signal()

    def __init__(
        self, station: Station, actor: Actor, mis_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.mis_id = station, actor, mis_id
        form = mount_form(self, "child_dialog.ui", margins=None)
        scroll_tabs(child(form, QTabWidget, "childTabs"))
        fit_size(self, 760, 620)
        self.name = child(form, QLabel, "childName")
        self.details = child(form, QLabel, "childDetails")
        self.consents = child(form, QTableWidget, "consentTable")
        self.history = child(form, QTableWidget, "historyTable")
        self.bio_state = child(form, QLabel, "biometricState")
        self.bio_choice = child(form, QComboBox, "biometricChoice")
        for value, text in BIOMETRIC_LABELS.items():
            self.bio_choice.addItem(text, value)
        self.parent_name = child(form, QLineEdit, "parentEdit")
        self.safe_state = child(form, QLabel, "safeguardingState")
        self.safe_reason = child(form, QLineEdit, "safeguardingReason")
        self.safe_button = child(form, QPushButton, "safeguardingButton")
        child(form, QPushButton, "grantButton").clicked.connect(lambda: self.record(True))
        child(form, QPushButton, "withdrawButton").clicked.connect(lambda: self.record(False))
        child(form, QPushButton, "biometricButton").clicked.connect(self.record_biometric)
        self.safe_button.clicked.connect(self.toggle_safeguarding)
        for name, action in (
            ("grantButton", "consent.set"),
            ("withdrawButton", "consent.set"),
            ("safeguardingButton", "safeguarding.set"),
        ):
            gate(child(form, QPushButton, name), actor, action, (Role.ADMIN,))
        child(form, QDialogButtonBox, "buttons").rejected.connect(self.reject)
        self.form_list = child(form, QListWidget, "formList")
        self.form_list.currentRowChanged.connect(lambda _row: self._show_form())
        self.page = child(form, QSpinBox, "pageSpin")
        self.page.valueChanged.connect(lambda _v: self._show_page())
        self.preview = child(form, QLabel, "formPreview")
        self.references = ReferencePhotos(self, form, station, actor, mis_id)
        self.references.changed.connect(self._changed)
        self._pages: list[QImage] = []
        self.setAcceptDrops(True)
        for table in (self.consents, self.history):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.verticalHeader().hide()
        enter_presses(self, {self.safe_reason: self.safe_button})
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
            name = QTableWidgetItem(channel.capitalize())
            name.setData(Qt.ItemDataRole.UserRole, channel)  # the code the services take
            self.consents.setItem(row, 0, name)
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
                h.channel.capitalize(),
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
        self.safe_state.setText(self._safeguarding_text(summary.never_publish))
        self.safe_state.setStyleSheet(WARNING_STYLE if summary.never_publish else "")
        self.safe_button.setText(
            "Lift never publish" if summary.never_publish else "Set never publish"
        )
        self._never_publish = summary.never_publish
        self._load_forms()
        self.references.load(state)

    def _safeguarding_text(self, never_publish: bool) -> str:
        """Never publish in red, with its reason for those allowed to read it."""
        if not never_publish:
            return "No safeguarding restriction."
        text = "<b>Never publish: ON.</b> This child may never appear in anything posted."
        if allows(self.actor.role, children.SAFEGUARDING_READERS):
            reason = children.never_publish_reason(self.station, self.actor, self.mis_id)
            text += f"<br>Reason: {escape(reason or 'none recorded')}"
        return text

    def _load_forms(self) -> None:
        """Forms are for admins and SLT; for anyone else the tab says so instead."""
        self.form_list.clear()
        try:
            found = forms.child_forms(self.station, self.actor, self.mis_id)
        except PermissionDenied:
            self.preview.setText("Scanned forms are shown to admins and SLT only.")
            return
        for info in found:
            item = QListWidgetItem(f"{info.filename} ({info.uploaded_at.astimezone():%d/%m/%Y})")
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            self.form_list.addItem(item)
        if not found:
            self.preview.setText("No scanned form on file.")

    def _show_form(self) -> None:
        item = self.form_list.currentItem()
        if item is None:
            return
        try:
            pages = forms.form_pages(self.station, self.actor, item.data(Qt.ItemDataRole.UserRole))
        except ServiceError as exc:
            show_error(self, exc, "showing the form")
            return
        self._pages = [to_qimage(p) for p in pages]
        self.page.setMaximum(max(1, len(self._pages)))
        self.page.setValue(1)
        self._show_page()

    def _show_page(self) -> None:
        if self._pages:
            image = self._pages[min(self.page.value(), len(self._pages)) - 1]
            self.preview.setPixmap(
                QPixmap.fromImage(image).scaledToWidth(
                    min(image.width(), 900), Qt.TransformationMode.SmoothTransformation
                )
            )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Reference photos dropped on the page are checked and enrolled in the background."""
        self.references.enrol(
            [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        )

    def _run(self, doing: str, call: object) -> bool:
        try:
            assert callable(call)
            call()
        except ServiceError as exc:
            show_error(self, exc, doing)
            return False
        self._changed()
        return True

    def _changed(self) -> None:
        self.load()
        self.changed.emit()

    def _form_file(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Scanned form (optional: Cancel for none)", "", "Scans (*.jpg *.jpeg *.png *.pdf)"
        )
        return Path(name) if name else None

    def _withdrawal_impact(self) -> str:
        """What a "no" would pull from the queue and which public posts it would flag."""
        affected = queue.items_showing(self.station, self.mis_id)
        waiting = [i for i in affected if i.status is not QueueStatus.POSTED]
        posted = [i for i in affected if i.status is QueueStatus.POSTED]
        text = ""
        if waiting:
            text += (
                f"\n\n{len(waiting)} queued item(s) showing this child will be withdrawn "
                "and their photos sent back to review."
            )
        if posted:
            text += (
                f"\n\n{len(posted)} post(s) already public will be listed for takedown: "
                + ", ".join(i.post_url or i.account for i in posted)
            )
        return text

    def record(self, granted: bool) -> None:
        row = self.consents.currentRow()
        if row < 0:
            return
        item = self.consents.item(row, 0)
        if item is None:
            return
        channel = str(item.data(Qt.ItemDataRole.UserRole))
        verb = "yes" if granted else "no"
        question = f"Record '{verb}' for {item.text()}?"
        if not granted:
            question += self._withdrawal_impact()
        if QMessageBox.question(self, "Record consent", question) != QMessageBox.StandardButton.Yes:
            return
        form = self._form_file()
        given_on = ask_form_date(self) if form is not None else None
        if form is not None and given_on is None:
            return
        self._run(
            "recording consent",
            lambda: consent.set_consent(
                self.station,
                self.actor,
                self.mis_id,
                channel,
                granted,
                form=form,
                given_on=given_on,
            ),
        )

    def record_biometric(self) -> None:
        choice = self.bio_choice.currentData()
        if choice in ("no", "child-objects") and not self._confirm_deletion(choice):
            return
        parent = self.parent_name.text() if choice in ("yes", "no") else None
        form = self._form_file() if choice == "yes" else None
        given_on = ask_form_date(self) if form is not None else None
        if form is not None and given_on is None:
            return
        self._run(
            "recording biometric consent",
            lambda: consent.set_biometric(
                self.station,
                self.actor,
                self.mis_id,
                BIOMETRIC_CHOICES[choice],
                form=form,
                given_on=given_on,
                parent=parent,
            ),
        )
        self.parent_name.clear()

    def _confirm_deletion(self, choice: str) -> bool:
        """An objection or withdrawal deletes the child's reference photos: say so first."""
        count = self.references.list.count()
        who = "the child objects" if choice == "child-objects" else "the parent withdraws"
        deletes = (
            f"This deletes the child's {count} reference photo(s) and their face templates; "
            "the station will no longer recognise this child, so their face is blurred in "
            "every photo not yet posted."
            if count
            else "No reference photos are kept for this child, so nothing is deleted."
        )
        answer = QMessageBox.question(self, "Biometric consent", f"Record that {who}?\n\n{deletes}")
        return answer == QMessageBox.StandardButton.Yes

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
