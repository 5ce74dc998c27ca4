"""Loading Designer forms from `ui/` at run time.

The .ui files are the source of truth; loading them (rather than compiling to Python) means a
form edited in Designer needs no regeneration step and cannot drift from generated code.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QFile, QIODevice, Qt
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QVBoxLayout, QWidget

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


def mount_form(host: QWidget, name: str, margins: int | None = 0) -> QWidget:
    """Load `ui/<name>` and fill `host` with it (a page or dialog built from a Designer form).

    `margins=None` keeps the style's default margins (dialogs); pages sit flush (0).
    """
    form = load_form(name, host)
    if form.isWindow():  # a QDialog form: embed its contents instead of opening a second window
        form.setWindowFlags(Qt.WindowType.Widget)
    layout = QVBoxLayout(host)
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    layout.addWidget(form)
    return form
