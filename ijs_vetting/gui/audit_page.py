"""Audit: every change and refusal, searchable by words, user, child's name or file name, for
a range of days; the chain can be checked and the entries found saved as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.table_models import CONTENT_ROWS_MEASURED, AuditTableModel
from ijs_vetting.gui.uiload import child, mount_form, named
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())


class AuditPage(QWidget):
    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "audit_page.ui")
        self.model = AuditTableModel(self)
        self.table = child(form, QTableView, "auditTable")
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setResizeContentsPrecision(CONTENT_ROWS_MEASURED)
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
        verify = named(QPushButton("Check the audit log", self), "auditVerifyButton")
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

    def refresh(self) -> None:
        since, until = (
            (_day(self.since), _day(self.until)) if self.dated.isChecked() else (None, None)
        )
        rows = audit.search_audit(
            self.station, self.actor, self.search.text(), since=since, until=until
        )
        self.names = audit.audit_names(self.station)
        self.model.set_names(self.names)
        self.model.set_rows(rows)
        self.found.setText(
            f"{len(rows)} entries" + (" (the newest 5000)" if len(rows) >= 5000 else "")
        )

    def verify(self) -> None:
        try:
            report = audit.verify_chain(self.station, self.actor)
        except ServiceError as exc:
            show_error(self, exc, "checking the audit log")
            return
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
