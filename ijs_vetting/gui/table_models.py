"""Table models for the register and the audit log (model/view, testable without a window)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from ijs_vetting.domain import year_label
from ijs_vetting.services.privacy.audit import AuditNames, AuditRow
from ijs_vetting.services.register.children import ChildSummary

Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "not recorded"
    return "yes" if value else "no"


_COLOURS = {
    "yes": QColor("#1b6e34"),
    "no": QColor("#a4262c"),
    "not recorded": QColor("#767676"),
    "child objects": QColor("#a4262c"),
    "NEVER PUBLISH": QColor("#a4262c"),
    "left": QColor("#767676"),
}


def _answer_colour(text: object) -> QColor | None:
    """Colour yes/no answers so a column of consent reads at a glance (red = may not appear)."""
    return _COLOURS.get(text) if isinstance(text, str) else None


class RowsTableModel(QAbstractTableModel, Generic[T]):
    """A flat table of plain rows (dataclasses from the services) under fixed headers."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []

    def set_rows(self, rows: list[T]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row(self, number: int) -> T:
        return self._rows[number]

    def rows(self) -> list[T]:
        return list(self._rows)

    def headers(self) -> tuple[str, ...]:
        return self.HEADERS

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.headers())

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers()[section]
        return None


class ChildrenTableModel(RowsTableModel[ChildSummary]):
    """Children with their current consent per channel, biometric state and safeguarding flag."""

    FIXED = ("Id", "Name", "Year", "Class")
    TRAILING = ("Biometric", "Never publish", "On roll")

    def __init__(self, channels: list[str], parent: Any = None) -> None:
        super().__init__(parent)
        self._channels = channels
        # Built once: the view asks for the headers for every cell it measures.
        self._headers = (*self.FIXED, *(c.capitalize() for c in channels), *self.TRAILING)

    def headers(self) -> tuple[str, ...]:
        return self._headers

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        child = self.row(index.row())
        column = index.column()
        if role == SORT_ROLE and column == 2:
            return child.year_group
        fixed = len(self.FIXED)
        if role == Qt.ItemDataRole.ForegroundRole:
            return _answer_colour(self.data(index))
        if role not in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return None
        if column < fixed:
            return (
                child.mis_id,
                child.display_name,
                year_label(child.year_group),
                child.class_name,
            )[column]
        if column < fixed + len(self._channels):
            return _yes_no(child.consents[self._channels[column - fixed]])
        return (
            child.biometric.label,
            "NEVER PUBLISH" if child.never_publish else "",  # red, never a green "yes"
            "yes" if child.on_roll else "left",
        )[column - fixed - len(self._channels)]


class ChildrenFilter(QSortFilterProxyModel):
    """Filters the register by free text, year group and on-roll state."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._year: int | None = None
        self._on_roll_only = True
        self._consent: tuple[str, bool] | None = None
        self._biometric: str | None = None  # "allowed", "none" or "objects"
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange()

    def set_year(self, year: int | None) -> None:
        self.beginFilterChange()
        self._year = year
        self.endFilterChange()

    def set_on_roll_only(self, on: bool) -> None:
        self.beginFilterChange()
        self._on_roll_only = on
        self.endFilterChange()

    def set_consent(self, channel: str, granted: bool | None) -> None:
        """Only children whose consent for `channel` is (or is not) granted; None: everyone."""
        self.beginFilterChange()
        self._consent = None if granted is None else (channel, granted)
        self.endFilterChange()

    def set_biometric(self, state: str | None) -> None:
        self.beginFilterChange()
        self._biometric = state
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, ChildrenTableModel)
        child = model.row(source_row)
        bio = child.biometric
        if self._biometric == "allowed" and not bio.templates_allowed:
            return False
        if self._biometric == "none" and (bio.parent_consent or bio.child_objects):
            return False
        if self._biometric == "objects" and not bio.child_objects:
            return False
        if self._consent is not None:
            channel, granted = self._consent
            if bool(child.consents.get(channel)) != granted:
                return False
        if self._on_roll_only and not child.on_roll:
            return False
        if self._year is not None and child.year_group != self._year:
            return False
        if self._text:
            haystack = f"{child.mis_id} {child.display_name} {child.first_name} {child.class_name}"
            return self._text in haystack.lower()
        return True


class AuditTableModel(RowsTableModel[AuditRow]):
    """Audit entries, newest first."""

    HEADERS = ("When", "Who", "Station", "Action", "Record", "What")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._names = AuditNames({}, {})

    def set_names(self, names: AuditNames) -> None:
        """Children's and files' names for the Record and Summary columns (the log itself
        holds ids)."""
        self._names = names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return None
        entry = self.row(index.row())
        match index.column():  # only the cell asked for (the time zone and names cost)
            case 0:
                shown = f"{entry.at.astimezone():%d/%m/%Y %H:%M}"
                return shown if role == Qt.ItemDataRole.DisplayRole else entry.id
            case 1:
                return entry.actor
            case 2:
                return entry.station or ""
            case 3:
                return entry.action
            case 4:
                return self._names.record(entry)
            case _:
                return self._names.summary(entry)
