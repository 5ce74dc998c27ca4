"""Enter in a dialog's text field: it presses the button that field belongs to, or nothing.

A dialog's default button otherwise takes every Enter a text field leaves unused: the last
button clicked ("Record 'no' for twitter?" asked again), Close, which shuts the dialog and loses
what was typed, or Save (the button box makes its first one default when it is shown)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDialog, QLineEdit, QPushButton

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class _EnterStops(QObject):
    """A text field takes its Enter (`returnPressed`, `editingFinished`) and passes it on to
    nobody, so the dialog's default button never sees it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(watched, QLineEdit)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _ENTER
        ):
            QLineEdit.keyPressEvent(watched, event)
            event.accept()  # a key event ignored goes on to the parents, filtered or not
            return True
        return super().eventFilter(watched, event)


def enter_presses(dialog: QDialog, fields: Mapping[QLineEdit, QPushButton] | None = None) -> None:
    """Enter in a text field of `dialog` presses the button given for it, and no other (the
    fields inside spin boxes and combo boxes keep their own Enter)."""
    guard = _EnterStops(dialog)
    for field in dialog.findChildren(QLineEdit):
        if not isinstance(field.parentWidget(), QAbstractSpinBox | QComboBox):
            field.installEventFilter(guard)
    for field, button in (fields or {}).items():
        field.returnPressed.connect(button.click)
