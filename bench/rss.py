"""Peak resident memory and CPU time of a process and every process it started, from /proc.

`ru_maxrss` only reports the largest single child, and pool workers come and go, so a sampler
thread adds up VmRSS over the whole process tree every 50 ms. Shared pages (the Python runtime,
numpy, the model files) are counted once per process, so the sum errs on the high side: a budget
met here is met in fact.

CPU seconds (user + system, last value seen per process) are what a row costs whatever else the
machine is doing; wall-clock seconds on a shared 2-core box move with the neighbours' load.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

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
        family = _family(os.getpid())
        self.peak = max(self.peak, sum(_rss(pid) for pid in family))
        for pid in family:
            seconds = _cpu(pid)
            if seconds is not None:
                self._cpu[pid] = seconds


def _family(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    family, todo = [], [root]
    while todo:
        pid = todo.pop()
        family.append(pid)
        todo += parents.get(pid, [])
    return family


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are the 14th and 15th fields of stat; [0] here is the 3rd (state).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
