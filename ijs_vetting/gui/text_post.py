"""Queue page > Text post…: a text-only post in one dialog.

The school's policy lets staff post text-only messages themselves, so a text post goes to the
queue without an SLT step, like `queue add-text`. The dialog keeps what was typed until the
post is in the queue: OK is offered only for words that can go (not empty, within the limit,
counted live as the platform counts them), and a caption naming a child, or any refusal,
leaves the dialog open with the words to change.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget

from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.caption_warning import confirm_names, show_report
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import accounts, queue
from ijs_vetting.services.posting.caption_check import CaptionReport
from ijs_vetting.services.posting.caption_preview import preview_for_text


class TextPostDialog(QDialog):
    """Choose the account, type the words, add them to the queue (`added` is the item)."""

    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        self.added: queue.QueueItemInfo | None = None
        form = mount_form(self, "text_post_dialog.ui", margins=None)
        self.setWindowTitle("Text post")
        self.account = child(form, QComboBox, "postAccount")
        self.account.addItems(accounts.account_handles(station))
        self.text = child(form, QLineEdit, "postText")
        self.counter = child(form, QLabel, "postCounter")
        buttons = child(form, QDialogButtonBox, "buttons")
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok = ok
        ok.setText("Add to the queue")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.text.textChanged.connect(lambda _text: self._check())
        self.account.currentIndexChanged.connect(lambda _index: self._check())
        self._check()
        self.text.setFocus()

    def _report(self) -> CaptionReport:
        return preview_for_text(self.station, self.text.text(), self.account.currentText())

    def _check(self) -> None:
        report = self._report()
        show_report(self.counter, report)
        self.ok.setEnabled(bool(self.text.text().strip()) and not report.too_long)

    def submit(self) -> None:
        if not self.ok.isEnabled():  # Enter in the text field while OK is off
            return
        allow_names = confirm_names(self, self._report(), self.actor)
        if allow_names is None:
            return  # back to the words
        try:
            self.added = queue.add_text(
                self.station,
                self.actor,
                self.account.currentText(),
                self.text.text(),
                allow_names=allow_names,
            )
        except ServiceError as exc:
            show_error(self, exc, "adding the text post")
            return
        self.accept()
