"""Import: choose or drop a folder, pick the device, watch progress, cancel, read the summary;
try the failed photos again."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QWidget,
)

from ijs_vetting.domain import InvalidInput
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.gui.who_is_this import WhoIsThisDialog
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, importing, vetting
from ijs_vetting.services.intake.importing import ImportReport
from ijs_vetting.services.intake.vetting import VetReport


class ImportPage(QWidget):
    """Runs `importing.import_folder` as a background job; `imported` fires when a run ends."""

    imported = Signal()
    progressed = Signal()  # a photo was stored or vetted (Review can show it already)

    def __init__(
        self, station: Station, actor: Actor, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.settings = station, actor, settings
        form = mount_form(self, "import_page.ui")
        self.setAcceptDrops(True)
        self.folder = child(form, QLineEdit, "folderEdit")
        self.folder.setText(str(settings.value("import/last_folder", "")))
        self.device = child(form, QComboBox, "deviceCombo")
        self.progress = child(form, QProgressBar, "progressBar")
        self.progress_label = child(form, QLabel, "progressLabel")
        self.summary = child(form, QTextBrowser, "summaryText")
        self.import_button = child(form, QPushButton, "importButton")
        self.retry_button = child(form, QPushButton, "retryButton")
        self.cancel_button = child(form, QPushButton, "cancelButton")
        child(form, QPushButton, "browseButton").clicked.connect(self.browse)
        self.import_button.clicked.connect(self.start_import)
        self.retry_button.clicked.connect(self.retry_failed)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress.hide()
        self.job: Job | None = None
        self.who: WhoIsThisDialog | None = None  # opened after the last import
        self.asking: WhoIsThisDialog | None = None  # reading the newest import's faces
        self.refresh()

    def refresh(self) -> None:
        chosen = self.device.currentData()
        self.device.clear()
        self.device.addItem("(not stated)", None)
        for d in devices.list_devices(self.station):
            if d.active:  # a retired device's photos are not accepted
                self.device.addItem(f"{d.name} — {d.make} {d.model}", d.name)
        index = self.device.findData(chosen)
        self.device.setCurrentIndex(max(index, 0))

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose the photo folder", self.folder.text()
        )
        if folder:
            self.folder.setText(folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.folder.setText(event.mimeData().urls()[0].toLocalFile())
        self.start_import()

    def start_import(self) -> None:
        text = self.folder.text().strip()
        folder = Path(text).expanduser()
        if not text or not folder.is_absolute():
            # "" and "DCIM" are folders of wherever the app was started from: never a choice
            show_error(
                self,
                InvalidInput(
                    "Choose the folder of photos first: Browse…, or drop the folder here."
                    if not text
                    else f"'{text}' is not a whole folder path: choose the folder with Browse…"
                ),
                "importing photos",
            )
            return
        self.settings.setValue("import/last_folder", str(folder))
        device = self.device.currentData()
        self._run(
            "importing photos",
            lambda progress: importing.import_folder(
                self.station, self.actor, folder, device=device, progress=progress
            ),
        )

    def retry_failed(self) -> None:
        self._run(
            "trying the failed photos again",
            lambda progress: vetting.retry_failed(self.station, self.actor, progress=progress),
        )

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText("Stopping after the photos in hand…")

    def _run(self, doing: str, work: Callable[[Progress], ImportReport | VetReport]) -> None:
        """Run one job of this page (an import or a retry) in the background, one at a time."""
        if self.job is not None and self.job.running:
            return
        self._busy(True)
        self.summary.setHtml(f"<p>{escape(doing.capitalize())}…</p>")
        self.job = start_job(
            work,
            on_done=self._done,
            on_error=lambda exc: self._failed(exc, doing),
            on_progress=self._progress,
            parent=self,
        )

    def _busy(self, busy: bool) -> None:
        self.import_button.setEnabled(not busy)
        self.retry_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.show()
            self.progress.setRange(0, 0)

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progressed.emit()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress_label.setText(f"{message} ({done} of {total})" if total else message)

    def _done(self, report: Any) -> None:
        assert isinstance(report, ImportReport | VetReport)
        self._busy(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        stopped = isinstance(report, ImportReport) and report.cancelled
        self.progress_label.setText("Stopped." if stopped else "Finished.")
        self.summary.setHtml(
            summary_html(report) if isinstance(report, ImportReport) else retry_html(report)
        )
        self.imported.emit()
        if isinstance(report, ImportReport) and not stopped:
            self.who_is_this(report)

    def who_is_this(self, report: ImportReport) -> None:
        """Offer the import's unidentified faces for naming at once (nothing opens when every
        face was identified); Review learns of the names when the view closes."""
        if self.who is not None:
            self.who.close()
        if self.asking is not None:  # an earlier import's view, still reading: never shown
            self.asking.deleteLater()
        dialog = WhoIsThisDialog(
            self.station, self.actor, report.batch_id, parent=self, likeness=report.likeness
        )
        self.asking = dialog
        dialog.loaded.connect(lambda: self._offer(dialog))

    def _offer(self, dialog: WhoIsThisDialog) -> None:
        """Open the view once its faces are read, if there are any. Only its first load
        counts (naming faces reloads it), and only for the newest import."""
        if dialog is not self.asking:
            return
        self.asking = None
        if dialog.crops.count() == 0:
            dialog.deleteLater()
            return
        dialog.finished.connect(lambda _result: self.imported.emit())
        self.who = dialog
        dialog.open()

    def _failed(self, exc: BaseException, doing: str) -> None:
        self._busy(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText("Not done: see the message.")
        self.summary.clear()
        show_error(self, exc, doing)


def retry_html(report: VetReport) -> str:
    """What trying the failed photos again did, and which still fail and why."""
    if not report.retried:
        return "<p>No photo had failed: there was nothing to try again.</p>"
    counts = ", ".join(f"{n} {escape(status)}" for status, n in sorted(report.statuses.items()))
    photos_word = "photo" if report.retried == 1 else "photos"
    text = f"<p><b>{report.retried}</b> failed {photos_word} tried again. Vetted: {counts}.</p>"
    if report.failed:
        rows = "".join(
            f"<li>{escape(file)}: {escape(reason)}</li>" for file, reason in report.failed
        )
        text += f"<p>Still failing:</p><ul>{rows}</ul>"
    return text


def summary_html(report: ImportReport) -> str:
    """The result in the office's words: what came in, what was skipped, what failed and why."""
    skipped = ", ".join(f"{n} {ext}" for ext, n in sorted(report.skipped.items())) or "none"
    state = (
        "<p><b>The import was stopped.</b> Run it again to carry on where it stopped.</p>"
        if report.cancelled
        else ""
    )
    vetted = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(report.statuses.items()))
    nothing = (
        "stopped before the end (what was vetted shows in Review; the rest waits for the next run)"
        if report.cancelled
        else "nothing new"
    )
    rows = "".join(f"<li>{escape(name)}: {escape(reason)}</li>" for name, reason in report.failed)
    failed = f"<p>Could not be read:</p><ul>{rows}</ul>" if rows else ""
    unreadable = f" ({report.unreadable} cannot be read: below)" if report.unreadable else ""
    return (
        f"{state}<p><b>{report.imported}</b> new photos imported from {escape(report.folder)}"
        f"{unreadable}; <b>{report.duplicates}</b> were already in the station.</p>"
        f"<p>Other files skipped (videos, edits…): {escape(skipped)}.</p>"
        f"<p>Vetted: {escape(vetted or nothing)}.</p>{failed}"
    )
