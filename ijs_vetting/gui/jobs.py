"""Long work off the GUI thread: one small idiom for every job (import, vetting, roster, export).

A job is a plain service call that takes a `Progress`. `start_job` runs it on superqt's worker
thread pool and turns the Progress callback (called on the worker thread) into a Qt signal, which
Qt queues onto the GUI thread; Cancel sets the Progress flag, and the service stops at its next
step. No `processEvents()` loops: the window stays responsive because the work is elsewhere.

The face engine itself runs in worker *processes* (ijs_vetting.faces.pool); this thread only
waits for them and writes results, so the GUI process never loads dlib.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from ijs_vetting.domain import ServiceError
from ijs_vetting.progress import Cancelled, Progress

log = logging.getLogger(__name__)


class Job(QObject):
    """A running job: progress(done, total, message), finished(result), failed(exception)."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tracker = Progress(self.progress.emit)
        self.running = True

    def cancel(self) -> None:
        self.tracker.cancel()


def start_job(
    work: Callable[[Progress], Any],
    *,
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_progress: Callable[[int, int, str], None] | None = None,
    parent: QObject | None = None,
) -> Job:
    """Run `work(progress)` on a worker thread; callbacks run on the GUI thread."""
    job = Job(parent)
    if on_progress is not None:
        job.progress.connect(on_progress)

    def done(result: Any) -> None:
        job.running = False
        on_done(result)

    def error(exc: BaseException) -> None:
        job.running = False
        if isinstance(exc, ServiceError | Cancelled):  # a refusal or a Cancel, not a fault
            log.info("background job stopped: %s", str(exc) or type(exc).__name__)
        else:
            log.error("background job failed", exc_info=exc)
        on_error(exc)

    job.finished.connect(done)
    job.failed.connect(error)
    # `_ignore_errors`: the error goes to `on_error` only. Without it superqt also re-raises it
    # in the event loop, where the app's excepthook showed a second, vaguer dialog.
    worker = create_worker(work, job.tracker, _start_thread=False, _ignore_errors=True)
    # Signal to signal, not to `job.finished.emit`: a page closed while its job runs deletes
    # the job, and Qt then drops these connections instead of emitting from a deleted object
    # ("Signal source has been deleted", raised in the event loop).
    worker.returned.connect(job.finished)
    worker.errored.connect(job.failed)
    job._worker = worker  # type: ignore[attr-defined]  # keep the worker alive with the job
    worker.start()
    return job


class LatestRead(QObject):
    """A section's reload, read off the GUI thread, of which only the newest is shown.

    A reload asked for while one runs is not run beside it: when the running one ends its
    result is dropped and the read starts again, so what is shown is never older than the last
    request and the GUI thread never waits on a query that grows with the register."""

    def __init__(
        self,
        read: Callable[[], Any],
        show: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._read, self._show, self._on_error = read, show, on_error
        self._job: Job | None = None
        self._again = False

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def request(self) -> None:
        if self.running:
            self._again = True
            return
        self._again = False
        self._job = start_job(
            lambda _progress: self._read(),
            on_done=self._done,
            on_error=self._failed,
            parent=self,
        )

    def _done(self, result: Any) -> None:
        if self._again:
            self.request()
        else:
            self._show(result)

    def _failed(self, exc: BaseException) -> None:
        if self._again:
            self.request()
        else:
            self._on_error(exc)
