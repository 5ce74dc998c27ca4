"""The Review page's Child field: type part of a name, pick the child, Enter names the face.

A field of its own because typing must never act on a face: letters typed here are text, Esc
leaves the field empty for the picture, and an emptied field does not open the whole register
over the buttons below it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCompleter, QLineEdit

RECENT = 9  # Alt+1 … Alt+9


class ChildField(QObject):
    """`chosen` carries the MIS id of the child typed or picked (Enter), `unknown` what to say
    when nobody matches; `left` fires when Esc gives the focus back to the picture. The
    children named last are kept for Alt+number."""

    chosen = Signal(str)
    unknown = Signal(str)
    left = Signal()

    def __init__(self, edit: QLineEdit) -> None:
        super().__init__(edit)
        self.edit = edit
        self._children: dict[str, str] = {}  # completer text -> MIS id
        self._recent: list[str] = []
        self.completer = QCompleter(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        edit.setCompleter(self.completer)
        edit.returnPressed.connect(self.submit)
        edit.installEventFilter(self)
        edit.textEdited.connect(self._hide_empty_completion)

    def set_children(self, names: dict[str, str]) -> None:
        """The children who may be named: "name — class" as offered, and each one's MIS id."""
        self._children = names
        self.completer.setModel(QStringListModel(sorted(names), self.completer))

    def remember(self, mis_id: str) -> None:
        """A child just named becomes recent child 1; the field empties for the next face."""
        if mis_id in self._recent:
            self._recent.remove(mis_id)
        self._recent.insert(0, mis_id)
        del self._recent[RECENT:]
        self.edit.clear()

    def recent(self, number: int) -> str | None:
        return self._recent[number - 1] if number <= len(self._recent) else None

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def submit(self) -> None:
        """Name the face as the child typed or picked (Enter, or the Assign button): the child
        picked, the child whose MIS id was typed, or the one child whose name and class hold
        what was typed. Several such children: the list of them opens to pick from."""
        text = self.edit.text().strip()
        if not text:
            return
        ids = {mis_id.casefold(): mis_id for mis_id in self._children.values()}
        matches = [n for n in self._children if text.casefold() in n.casefold()]
        if text in self._children:
            self.chosen.emit(self._children[text])
        elif text.casefold() in ids:
            self.chosen.emit(ids[text.casefold()])
        elif len(matches) == 1:
            self.chosen.emit(self._children[matches[0]])
        elif matches:
            self.completer.setCompletionPrefix(text)
            self.completer.complete()
        else:
            self.unknown.emit(f"No child on roll is called '{text}': type part of their name.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc leaves the field for the photo (the field keeps nothing half-typed)."""
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.edit.clear()
            self._hide_completion()
            self.left.emit()
            return True
        return super().eventFilter(watched, event)

    def _hide_empty_completion(self, text: str) -> None:
        if not text.strip():
            QTimer.singleShot(0, self._hide_completion)

    def _hide_completion(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()
