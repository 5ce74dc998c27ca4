"""The station's log, readable in the app, so IT support can be told what happened."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from ijs_vetting.config import StationPaths
from ijs_vetting.gui.screen_fit import fit_size
from ijs_vetting.logs import LOG_FILE

TAIL_LINES = 500


def log_tail(paths: StationPaths, lines: int = TAIL_LINES) -> str:
    path = paths.logs / LOG_FILE
    if not path.exists():
        return "(nothing logged yet)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class LogDialog(QDialog):
    def __init__(self, paths: StationPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Station log — {paths.logs / LOG_FILE}")
        fit_size(self, 900, 520)
        text = QPlainTextEdit(self)
        text.setReadOnly(True)
        text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        text.setPlainText(log_tail(paths))
        text.moveCursor(text.textCursor().MoveOperation.End)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
