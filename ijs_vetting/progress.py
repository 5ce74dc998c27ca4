"""Progress and cancellation for long core loops, with no Qt in sight.

Core pipelines (roster import, photo import, vetting, export) take a `Progress` and call
`step()` between units of work. The GUI adapts it to signals, the CLI to a line on stderr, tests
pass `Progress()` (which reports nowhere and is never cancelled). Cancellation is cooperative: a
loop stops at its next `step()` by raising `Cancelled`, so each unit of work is either done and
committed or not started — which is what makes an interrupted import resumable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancelled(Exception):
    """Raised by `Progress.step` after `cancel()`; the loop's caller decides what to say."""


ProgressCallback = Callable[[int, int, str], None]


class Progress:
    """Counts units of work done out of a total and carries a thread-safe cancel flag."""

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._cancel = threading.Event()
        self.done = 0
        self.total = 0

    def start(self, total: int, message: str = "") -> None:
        """Announce how many units the loop will do (0 when unknown)."""
        self.total = total
        self.done = 0
        self._report(message)

    def step(self, message: str = "", amount: int = 1) -> None:
        """Record finished work; raise `Cancelled` if the user asked to stop."""
        self.done += amount
        self._report(message)
        self.check()

    def check(self) -> None:
        """Raise `Cancelled` if cancelled, without counting work."""
        if self._cancel.is_set():
            raise Cancelled()

    def cancel(self) -> None:
        """Ask the loop to stop at its next step (safe from any thread)."""
        self._cancel.set()

    def uncancellable(self) -> Progress:
        """A Progress reporting to the same place that Cancel no longer stops: for a step that
        must finish once begun (a restore switching over)."""
        return Progress(self._callback)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, message: str) -> None:
        if self._callback is not None:
            self._callback(self.done, self.total, message)
