"""Loading Designer forms from `ui/` at run time.

The .ui files are the source of truth; loading them (rather than compiling to Python) means a
form edited in Designer needs no regeneration step and cannot drift from generated code.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QEvent, QFile, QIODevice, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from ijs_vetting.assets import ui_file

W = TypeVar("W", bound=QWidget)


def load_form(name: str, parent: QWidget | None = None) -> QWidget:
    """Build the widget tree of `ui/<name>`; children are reachable with `findChild`."""
    path = ui_file(name)
    handle = QFile(str(path))
    if not handle.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(f"cannot open the form {path}")
    try:
        widget = QUiLoader().load(handle, parent)
    finally:
        handle.close()
    if widget is None:
        raise RuntimeError(f"the form {path} could not be loaded")
    return widget


def child(form: QWidget, kind: type[W], name: str) -> W:
    """The widget `name` of a loaded form; a missing or retyped widget fails here, by name."""
    widget = form.findChild(kind, name)
    if widget is None:
        raise LookupError(f"the form has no {kind.__name__} called {name!r}")
    return widget


def named(widget: W, name: str) -> W:
    """`widget` with its object name set (how tests and styles find a widget built in code)."""
    widget.setObjectName(name)
    return widget


def mount_form(host: QWidget, name: str, margins: int | None = 0) -> QWidget:
    """Load `ui/<name>` and fill `host` with it (a page or dialog built from a Designer form).

    `margins=None` keeps the style's default margins (dialogs); pages sit flush (0).
    """
    form = load_form(name, host)
    if form.isWindow():  # a QDialog form: embed its contents instead of opening a second window
        form.setWindowFlags(Qt.WindowType.Widget)
        if isinstance(form, QDialog):
            form.installEventFilter(_EscapeToHost(host, form))
    layout = QVBoxLayout(host)
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    layout.addWidget(form)
    return form


class _EscapeToHost(QObject):
    """An embedded QDialog form would answer Esc by hiding itself, leaving its host an empty grey
    window; the key is handed to the host instead, so Esc cancels the dialog the user sees."""

    def __init__(self, host: QWidget, form: QWidget) -> None:
        super().__init__(form)
        self.host = host

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            if isinstance(self.host, QDialog):
                self.host.reject()
            return True
        return False
