"""The Review page's keyboard: one key per action on the face or photo in view.

Their keys work only while the photo grid, the picture or the face list has the focus
(Qt.WidgetShortcut on each), so a letter typed into the caption, the Child field or a dialog is
text, never an action on a face. Staff get Clear and Reject switched off, as the buttons are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from ijs_vetting.gui.review_page import ReviewPage


def review_actions(page: ReviewPage) -> list[QAction]:
    """Every key's action on `page`; returns the entries of the main window's Photo menu (each
    naming its key, which works only where the keys do)."""
    specs: list[tuple[str, str, Callable[[], None]]] = [
        ("Toggle &blur on the face", "B", page.toggle_blur),
        ("&Next face", "Tab", page.faces.next),
        ("&Show the face", "S", page.show_face),
        ("Not a &face", "N", page.not_a_face),
        ("&Undo the review of the face", "U", page.reset_face),
        ("&Identify the face (type the child's name)", "F2", page.child_field.focus),
        ("Identify the face", "I", page.child_field.focus),
        ("Select all &ready", "Ctrl+Shift+A", page.select_all_ready),
        ("&Who is this? (name faces together)…", "W", page.who_is_this),
        ("As it will be &posted", "P", page.after.toggle),
        ("&Clear selected photos", "C", page.clearing.clear),
        ("&Reject selected photos…", "R", page.clearing.reject),
    ]
    for n in range(1, 10):
        specs.append((f"Face {n}", str(n), partial(page.faces.select_number, n)))
        specs.append((f"Assign recent child {n}", f"Alt+{n}", partial(page.assign_recent, n)))
    actions = []
    for text, keys, slot in specs:
        action = QAction(text, page)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(lambda _c=False, run=slot: run())
        for keyed in (page.grid, page.canvas, page.faces.rows):
            keyed.addAction(action)
        actions.append(action)
    for action in actions:  # staff review faces but cannot clear or reject
        if action.shortcut().toString() in ("C", "R"):
            action.setEnabled(page.clearing.may_clear)
    return [_menu_entry(page, a) for a in actions if a.shortcut().toString() in MENU_KEYS]


MENU_KEYS = ("Tab", "B", "S", "N", "U", "F2", "Ctrl+Shift+A", "W", "P", "C", "R")


def _menu_entry(page: ReviewPage, keyed: QAction) -> QAction:
    """The Photo menu's entry for `keyed`: the same action, its key shown after a tab but not
    bound. Bound, the keys followed the menu bar: with a menu open (Alt), B blurred and S
    showed the last face opened on the Review page, from any page."""
    entry = QAction(f"{keyed.text()}\t{keyed.shortcut().toString()}", page)
    entry.setEnabled(keyed.isEnabled())
    entry.triggered.connect(keyed.trigger)
    return entry
