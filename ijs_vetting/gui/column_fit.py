"""Table columns as wide as their contents, measured once when the rows are loaded.

Qt's ResizeToContents mode measures again on every geometry update (a repaint after a data
change, a scroll, a resize), each time asking the model for the first rows of every column:
at a school's scale that held the GUI thread for 230-400 ms when the Children or Audit page
was shown (issue 15). Here the columns are measured once per load, from the rows a reader
sees first, and then left alone (the user may still drag them).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableView

ROWS_MEASURED = 60  # a screenful and some: the widest of these sets the column's width


def fit_on_load(table: QTableView, *, stretch: int | None = None) -> None:
    """Columns the user can resize, `stretch` taking the room left; measured by `refit`."""
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setResizeContentsPrecision(ROWS_MEASURED)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def refit(table: QTableView) -> None:
    """Measure every resizable column once, after the rows were (re)loaded."""
    model, header = table.model(), table.horizontalHeader()
    if model is None:
        return
    for column in range(model.columnCount()):
        if header.sectionResizeMode(column) is QHeaderView.ResizeMode.Interactive:
            table.resizeColumnToContents(column)
