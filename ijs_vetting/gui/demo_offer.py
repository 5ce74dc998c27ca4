"""The first-start offer: an empty station can load the demo school in the background."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from ijs_vetting import demo
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.intake import photos
from ijs_vetting.services.register import children


def station_is_empty(window: MainWindow) -> bool:
    """No child and no photo: two small reads, whatever the station holds."""
    return not children.any_recorded(window.station) and not photos.status_counts(window.station)


def offer_demo(window: MainWindow) -> Job | None:
    """Ask once on an empty station; loading runs as a job with a cancellable progress dialog."""
    if not station_is_empty(window):
        return None
    answer = QMessageBox.question(
        window,
        "Welcome",
        "This station has no children or photos yet.\n\nLoad a demo school (six pupils, two "
        "with real sample faces, and a few iPad photos) to see the whole flow? You can start "
        "with your own roster instead.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    dialog = QProgressDialog("Loading the demo school…", "Cancel", 0, 0, window)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)

    def progress(done: int, total: int, message: str) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)
        dialog.setLabelText(message or "Loading the demo school…")

    def finished(_report: Any) -> None:
        dialog.reset()
        window.refresh()

    def failed(exc: BaseException) -> None:
        dialog.reset()
        show_error(window, exc, "loading the demo school")

    job = start_job(
        lambda p: demo.load_demo(
            window.station, window.actor, window.station.paths.home / "demo", progress=p
        ),
        on_done=finished,
        on_error=failed,
        on_progress=progress,
        parent=window,
    )
    dialog.canceled.connect(job.cancel)
    return job
