"""Python's full garbage collections while nobody is using the station, not in an action.

A school's four years held in the GUI (20,000 photos and 100,000 faces in the Review grid) make
each full collection of the cyclic garbage collector take 130-150 ms, and Python starts one
whenever enough objects have survived: in the middle of a refresh, a clearing or an export,
where it froze the window (issue 15). Full collections are therefore not started by allocation
at all; this collector runs them when the user has been idle a while, and in any case every
few minutes, so cyclic garbage never piles up. Young collections (cheap) run as Python starts
them. Objects freed by reference counting (almost all) are freed at once, as always.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

IDLE_SECONDS = 5.0  # without keyboard or mouse input: a pause nobody notices
AT_LEAST_EVERY = 300.0  # seconds: collect even if the user never pauses that long
_NEVER = 1_000_000_000  # a generation-2 threshold Python never reaches


def defer_full_collections() -> None:
    """Keep Python's thresholds for the young generations; take generation 2 off allocation."""
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)


class IdleCollector(QObject):
    """Runs a full collection when `idle_seconds()` says the user has paused and nothing they
    started is running (`busy()`: its progress and results keep coming), checked every few
    seconds, or when the last one is AT_LEAST_EVERY seconds old; never when no object has
    reached the old generation since the last one (an idle station does not collect again
    and again)."""

    def __init__(
        self,
        parent: QObject,
        idle_seconds: Callable[[], float],
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self._idle_seconds, self._busy = idle_seconds, busy
        self._last = time.monotonic()
        self.collections = 0
        self.timer = QTimer(self)
        self.timer.setInterval(int(IDLE_SECONDS * 1000))
        self.timer.timeout.connect(self.maybe_collect)
        self.timer.start()

    def maybe_collect(self) -> bool:
        """Collect now if the user is idle or it is overdue; whether it did."""
        now = time.monotonic()
        paused = self._idle_seconds() >= IDLE_SECONDS and not self._busy()
        if not paused and now - self._last < AT_LEAST_EVERY:
            return False
        if gc.get_count()[2] == 0:  # nothing reached the old generation since the last one
            return False
        gc.collect()
        self._last, self.collections = time.monotonic(), self.collections + 1
        return True
