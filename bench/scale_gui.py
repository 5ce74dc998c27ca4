"""The GUI half of `bench.scale`: one offscreen GUI process that starts like `run_gui`, logs in
programmatically (as the GUI tests do) and performs each timed action.

Run by `bench.scale` as `python -m bench.scale_gui RESULTS.jsonl` with the station's environment
and BENCH_T0 (the parent's clock when it started this process), BENCH_REAL_IDS (the photos
vetted for real) and BENCH_CAP. A 10 ms heartbeat QTimer measures how long the GUI thread was
blocked during each action: any gap between ticks longer than 10 ms is time the thread did not
serve events. An action ends when its own condition holds, no background job or image loader
is running, and the event queue has drained. Each result is appended as one JSON line as soon
as it is known, so a run that the parent must kill still reports what it finished.

With BENCH_STALLS=1 (`bench.scale --stalls`) a sampler thread also records where the GUI thread
was while it was blocked: every 5 ms without a heartbeat for over 40 ms, the GUI thread's
innermost frames of the project's own code, counted per action (the `stalls` of each result).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

RESULTS = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gui-results.jsonl")
T0 = float(os.environ.get("BENCH_T0", time.time()))
CAP = float(os.environ.get("BENCH_CAP", "600"))
REAL_IDS: list[int] = json.loads(os.environ.get("BENCH_REAL_IDS", "[]"))
USER = os.environ.get("BENCH_GUI_USER", "bench-slt")
PASSWORD = os.environ.get("IJS_VETTING_PASSWORD", "")
STALLS = os.environ.get("BENCH_STALLS") == "1"
_OWN = (f"{os.sep}ijs_vetting{os.sep}", f"{os.sep}bench{os.sep}")


def _where(frame: FrameType | None, depth: int = 4) -> str:
    """The innermost `depth` frames of the project's code under `frame` (library frames
    above them kept as one name), innermost last."""
    own: list[str] = []
    library = ""
    while frame is not None and len(own) < depth:
        code = frame.f_code
        if any(part in code.co_filename for part in _OWN):
            name = code.co_filename.rsplit(os.sep, 1)[-1]
            own.append(f"{name}:{frame.f_lineno} {code.co_name}")
        elif not own:
            library = f"{code.co_filename.rsplit(os.sep, 1)[-1]} {code.co_name}"
        frame = frame.f_back
    return " < ".join(own) + (f" > {library}" if library else "")


class StallSampler:
    """Counts where the GUI thread is while `beat` has not ticked for 40 ms."""

    def __init__(self, beat: object) -> None:
        self.beat, self.gui = beat, threading.main_thread().ident
        self.seen: Counter[str] = Counter()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(0.005)
            if time.perf_counter() - self.beat.last > 0.04:  # type: ignore[attr-defined]
                self.seen[_where(sys._current_frames().get(self.gui or 0))] += 5

    def take(self) -> list[tuple[int, str]]:
        """The most blocked places since the last take: (ms, where)."""
        top = [(ms, where) for where, ms in self.seen.most_common(6)]
        self.seen.clear()
        return top


def record(**fields: object) -> None:
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(fields) + "\n")


def high_water_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's, which
    a forked child inherits across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    from PySide6.QtCore import QEventLoop, QItemSelectionModel, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    from ijs_vetting.gui.app import make_app
    from ijs_vetting.gui.demo_offer import offer_demo
    from ijs_vetting.gui.idle_gc import IdleCollector, defer_full_collections
    from ijs_vetting.gui.login import IdleLock, LoginDialog
    from ijs_vetting.gui.main_window import SECTIONS, MainWindow
    from ijs_vetting.gui.malloc_arenas import limit_arenas
    from ijs_vetting.gui.session import busy
    from ijs_vetting.services.core.station import open_station
    from ijs_vetting.services.core.station_settings import current
    from ijs_vetting.services.posting import queue

    limit_arenas()  # as run_gui does
    app = make_app()
    defer_full_collections()

    class Heartbeat:
        def __init__(self) -> None:
            self.last = time.perf_counter()
            self.worst = 0.0
            self.timer = QTimer()
            self.timer.setInterval(10)
            self.timer.timeout.connect(self.tick)
            self.timer.start()

        def tick(self) -> None:
            now = time.perf_counter()
            self.worst = max(self.worst, now - self.last)
            self.last = now

        def reset(self) -> None:
            self.last, self.worst = time.perf_counter(), 0.0

    beat = Heartbeat()
    sampler = StallSampler(beat) if STALLS else None

    def stalls() -> list[tuple[int, str]]:
        return sampler.take() if sampler is not None else []

    def pools_idle(window: object | None) -> bool:
        pools = [QThreadPool.globalInstance()]
        if window is not None:
            pools += window.findChildren(QThreadPool)  # type: ignore[attr-defined]
        return all(p.activeThreadCount() == 0 for p in pools)

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def settle(window: object | None, done: Callable[[], bool], started: float) -> float | None:
        """Serve events until `done()` and every pool is idle twice in a row; the seconds since
        `started`, or None past the cap."""
        calm = 0
        while calm < 2:
            app.processEvents()
            if time.perf_counter() - started > CAP:
                return None
            calm = calm + 1 if done() and pools_idle(window) else 0
            wait(5)
        return time.perf_counter() - started

    def close_message_boxes() -> list[str]:
        """Close the information boxes an action left open; their texts, for the record."""
        texts = []
        for widget in QApplication.allWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                texts.append(widget.text())
                widget.done(0)
        return texts

    # start: like run_gui, up to the login window, then the main window after logging in
    station = open_station(None)
    beat.reset()
    login = LoginDialog(station)
    login.show()
    shown = settle(None, lambda: True, time.perf_counter())
    record(
        op="GUI start to login window",
        seconds=time.time() - T0,
        cpu_seconds=time.process_time(),
        block_ms=beat.worst * 1000,
        stalls=stalls(),
    )
    assert shown is not None
    login.username.setText(USER)
    login.password.setText(PASSWORD)
    beat.reset()
    started = time.perf_counter()
    login.try_login()
    assert login.actor is not None, login.error.text()
    window = MainWindow(station, login.actor)
    window.show()
    # The idle lock is made as at start, but never fires: no input arrives offscreen.
    lock = IdleLock(window, station, login.actor, current(station).idle_lock_minutes)
    lock.timer.stop()
    # as open_session does: full collections at idle (no input arrives here, so whenever due)
    collector = IdleCollector(window, lock.idle_seconds, lambda: busy(window))
    offer_demo(window)
    settle(window, lambda: not window.review_page.loading, started)  # its photos are shown
    record(
        op="GUI start to main window",
        seconds=time.time() - T0,
        cpu_seconds=time.process_time(),
        block_ms=beat.worst * 1000,
        stalls=stalls(),
    )

    review = window.review_page
    export_dir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: str(export_dir))  # type: ignore[method-assign]

    def go(section: str) -> Callable[[], None]:
        return lambda: window.navigation.setCurrentRow(SECTIONS.index(section))

    def filter_ready() -> None:
        review.filters.status.setCurrentIndex(review.filters.status.findText("Ready"))

    def open_photo() -> None:
        review.select_photo(REAL_IDS[0])

    def clear_20() -> None:
        selection = review.grid.selectionModel()
        selection.clearSelection()
        for photo_id in REAL_IDS[:20]:
            row = review.model.row_of(photo_id)
            if row is not None:
                index = review.filter.mapFromSource(review.model.index(row))
                selection.select(index, QItemSelectionModel.SelectionFlag.Select)
        review.clearing.clear()

    def job_done(page: object) -> Callable[[], bool]:
        return lambda: getattr(page, "job", None) is None or not page.job.running  # type: ignore[attr-defined]

    actions: list[tuple[str, Callable[[], None], Callable[[], bool]]] = [
        ("GUI MainWindow.refresh", window.refresh, lambda: True),
        ("GUI switch to Children", go("children"), lambda: not window.children_page.loading),
        ("GUI open Review", go("review"), lambda: True),
        ("GUI filter Review (Ready)", filter_ready, lambda: True),
        # Where every one of them would go is read (the Account box), off the GUI thread.
        (
            "GUI select every ready photo",
            review.select_all_ready,
            lambda: not review.clearing.routing,
        ),
        ("GUI open a photo", open_photo, lambda: True),
        ("GUI clear 20 photos", clear_20, job_done(review.clearing)),
        (
            "GUI export the queue",
            window.queue_page.export,
            lambda: job_done(window.queue_page)() and not window.queue_page.loading,
        ),
        ("GUI Audit page", go("audit"), lambda: not window.audit_page.loading),
    ]
    for name, action, done in actions:
        stalls()
        lock.last_input = time.monotonic()  # each action starts with a click or a key
        beat.reset()
        started, cpu = time.perf_counter(), time.process_time()
        action()
        # an action is done when its job has ended and the Review page shows its reload
        seconds = settle(window, lambda ended=done: ended() and not review.loading, started)
        cpu = time.process_time() - cpu
        messages = close_message_boxes()
        waiting = queue.queue_counts(station).waiting
        record(
            op=name,
            seconds=seconds,
            cpu_seconds=cpu,
            block_ms=beat.worst * 1000,
            messages=messages,
            waiting_items=waiting,
            stalls=stalls(),
        )
    cleared = len(list(export_dir.rglob("*.jpg")))
    peak = high_water_mb()
    record(
        op="done",
        peak_rss_mb=peak,
        exported_images=cleared,
        idle_collections=collector.collections,
    )
    window.close()
    station.close()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        record(op="error", error=traceback.format_exc())
        raise
