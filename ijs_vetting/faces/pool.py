"""Analyse many photos in worker processes, yielding each result as soon as it is ready.

Face work is CPU-bound and dlib holds the GIL, so it runs in separate processes started with
`spawn` (the only start method that behaves the same on Windows, macOS and Linux, and never forks
a process that has Qt threads). Each worker loads the models once in its initializer. This module
imports neither dlib nor onnxruntime: the calling process (the GUI) only unpickles the plain
results from `faces.results`.

Only a few photos are in flight at a time, so cancelling stops work within about one photo per
worker and a long import never queues thousands of futures. A photo that cannot be read, or
whose analysis fails, comes back as `PhotoFailed`; if a worker process dies outright the pool is
restarted and the photos it was holding are tried once more before being reported as failed.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import psutil

from ijs_vetting.faces.results import PhotoAnalysis
from ijs_vetting.progress import Progress

K = TypeVar("K")

_IN_FLIGHT_PER_WORKER = 2
_ATTEMPTS = 2
# Peak memory of one worker (models, onnxruntime's buffers, the decoded photo and its copies):
# 550-600 MB for the benchmark's 12 MP JPEGs and HEICs, 700 MB for a 48 MP photo. What the
# station, the desktop and the other programs of an office PC need is kept back first.
_WORKER_MEMORY = 700 * 2**20
_MEMORY_KEPT_BACK = 1024 * 2**20
# ProcessPoolExecutor refuses more workers than this on Windows.
_WINDOWS_MAX_WORKERS = 61


def default_workers() -> int:
    """How many workers this PC can run well: one per physical core it lets us use (a second
    thread on the same core adds little to this work but a whole worker's memory), and no more
    than its available memory holds, so that a large import never pushes the PC into swap."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = min(usable or 1, psutil.cpu_count(logical=False) or usable or 1)
    if sys.platform == "win32":
        cores = min(cores, _WINDOWS_MAX_WORKERS)
    free = int(psutil.virtual_memory().available) - _MEMORY_KEPT_BACK
    return max(1, min(cores, free // _WORKER_MEMORY))


@dataclass(frozen=True)
class PhotoDone(Generic[K]):
    key: K
    analysis: PhotoAnalysis


@dataclass(frozen=True)
class PhotoFailed(Generic[K]):
    """The photo could not be analysed; `unreadable` means the file itself is damaged."""

    key: K
    unreadable: bool
    message: str


PhotoResult = PhotoDone[K] | PhotoFailed[K]


class FacePool:
    """The engine's worker processes, which can be started before the photos are known.

    Starting a worker costs about 0.6 s (interpreter, libraries, models), during which it cannot
    analyse anything. An import starts its pool as soon as it has a new photo, so the workers load
    while the rest of the folder is still being copied into the vault, and hands the started pool
    to the vetting. Use as a context manager; `analyse_photos` is the one-batch shortcut.
    """

    def __init__(self, workers: int | None = None) -> None:
        """`workers` None means `default_workers()`."""
        self.workers = workers or default_workers()
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> FacePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker now (it loads the models) without waiting for them."""
        if self._executor is not None:
            return
        self._executor = _start(self.workers)
        # The executor starts a process per task it cannot give to an idle one, so one cheap
        # task per worker starts them all.
        for _ in range(self.workers):
            self._executor.submit(os.getpid)

    def close(self) -> None:
        """Stop the workers; photos not yet analysed are dropped."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def analyse(
        self,
        photos: Iterable[tuple[K, Path]],
        *,
        progress: Progress | None = None,
        min_identify_width: float | None = None,
    ) -> Iterator[PhotoResult[K]]:
        """Yield a result per (key, path) in completion order; raises `Cancelled` when cancelled.

        `min_identify_width` None means the engine's default. `progress.start` gets the number
        of photos, and `step` is called once per result, so cancelling through the Progress
        stops the loop at the next result.
        """
        progress = progress or Progress()
        queue = [(number, key, path) for number, (key, path) in enumerate(photos)]
        progress.start(len(queue), "Looking for faces")
        queue.reverse()  # pop() from the end keeps the caller's order
        attempts: dict[int, int] = {}
        if queue:
            self.start()
        # Each future remembers its photo and the executor that ran it: after a crash, futures
        # of the dead executor keep failing in, and must not restart the fresh one.
        running: dict[Future[PhotoAnalysis | str], tuple[int, K, Path, ProcessPoolExecutor]] = {}
        while queue or running:
            executor = self._executor
            assert executor is not None
            while queue and len(running) < self.workers * _IN_FLIGHT_PER_WORKER:
                progress.check()
                number, key, path = queue.pop()
                try:
                    future = executor.submit(_analyse, str(path), min_identify_width)
                except BrokenProcessPool as exc:  # a worker died while the pool was idle
                    future = Future()
                    future.set_exception(exc)  # handled below like a crash on this photo
                    running[future] = (number, key, path, executor)
                    break
                running[future] = (number, key, path, executor)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                number, key, path, owner = running.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = broken or owner is executor
                    attempts[number] = attempts.get(number, 0) + 1
                    if attempts[number] < _ATTEMPTS:
                        queue.append((number, key, path))
                        continue
                    outcome = "the analysis process crashed on this photo"
                    result: PhotoResult[K] = PhotoFailed(key, False, outcome)
                except Exception as exc:  # anything a worker raised: report, keep going
                    result = PhotoFailed(key, False, f"{type(exc).__name__}: {exc}")
                else:
                    result = (
                        PhotoFailed(key, True, outcome)
                        if isinstance(outcome, str)
                        else PhotoDone(key, outcome)
                    )
                yield result
                progress.step()
            if broken:
                self.close()
                self.start()


def analyse_photos(
    photos: Iterable[tuple[K, Path]],
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    min_identify_width: float | None = None,
) -> Iterator[PhotoResult[K]]:
    """`FacePool.analyse` on a pool of its own, closed when the loop ends or is abandoned."""
    with FacePool(workers) as pool:
        yield from pool.analyse(photos, progress=progress, min_identify_width=min_identify_width)


def _start(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_load_models,
    )


def _load_models() -> None:
    """Worker initializer: pay for loading dlib and the detector once per process."""
    import cv2

    from ijs_vetting.faces import engine

    cv2.setNumThreads(1)  # one worker per core already; OpenCV threads would only contend
    engine.load_models()


def _analyse(path: str, min_identify_width: float | None) -> PhotoAnalysis | str:
    """Runs in a worker. A damaged file is an expected outcome, returned as its message."""
    from ijs_vetting.faces import engine
    from ijs_vetting.imaging.decode import ImageDecodeError

    width = engine.DEFAULT_MIN_IDENTIFY_WIDTH if min_identify_width is None else min_identify_width
    try:
        return engine.analyse_photo(Path(path), min_identify_width=width)
    except ImageDecodeError as exc:
        return exc.reason
