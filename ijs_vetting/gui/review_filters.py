"""The Review grid's choices: which photos (status, date taken, year group) and in what order.

Apart from the page because they only narrow what the grid shows: nothing here reads the
register or changes a photo, so the page keeps to showing and acting on photos.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QComboBox, QWidget

from ijs_vetting.domain import YEAR_GROUPS, year_label
from ijs_vetting.gui.photo_model import DATE_FILTERS, STATUS_FILTERS, PhotoFilter
from ijs_vetting.gui.uiload import child


class GridFilters(QObject):
    """The form's status, date, year-group and order boxes, applied to the grid's filter."""

    def __init__(self, form: QWidget, grid_filter: PhotoFilter) -> None:
        super().__init__(form)
        self.grid_filter = grid_filter
        self._year_of: dict[str, int] = {}  # MIS id -> year group, of the children on roll

        self.status = child(form, QComboBox, "statusFilter")
        for text, statuses in STATUS_FILTERS:
            self.status.addItem(text, statuses)
        self.status.currentIndexChanged.connect(
            lambda _i: grid_filter.set_statuses(self.status.currentData())
        )
        grid_filter.set_statuses(STATUS_FILTERS[0][1])

        self.date = child(form, QComboBox, "dateFilter")
        for text, days in DATE_FILTERS:
            self.date.addItem(text, days)
        self.date.currentIndexChanged.connect(lambda _i: self._apply_date())

        self.year = child(form, QComboBox, "yearFilter")
        self.year.addItem("All year groups", None)
        for year in YEAR_GROUPS:
            self.year.addItem(year_label(year), year)
        self.year.currentIndexChanged.connect(lambda _i: self._apply_year())

        self.order = child(form, QComboBox, "sortOrder")
        self.order.addItem("Newest imported", None)
        self.order.addItem("Taken: newest first", Qt.SortOrder.DescendingOrder)
        self.order.addItem("Taken: oldest first", Qt.SortOrder.AscendingOrder)
        self.order.currentIndexChanged.connect(lambda _i: self._apply_order())

    def set_year_groups(self, year_of: dict[str, int]) -> None:
        """Which year group each child on roll is in (a photo is in the year groups of the
        children identified in it); applied again when a year group is chosen."""
        self._year_of = year_of
        if self.year.currentData() is not None:
            self._apply_year()

    def _apply_year(self) -> None:
        self.grid_filter.set_year(self.year.currentData(), self._year_of)

    def _apply_date(self) -> None:
        days = self.date.currentData()
        if days is None:
            self.grid_filter.set_since(None)
            return
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        self.grid_filter.set_since(midnight - timedelta(days=days))

    def _apply_order(self) -> None:
        order = self.order.currentData()
        if order is None:
            self.grid_filter.sort(-1)  # back to the model's order: newest import first
        else:
            self.grid_filter.sort(0, order)
