"""Peak resident memory and CPU time of a process and every process it started (psutil).

`ru_maxrss` only reports the largest single child, and pool workers come and go, so a sampler
thread adds up VmRSS over the whole process tree every 50 ms. Shared pages (the Python runtime,
numpy, the model files) are counted once per process, so the sum errs on the high side: a budget
met here is met in fact.

CPU seconds (user + system, last value seen per process) are what a row costs whatever else the
machine is doing; wall-clock seconds on a shared 2-core box move with the neighbours' load.
"""

from __future__ import annotations

import threading
from types import TracebackType

import psutil

_INTERVAL = 0.05


class PeakRss(threading.Thread):
    """Use as a context manager around the work; `peak` is in bytes, `cpu_seconds` the CPU
    time the tree spent inside the block."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._cpu: dict[int, float] = {}
        self._cpu_before = 0.0
        self._stop_event = threading.Event()

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values()) - self._cpu_before

    def __enter__(self) -> PeakRss:
        self._sample()
        self._cpu_before = sum(self._cpu.values())
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        while not self._stop_event.wait(_INTERVAL):
            self._sample()
        self._sample()

    def _sample(self) -> None:
        me = psutil.Process()
        rss = 0
        for process in [me, *me.children(recursive=True)]:
            try:
                with process.oneshot():
                    rss += process.memory_info().rss
                    times = process.cpu_times()
            except psutil.Error:  # a worker that has just exited
                continue
            self._cpu[process.pid] = times.user + times.system
        self.peak = max(self.peak, rss)
