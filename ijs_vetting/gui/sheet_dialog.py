"""Choosing who a do-not-photograph sheet is for: a class, a year group or a trip list.

A trip list is picked from the register (ticked, with a search) or pasted (one name or MIS id a
line, as the trip's letter lists them); both together are one list. The service checks that every
pasted line names exactly one child on roll, so a typo refuses the sheet rather than leaving a
child off it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import ServiceError, year_label
from ijs_vetting.gui.enter_key import enter_presses
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.jobs import LatestRead
from ijs_vetting.gui.screen_fit import fit_size
from ijs_vetting.gui.uiload import named
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children, sheets
from ijs_vetting.services.register.children import ChildSummary
from ijs_vetting.services.register.sheets import SheetReport


@dataclass(frozen=True)
class Scope:
    label: str  # for the file name
    year: int | None = None
    class_name: str | None = None
    names: list[str] | None = None


class SheetDialog(QDialog):
    """`report` is set once a sheet was saved. The register (a whole school) is read off the
    GUI thread: the choices fill, and Save is offered, when `loaded` fires."""

    loaded = Signal()

    def __init__(
        self,
        station: Station,
        actor: Actor,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.settings = station, actor, settings
        self.report: SheetReport | None = None
        self.setWindowTitle("Do-not-photograph sheet")
        layout = QVBoxLayout(self)
        layout.addLayout(self._scope_choice())
        self.trip = self._trip_list()
        layout.addWidget(self.trip)
        self.by_list.toggled.connect(self.trip.setEnabled)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save PDF…")
        self.save_button.setEnabled(False)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        enter_presses(self)  # Enter in the search box is not Save
        self.summary.setText("Reading the register…")
        for choice in (self.by_class, self.by_year, self.by_list, self.classes, self.years):
            choice.setEnabled(False)  # until the register is read: nothing chosen is overridden
        self.trip.setEnabled(False)
        self._register = LatestRead(
            lambda: children.list_children(station, include_left=False),
            self._fill,
            lambda exc: show_error(self, exc, "reading the register"),
            self,
        )
        self._register.request()
        fit_size(self, 640, 560)

    @property
    def loading(self) -> bool:
        return self._register.running

    def _fill(self, rows: list[ChildSummary]) -> None:
        """The classes, year groups and trip list of the children on roll."""
        self.classes.addItems(sorted({r.class_name for r in rows if r.class_name}))
        for year in sorted({r.year_group for r in rows}):
            self.years.addItem(year_label(year), year)
        for r in sorted(rows, key=lambda r: (r.year_group, r.class_name or "", r.display_name)):
            item = QListWidgetItem(f"{r.display_name} ({r.class_name or year_label(r.year_group)})")
            item.setData(Qt.ItemDataRole.UserRole, r.mis_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.picked.addItem(item)
        for choice in (self.by_class, self.by_year, self.by_list, self.save_button):
            choice.setEnabled(True)
        self.by_class.setChecked(True)
        if not self.classes.count():
            self.by_list.setChecked(True)
        self._count()
        self.loaded.emit()

    def _scope_choice(self) -> QGridLayout:
        """The channel, and whom the sheet is for: a class, a year group or a trip list."""
        grid = QGridLayout()
        self.channel = named(QComboBox(self), "sheetChannel")
        for code in children.channel_codes(self.station):
            self.channel.addItem(code.capitalize(), code)
        grid.addWidget(QLabel("Channel", self), 0, 0)
        grid.addWidget(self.channel, 0, 1)
        self.scope_group = QButtonGroup(self)
        self.by_class = named(QRadioButton("A class", self), "sheetByClass")
        self.by_year = named(QRadioButton("A year group", self), "sheetByYear")
        self.by_list = named(QRadioButton("A trip list", self), "sheetByList")
        self.classes = named(QComboBox(self), "sheetClass")
        self.years = named(QComboBox(self), "sheetYear")
        for row, (button, choice) in enumerate(
            ((self.by_class, self.classes), (self.by_year, self.years)), start=1
        ):
            self.scope_group.addButton(button)
            grid.addWidget(button, row, 0)
            grid.addWidget(choice, row, 1)
            button.toggled.connect(choice.setEnabled)
        self.scope_group.addButton(self.by_list)
        grid.addWidget(self.by_list, 3, 0)
        return grid

    def _trip_list(self) -> QWidget:
        """The children on roll to tick, and a box to paste names into."""
        box = QWidget(self)
        trip = QGridLayout(box)
        trip.setContentsMargins(0, 0, 0, 0)
        self.search = named(QLineEdit(box), "sheetSearch")
        self.search.setPlaceholderText("Find a child…")
        self.search.textChanged.connect(self._filter)
        self.picked = named(QListWidget(box), "sheetChildren")
        self.picked.itemChanged.connect(lambda _item: self._count())
        self.pasted = named(QPlainTextEdit(box), "sheetPasted")
        self.pasted.setPlaceholderText("Or paste names, one a line\n(e.g. Millie Smith, or a UPN)")
        self.pasted.textChanged.connect(self._count)
        trip.addWidget(QLabel("Tick the children going", box), 0, 0)
        trip.addWidget(QLabel("Paste a list", box), 0, 1)
        trip.addWidget(self.search, 1, 0)
        trip.addWidget(self.picked, 2, 0)
        trip.addWidget(self.pasted, 1, 1, 2, 1)
        self.summary = named(QLabel(box), "sheetCount")
        trip.addWidget(self.summary, 3, 0, 1, 2)
        return box

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.picked.count()):
            item = self.picked.item(row)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def ticked(self) -> list[str]:
        """MIS ids of the children ticked in the list."""
        return [
            str(self.picked.item(r).data(Qt.ItemDataRole.UserRole))
            for r in range(self.picked.count())
            if self.picked.item(r).checkState() == Qt.CheckState.Checked
        ]

    def lines(self) -> list[str]:
        """The trip list as the service reads it: ticked MIS ids, then the pasted lines."""
        pasted = [line for line in self.pasted.toPlainText().splitlines() if line.strip()]
        return self.ticked() + pasted

    def _count(self) -> None:
        ticked = len(self.ticked())
        pasted = len([x for x in self.pasted.toPlainText().splitlines() if x.strip()])
        self.summary.setText(f"{ticked} ticked, {pasted} pasted.")

    def scope(self) -> Scope:
        """Who the sheet is for, as `sheets.make_sheet` takes it."""
        if self.by_list.isChecked():
            return Scope("trip", names=self.lines())
        if self.by_year.isChecked():
            return Scope(self.years.currentText(), year=int(self.years.currentData()))
        return Scope(f"class {self.classes.currentText()}", class_name=self.classes.currentText())

    def save(self) -> None:
        scope = self.scope()
        if scope.names == []:
            show_error(self, ServiceError("Tick the children going, or paste their names."), "")
            return
        if scope.names is not None:
            try:
                sheets.check_trip_list(self.station, scope.names)
            except ServiceError as exc:
                show_error(self, exc, "checking the trip list")
                return
        start = str(self.settings.value("sheets/last_folder", "")) if self.settings else ""
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save the sheet",
            str(Path(start) / f"do-not-photograph {scope.label}.pdf"),
            "PDF (*.pdf)",
        )
        if not name:
            return
        if self.settings is not None:
            self.settings.setValue("sheets/last_folder", str(Path(name).parent))
        self.write(Path(name), scope)

    def write(self, path: Path, scope: Scope) -> None:
        try:
            self.report = sheets.make_sheet(
                self.station,
                self.actor,
                path,
                channel=str(self.channel.currentData()),
                year=scope.year,
                class_name=scope.class_name,
                names=scope.names,
            )
        except ServiceError as exc:
            show_error(self, exc, "printing the sheet")
            return
        listed = sum(len(e) for e in self.report.classes.values())
        inform(
            self.parentWidget() or self,
            "Do-not-photograph sheet",
            f"<p>{listed} of {self.report.selected} children must not appear on "
            f"{escape(self.report.channel.capitalize())}: saved to {escape(str(path))} "
            f"({len(self.report.classes)} page(s), one per class).</p>",
        )
        self.accept()
