"""Telling the office what went wrong, in words, with the details one click away."""

from __future__ import annotations

import logging
import traceback

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ijs_vetting.domain import ServiceError
from ijs_vetting.progress import Cancelled

log = logging.getLogger(__name__)


_OPEN: set[str] = set()  # the messages on screen now


def _focus_back_after(box: QMessageBox) -> None:
    """When `box` closes, the keyboard goes back where it was: after a refusal on the Review
    page the face keys stopped working until the face list was clicked again, so a B pressed
    then blurred nothing."""
    had = QApplication.focusWidget()
    if had is None:
        return

    def give_back(_result: int) -> None:
        if shiboken6.isValid(had) and had.isVisible():
            had.setFocus(Qt.FocusReason.OtherFocusReason)

    box.finished.connect(give_back)


def show_error(parent: QWidget | None, exc: BaseException, doing: str) -> None:
    """A refusal is shown as the service worded it; anything else as a plain apology, with the
    technical details folded away and written to the log for IT support.

    One message per failure: while a box with the same words is open, the same failure reported
    again (a key press that reached two handlers, a job and its caller) opens no second one."""
    key = f"{type(exc).__name__}: {exc}"
    if key in _OPEN:
        return
    _OPEN.add(key)
    box = QMessageBox(parent)
    box.finished.connect(lambda _result: _OPEN.discard(key))
    _focus_back_after(box)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("IJS vetting station")
    if isinstance(exc, ServiceError):
        box.setText(str(exc))
    elif isinstance(exc, Cancelled):
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(f"Stopped while {doing}. What was finished is kept; nothing else changed.")
    else:
        log.error("unexpected error while %s", doing, exc_info=exc)
        box.setText(
            f"Something went wrong while {doing}. Nothing that was already saved has been lost; "
            "please try again, and tell IT support if it happens again."
        )
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()


def inform(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A non-blocking information box (it never stops a background job's results arriving)."""
    box = QMessageBox(
        QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent
    )
    box.open()
    return box


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """A yes/no question whose default (Enter, and Esc) is No: for the marks a slip must not
    make."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
