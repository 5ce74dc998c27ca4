"""The child page's reference photos tab: the photos face matching uses, with their quality in
words, added (chosen or dropped on the page) and removed by an admin.

Apart from the dialog because these are biometric data with their own rules: only admins see
them, none may be added without biometric consent, and removing one sends the photos not yet
cleared to be matched again without it (in the background, audited).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import BiometricState, Role, ServiceError
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.images import to_qimage
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.uiload import child, named
from ijs_vetting.services.core.permissions import allows
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import vetting
from ijs_vetting.services.register import templates
from ijs_vetting.services.register.templates import (
    EnrolReport,
    ReferenceOutcome,
    ReferenceStatus,
)

QUALITY = {"too_small": "too small. ", "blurred": "blurred. "}


def after_enrolment(report: EnrolReport, named: Callable[[ReferenceOutcome], str]) -> str:
    """What an enrolment also did, for the admin's message: the queued posts it sent back to
    review (checked before these templates existed, they are cleared again), and each
    reference whose face is also another child's (`named` names an outcome's photo)."""
    text = ""
    if report.withdrawn:
        text += (
            f"<p>{len(report.withdrawn)} post(s) waiting in the queue went back to review: "
            "they were checked before these reference photos, so they must be cleared again."
            "</p>"
        )
    warned = "".join(
        f"<li>{escape(named(o))}: {escape(o.message)}</li>"
        for o in report.outcomes
        if o.status == ReferenceStatus.ENROLLED and o.reason
    )
    return text + (f"<p>Check:</p><ul>{warned}</ul>" if warned else "")


def references_note(state: BiometricState, count: int) -> str:
    """What the references tab says, above all why it is empty."""
    if state.child_objects:
        why = "The child objects to face matching, so no reference photo may be kept"
        return f"{why} (any there were have been deleted)." if not count else why + "."
    if not state.parent_consent:
        return (
            "No reference photos: there is no parent's biometric consent on file (any photos "
            "there were have been deleted). Without them the station cannot recognise this "
            "child, so their face is always blurred."
        )
    if not count:
        return "No reference photos yet: add a clear, recent photo of the child alone."
    return "Quality: good, too small or blurred (the face must be at least 80 px wide and sharp)."


class ReferencePhotos(QObject):
    """The tab's list, note and buttons on the dialog's `form`; `changed` fires when a reference
    was added or removed (the dialog reloads) and again when the photos were matched again."""

    changed = Signal()

    def __init__(
        self, dialog: QWidget, form: QWidget, station: Station, actor: Actor, mis_id: str
    ) -> None:
        super().__init__(dialog)
        self.dialog, self.station, self.actor, self.mis_id = dialog, station, actor, mis_id
        self.list = child(form, QListWidget, "referenceList")
        self.list.setIconSize(QSize(96, 96))
        self.note = named(QLabel(form, wordWrap=True), "referencesNote")
        row = QHBoxLayout()
        self.add = named(QPushButton("Add reference photos…", form), "addReferenceButton")
        self.remove = named(QPushButton("Remove", form), "removeReferenceButton")
        self.add.clicked.connect(self.choose)
        self.remove.clicked.connect(self.remove_current)
        for button in (self.add, self.remove):
            button.setAutoDefault(False)
            row.addWidget(button)
            gate(button, actor, templates.ACTION, (Role.ADMIN,))
        row.addStretch()
        layout = form.findChild(QVBoxLayout, "refsLayout")
        assert layout is not None
        layout.addWidget(self.note)
        layout.addLayout(row)
        self.job: Job | None = None
        self.revet: Job | None = None

    def load(self, biometric: BiometricState) -> None:
        self.list.clear()
        if not allows(self.actor.role, (Role.ADMIN,)):
            self.note.setText("Reference photos are shown to admins only.")
            return
        found = templates.child_templates(self.station, self.actor, self.mis_id)
        for info in found:
            picture = templates.reference_picture(self.station, self.actor, info.id)
            item = QListWidgetItem(
                QIcon(QPixmap.fromImage(to_qimage(picture))),
                f"{info.reference_name}\n{info.verdict}",
            )
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            self.list.addItem(item)
        self.note.setText(references_note(biometric, len(found)))
        self.add.setEnabled(biometric.templates_allowed)
        self.remove.setEnabled(bool(found))

    def choose(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self.dialog,
            "Reference photos of this child",
            "",
            "Photos (*.jpg *.jpeg *.png *.heic)",
        )
        self.enrol([Path(n) for n in names])

    def remove_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.text().splitlines()[0]
        if (
            QMessageBox.question(
                self.dialog,
                "Remove reference photo",
                f"Remove the reference photo {name}? Photos not yet cleared are matched again "
                "without it.",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        try:
            templates.remove_template(
                self.station, self.actor, int(item.data(Qt.ItemDataRole.UserRole))
            )
        except ServiceError as exc:
            show_error(self.dialog, exc, "removing the reference photo")
            return
        self.changed.emit()
        self.revet = start_job(
            lambda p: vetting.revet_pending(self.station, self.actor, progress=p),
            on_done=lambda _r: self.changed.emit(),
            parent=self,
            on_error=lambda e: show_error(self.dialog, e, "checking photos again"),
        )

    def enrol(self, files: list[Path]) -> None:
        """Check and enrol `files` as this child's references, in the background. The face
        engine takes seconds to start, so the tab says at once what it is doing (a silent
        five seconds after choosing a photo looked like nothing had happened)."""
        if not files or (self.job is not None and self.job.running):
            return
        self.add.setEnabled(False)
        self.add.setText("Adding reference photos…")
        self.note.setText(
            f"Looking for the child's face in {len(files)} photo(s); the face engine takes a "
            "few seconds to start…"
        )
        self.job = start_job(
            lambda p: templates.enrol_files(
                self.station, self.actor, self.mis_id, files, progress=p
            ),
            on_done=self._enrolled,
            on_progress=self._progressed,
            parent=self,
            on_error=self._failed,
        )

    def _progressed(self, done: int, total: int, message: str) -> None:
        if total:
            self.note.setText(f"Checking the reference photos: {done} of {total}. {message}")

    def _finished(self) -> None:
        self.add.setText("Add reference photos…")  # enabled again by `load`, if still allowed

    def _failed(self, exc: BaseException) -> None:
        self._finished()
        show_error(self.dialog, exc, "adding reference photos")
        self.changed.emit()  # the tab's note and buttons as the register has them

    def _enrolled(self, report: Any) -> None:
        self._finished()
        refused = "".join(
            f"<li>{escape(o.file.split('-', 1)[-1])}: {escape(QUALITY.get(o.reason or '', ''))}"
            f"{escape(o.message)}</li>"
            for o in report.outcomes
            if o.status != ReferenceStatus.ENROLLED
        )
        text = (
            f"<p>{report.count(ReferenceStatus.ENROLLED)} reference photo(s) added (good); "
            f"{report.revetted} photos checked again against them.</p>"
        )
        if refused:
            text += f"<p>Not used:</p><ul>{refused}</ul>"
        text += after_enrolment(report, lambda o: o.file.split("-", 1)[-1])
        inform(self.dialog, "Reference photos", text)
        self.changed.emit()
