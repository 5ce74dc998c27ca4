"""Background jobs: a page closed while its job runs drops the result, and says nothing."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.jobs import LatestRead, start_job

pytestmark = pytest.mark.gui


def test_a_job_whose_page_was_closed_ends_without_an_error(qtbot: QtBot) -> None:
    """The Audit page's search outlived its page in a test run, and Qt raised "Signal source
    has been deleted" in the event loop (pytest-qt fails a test on any such exception)."""
    make_app()
    page = QWidget()
    release, ended = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def work(_progress: object) -> int:
        release.wait(10)
        ended.set()
        return 1

    start_job(work, on_done=outcomes.append, on_error=outcomes.append, parent=page)
    shiboken6.delete(page)  # closed and gone while the job runs
    release.set()
    qtbot.waitUntil(ended.is_set, timeout=10_000)
    qtbot.wait(200)  # the worker's result reaches the GUI thread's event loop
    assert outcomes == []


def test_a_reload_asked_for_while_one_runs_shows_only_the_newest(qtbot: QtBot) -> None:
    """Three requests while a read waits: the read that was running is dropped, one more read
    runs after it (not one per request), and only what it read is shown."""
    make_app()
    page = QWidget()
    qtbot.addWidget(page)
    reads: list[int] = []
    first_may_end = threading.Event()
    shown: list[int] = []

    def read() -> int:
        reads.append(len(reads) + 1)
        first_may_end.wait(10)
        return reads[-1]

    reload = LatestRead(read, shown.append, lambda exc: shown.append(-1), page)
    reload.request()
    reload.request()
    reload.request()
    assert reload.running
    first_may_end.set()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    qtbot.wait(100)
    assert (reads, shown, reload.running) == ([1, 2], [2], False)
