"""Audit: every change and refusal, filterable by user, action or record."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTableView, QWidget

from ijs_vetting.gui.table_models import AuditTableModel
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit


class AuditPage(QWidget):
    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "audit_page.ui")
        self.model = AuditTableModel(self)
        self.filter = QSortFilterProxyModel(self)
        self.filter.setSourceModel(self.model)
        self.filter.setFilterKeyColumn(-1)
        self.filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = child(form, QTableView, "auditTable")
        self.table.setModel(self.filter)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        child(form, QLineEdit, "auditSearch").textChanged.connect(self.filter.setFilterFixedString)

    def refresh(self) -> None:
        self.model.set_rows(audit.list_audit(self.station, limit=5000, reader=self.actor))
