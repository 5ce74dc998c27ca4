"""Children & consent: the register with filters, roster import with a preview, reference
photos, and each child's page."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QWidget,
)

from ijs_vetting.domain import YEAR_GROUPS, Role, ServiceError, year_label
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.gui.child_references import after_enrolment
from ijs_vetting.gui.column_fit import fit_on_load, refit
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.jobs import Job, LatestRead, start_job
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.roster_dialog import RosterDialog
from ijs_vetting.gui.sheet_dialog import SheetDialog
from ijs_vetting.gui.table_models import (
    ChildrenFilter,
    ChildrenTableModel,
)
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.permissions import allows, refusal
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children, letters, roster, templates
from ijs_vetting.services.register.consent_review import due_for_review
from ijs_vetting.services.register.templates import EnrolReport, ReferenceStatus


class ChildrenPage(QWidget):
    """`changed` fires after anything here changed data other screens show; `loaded` when a
    reload of the register was read and is shown."""

    changed = Signal()
    loaded = Signal()

    def __init__(
        self, station: Station, actor: Actor, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.settings = station, actor, settings
        form = mount_form(self, "children_page.ui")
        self.model = ChildrenTableModel(children.channel_codes(station), self)
        self._reload = LatestRead(
            lambda: children.list_children(self.station),
            self._show_rows,
            lambda exc: show_error(self, exc, "loading the register"),
            self,
        )
        self.filter = ChildrenFilter(self)
        self.filter.setSourceModel(self.model)
        self.table = child(form, QTableView, "childrenTable")
        self.table.setModel(self.filter)
        fit_on_load(self.table, stretch=1)
        self.table.verticalHeader().hide()
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        self.table.activated.connect(self.open_child)
        self._connect_filters(form)
        roster_button = child(form, QPushButton, "rosterButton")
        roster_button.clicked.connect(self.import_roster)
        gate(roster_button, actor, roster.ACTION, (Role.ADMIN,))
        references = child(form, QPushButton, "referencesButton")
        references.clicked.connect(self.enrol_references)
        gate(references, actor, templates.ACTION, (Role.ADMIN,))
        top = form.findChild(QHBoxLayout, "childrenTop")
        assert top is not None
        for name, text, slot in (
            ("sheetButton", "Do-not-photograph sheet…", self.print_sheet),
            ("reviewsButton", "Consent reviews…", self.consent_reviews),
        ):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(slot)
            top.addWidget(button)
        self.job: Job | None = None  # nothing is read until the window shows the page

    def _connect_filters(self, form: QWidget) -> None:
        """The search, year, Twitter consent, biometric and on-roll choices over the register."""
        child(form, QLineEdit, "childrenSearch").textChanged.connect(self.filter.set_text)
        year = child(form, QComboBox, "childrenYear")
        year.addItem("All years", None)
        for y in YEAR_GROUPS:
            year.addItem(year_label(y), y)
        year.currentIndexChanged.connect(lambda _i: self.filter.set_year(year.currentData()))
        consent = child(form, QComboBox, "childrenConsent")
        for text, value in (
            ("Any Twitter consent", None),
            ("Twitter: yes", True),
            ("Twitter: no or not recorded", False),
        ):
            consent.addItem(text, value)
        consent.currentIndexChanged.connect(
            lambda _i: self.filter.set_consent("twitter", consent.currentData())
        )
        biometric = child(form, QComboBox, "childrenBiometric")
        for label, state in (
            ("Any biometric state", None),
            ("Face matching allowed", "allowed"),
            ("No biometric consent", "none"),
            ("Child objects", "objects"),
        ):
            biometric.addItem(label, state)
        biometric.currentIndexChanged.connect(
            lambda _i: self.filter.set_biometric(biometric.currentData())
        )
        child(form, QCheckBox, "childrenOnRoll").toggled.connect(self.filter.set_on_roll_only)

    @property
    def loading(self) -> bool:
        """A reload is being read (the page shows what it held before until it ends)."""
        return self._reload.running

    def refresh(self) -> None:
        """Reload the register in the background (`loaded` when shown): a school's whole
        register, with every child's consent, is read off the GUI thread."""
        self._reload.request()

    def _show_rows(self, rows: Any) -> None:
        self.model.set_rows(rows)
        refit(self.table)
        self.loaded.emit()

    def open_child(self, index: QModelIndex) -> None:
        summary = self.model.row(self.filter.mapToSource(index).row())
        dialog = ChildDialog(self.station, self.actor, summary.mis_id, self)
        dialog.changed.connect(self._changed)
        dialog.open()

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def import_roster(self) -> None:
        start = str(self.settings.value("roster/last_folder", ""))
        name, _ = QFileDialog.getOpenFileName(
            self, "Roster CSV from the MIS", start, "CSV files (*.csv *.txt);;All files (*)"
        )
        if not name:
            return
        self.settings.setValue("roster/last_folder", str(Path(name).parent))
        dialog = RosterDialog(self.station, self.actor, Path(name), self)
        dialog.imported.connect(self._changed)
        dialog.preview()

    def enrol_references(self) -> None:
        start = str(self.settings.value("references/last_folder", ""))
        folder = QFileDialog.getExistingDirectory(
            self, "Folder of reference photos (<child id>.jpg or <child id>/…)", start
        )
        if not folder:
            return
        self.settings.setValue("references/last_folder", folder)

        self.job = start_job(
            lambda progress: templates.enrol_references(
                self.station, self.actor, Path(folder), progress=progress
            ),
            on_done=self._enrolled,
            parent=self,
            on_error=lambda e: show_error(self, e, "enrolling reference photos"),
        )

    def print_sheet(self) -> None:
        """A do-not-photograph sheet for a class, a year group or a trip list (PDF, audited)."""
        SheetDialog(self.station, self.actor, self, self.settings).open()

    def consent_reviews(self) -> None:
        """Children whose consent is due for re-confirmation, and the letters list to save."""
        rows = due_for_review(self.station)
        items = "".join(
            f"<li>{escape(r.name)} ({escape(r.class_name)}), {escape(r.channel)}: "
            f"{escape(r.status.state.value)}</li>"
            for r in rows
        )
        text = f"<ul>{items}</ul>" if rows else "<p>No consent is due for review.</p>"
        if rows and not allows(self.actor.role, (Role.ADMIN,)):
            # only admins save the letters list: the others see who is due, not an offer refused
            inform(
                self,
                "Consent reviews",
                text + f"<p>{refusal('consent.letters', (Role.ADMIN,))}</p>",
            )
            return
        if (
            not rows
            or QMessageBox.question(
                self, "Consent reviews", text + "<p>Save the letters list (CSV and PDF)?</p>"
            )
            != QMessageBox.StandardButton.Yes
        ):
            if not rows:
                inform(self, "Consent reviews", text)
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the letters list", "consent reviews.csv", "CSV (*.csv)"
        )
        if not name:
            return
        csv_path = Path(name).with_suffix(".csv")
        try:
            letters.write_letters(
                self.station, self.actor, csv_path=csv_path, pdf_path=csv_path.with_suffix(".pdf")
            )
        except ServiceError as exc:
            show_error(self, exc, "saving the letters list")
            return
        inform(self, "Consent reviews", f"<p>Saved {escape(str(csv_path))} and its PDF.</p>")

    def _enrolled(self, report: Any) -> None:
        assert isinstance(report, EnrolReport)
        # the names the page shows: reading the register again here would block the GUI thread
        names = {c.mis_id: c.display_name for c in self.model.rows()}
        rows = "".join(
            f"<li>{escape(names.get(o.child_id, o.child_id))} ({escape(Path(o.file).name)}): "
            f"{escape(o.message)}</li>"
            for o in report.outcomes
            if o.status != ReferenceStatus.ENROLLED
        )
        text = (
            f"<p>{report.count(ReferenceStatus.ENROLLED)} reference photos enrolled; "
            f"{report.revetted} photos re-checked against them.</p>"
        )
        if rows:
            text += f"<p>Not used:</p><ul>{rows}</ul>"
        text += after_enrolment(
            report, lambda o: f"{names.get(o.child_id, o.child_id)} ({Path(o.file).name})"
        )
        inform(self, "Reference photos", text)
        self._changed()
