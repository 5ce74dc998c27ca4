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

from ijs_vetting.progress import Progress

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
        log.error("background job failed", exc_info=exc)
        on_error(exc)

    job.finished.connect(done)
    job.failed.connect(error)
    # `_ignore_errors`: the error goes to `on_error` only. Without it superqt also re-raises it
    # in the event loop, where the app's excepthook showed a second, vaguer dialog.
    worker = create_worker(work, job.tracker, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(job.finished.emit)
    worker.errored.connect(job.failed.emit)
    job._worker = worker  # type: ignore[attr-defined]  # keep the worker alive with the job
    worker.start()
    return job
