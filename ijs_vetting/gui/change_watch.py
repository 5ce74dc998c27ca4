"""Noticing another station's changes: every few seconds, read the register's change counter
on a worker thread (one row) and, when another station wrote, tell the window to reload what it
shows. Nothing is reloaded while nobody else changes anything."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.services.core.changes import ChangeMark, change_mark, changed_elsewhere
from ijs_vetting.services.core.station import Station

POLL_MS = 5000


class ChangeWatch(QObject):
    """Emits `changed` when another station has written since the last look."""

    changed = Signal()

    def __init__(self, station: Station, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self._seen: ChangeMark | None = None
        self._job: Job | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        if self._job is not None and self._job.running:
            return  # a slow database: one look at a time
        # Not parented to the watch: a look still under way when the window closes finishes
        # on its own, and its answer is dropped (`_looked`).
        self._job = start_job(
            lambda _progress: change_mark(self.station),
            on_done=self._looked,
            on_error=self._failed,
        )

    def stop(self) -> None:
        self.timer.stop()

    def _looked(self, mark: object) -> None:
        assert isinstance(mark, ChangeMark)
        if not shiboken6.isValid(self) or not self.timer.isActive():
            return  # the window closed meanwhile
        before, self._seen = self._seen, mark
        if before is not None and changed_elsewhere(before, mark):
            self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        # The database out of reach for a moment: the next look tries again; an action the
        # user takes meanwhile reports the fault itself.
        if not isinstance(exc, ServiceError | OSError):
            raise exc
