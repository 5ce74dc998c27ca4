"""Audit: every change and refusal, searchable by words, user, child's name or file name, for
a range of days; the chain can be checked and the entries found saved as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.gui.column_fit import fit_on_load, refit
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.jobs import Job, LatestRead, start_job
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.table_models import AuditTableModel
from ijs_vetting.gui.uiload import child, mount_form, named
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.privacy.audit import AuditNames, AuditRow

VERIFY_WORDS = "Check the audit log"


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())


class AuditPage(QWidget):
    """`loaded` fires when a search was read and is shown. Searching and checking the log
    both read the whole log, which grows every day: they run off the GUI thread."""

    loaded = Signal()

    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "audit_page.ui")
        self.model = AuditTableModel(self)
        self.names = AuditNames({}, {})
        self._query: tuple[str, date | None, date | None] = ("", None, None)
        self._reload = LatestRead(
            self._search,
            self._show_found,
            lambda exc: show_error(self, exc, "searching the audit log"),
            self,
        )
        self.job: Job | None = None
        self.table = child(form, QTableView, "auditTable")
        self.table.setModel(self.model)
        fit_on_load(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.search = child(form, QLineEdit, "auditSearch")
        self.search.setPlaceholderText("Search: words, a user, a child's name or a file name")
        # Searching asks the database: wait until the typing pauses.
        self._typing = QTimer(self, singleShot=True, interval=300)
        self._typing.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._typing.start())

        row = QHBoxLayout()
        self.dated = named(QCheckBox("Only from", self), "auditDated")
        today = QDate.currentDate()
        self.since = named(QDateEdit(today.addDays(-7), self), "auditSince")
        self.until = named(QDateEdit(today, self), "auditUntil")
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setEnabled(False)
            edit.dateChanged.connect(lambda _d: self.refresh())
            self.dated.toggled.connect(edit.setEnabled)
        self.dated.toggled.connect(lambda _on: self.refresh())
        self.found = named(QLabel(self), "auditFound")
        self.verify_button = verify = named(QPushButton(VERIFY_WORDS, self), "auditVerifyButton")
        export = named(QPushButton("Save as CSV…", self), "auditExportButton")
        verify.clicked.connect(self.verify)
        export.clicked.connect(self.export)
        gate(verify, actor, "audit.verify", (Role.ADMIN, Role.SLT))
        gate(export, actor, audit.EXPORT_ACTION, audit.EXPORT_ROLES)
        for widget in (self.dated, self.since, QLabel("to", self), self.until, self.found):
            row.addWidget(widget)
        row.addStretch()
        row.addWidget(verify)
        row.addWidget(export)
        layout = form.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(layout.indexOf(self.table), row)

    @property
    def loading(self) -> bool:
        """A search is being read (the page shows what it held before until it ends)."""
        return self._reload.running

    def refresh(self) -> None:
        """Search again, in the background (`loaded` when shown), with the words and days
        as they are now: a search asked for while one runs is read again when it ends."""
        dated = self.dated.isChecked()
        self._query = (
            self.search.text(),
            _day(self.since) if dated else None,
            _day(self.until) if dated else None,
        )
        self._reload.request()

    def _search(self) -> tuple[list[AuditRow], AuditNames]:
        """Runs on a worker thread, so it reads no widget: the words and days are those the
        GUI thread kept at the newest `refresh` (a search read again uses the newest)."""
        text, since, until = self._query
        rows = audit.search_audit(self.station, self.actor, text, since=since, until=until)
        return rows, audit.audit_names(self.station)

    def _show_found(self, found: Any) -> None:
        rows, self.names = found
        self.model.set_names(self.names)
        self.model.set_rows(rows)
        refit(self.table)
        self.found.setText(
            (f"{len(rows)} entries" if len(rows) != 1 else "1 entry")
            + (" (the newest 5000)" if len(rows) >= 5000 else "")
        )
        self.loaded.emit()

    def verify(self) -> None:
        """Check the whole chain in the background (seconds for years of entries)."""
        if self.job is not None and self.job.running:
            return
        self.verify_button.setEnabled(False)
        self.verify_button.setText("Checking the audit log…")
        self.job = start_job(
            lambda _progress: audit.verify_chain(self.station, self.actor),
            on_done=self._verified,
            on_error=self._not_verified,
            parent=self,
        )

    def _checked(self) -> None:
        self.verify_button.setEnabled(True)
        self.verify_button.setText(VERIFY_WORDS)

    def _not_verified(self, exc: BaseException) -> None:
        self._checked()
        show_error(self, exc, "checking the audit log")

    def _verified(self, report: Any) -> None:
        self._checked()
        if report.ok:
            inform(
                self,
                "Audit log",
                f"The audit log is intact: all {report.entries} entries are as they were "
                "written, and every record they added is still there.",
            )
        else:
            where = f" at entry {report.broken_at}" if report.broken_at is not None else ""
            show_error(
                self,
                ServiceError(
                    f"The audit log has been changed outside the station{where}: "
                    f"{report.reason}. Tell the school's data protection officer."
                ),
                "checking the audit log",
            )

    def export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the audit entries", "audit.csv", "CSV (*.csv)"
        )
        if name:
            self.write_csv(Path(name))

    def write_csv(self, path: Path) -> None:
        try:
            count = audit.export_audit_csv(
                self.station, self.actor, path, self.model.rows(), self.names
            )
        except ServiceError as exc:
            show_error(self, exc, "saving the audit entries")
            return
        inform(self, "Audit log", f"{count} entries saved to {path}.")
        self.refresh()
