"""Analyse many photos in worker processes, yielding each result as soon as it is ready.

Face work is CPU-bound, holds large buffers, and a crash in native code (onnxruntime, a decoder)
must not take the station with it, so it runs in separate processes started with
`spawn` (the only start method that behaves the same on Windows, macOS and Linux, and never forks
a process that has Qt threads). Each worker loads the models once in its initializer, from the
ONNX graphs this process prepared once (`networks`). This module imports neither dlib nor
onnxruntime: the calling process (the GUI) builds the graphs with `onnx` and unpickles the plain
results from `faces.results`.

Only a few photos are in flight at a time, so cancelling stops work within about one photo per
worker and a long import never queues thousands of futures. A photo that cannot be read, or
whose analysis fails, comes back as `PhotoFailed`; if a worker process dies outright the pool is
restarted and the photos it was holding run again one at a time: only a photo that brings a
worker down on its own, twice, is reported failed (`FacePool.run`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from ijs_vetting.domain import ServiceError
from ijs_vetting.faces import networks
from ijs_vetting.faces.results import PhotoAnalysis
from ijs_vetting.progress import Progress

log = logging.getLogger(__name__)
# A spawned worker inherits this process's environment. Left alone, numpy's OpenBLAS starts a
# thread per core in every worker, and they spin while it loads: 0.2 CPU s of a 0.7 s start
# (measured), for BLAS work the engine does not do; one worker per core is the parallelism.
# Set on import (the app imports this at start-up, before any job thread), as a default only.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

K = TypeVar("K")
R = TypeVar("R")
# Work for a worker: a picklable call (a `partial` of a module-level function) that returns its
# result, or a message when the file it was given cannot be read.
Task = Callable[[], R | str]

_IN_FLIGHT_PER_WORKER = 2
_ATTEMPTS = 2
# A worker starts in about a second; one that is not up after this long never will be.
_START_TIMEOUT = 120.0
# Restarts in a row without any photo coming back: past this, the workers cannot keep running.
_MAX_RESTARTS_WITHOUT_RESULT = 2 * _ATTEMPTS + 1
# Peak memory of one worker (models, onnxruntime's buffers, the decoded photo and its copies):
# 340-350 MB for the benchmark's 12 MP JPEGs and HEICs, 480 MB for a 48 MP photo. What the
# station, the desktop and the other programs of an office PC need is kept back first.
_WORKER_MEMORY = 500 * 2**20
_MEMORY_KEPT_BACK = 1024 * 2**20
# ProcessPoolExecutor refuses more workers than this on Windows.
_WINDOWS_MAX_WORKERS = 61


def default_workers() -> int:
    """How many workers this PC can run well: one per physical core it lets us use (a second
    thread on the same core adds little to this work but a whole worker's memory), and no more
    than its available memory holds, so that a large import never pushes the PC into swap."""
    import psutil  # here, not at the top: every worker imports this module, none needs psutil

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


@dataclass(frozen=True)
class TaskDone(Generic[K, R]):
    key: K
    value: R


class WorkersFailed(ServiceError):
    """The worker processes die as they start (a damaged installation, too little memory), so
    no photo can be analysed now. No photo is blamed: they wait for the next vetting run."""

    def __init__(self) -> None:
        super().__init__(
            "The face analysis processes keep stopping as they start, so no photo can be "
            "checked now. The photos wait, and the next import (or 'ijs-vetting photos vet') "
            "vets them; the log says why the processes stop."
        )


@dataclass(frozen=True)
class _InFlight(Generic[K, R]):
    number: int
    key: K
    task: Task[R]
    executor: ProcessPoolExecutor
    alone: bool  # the only photo in flight: a crash now is its own


class FacePool:
    """The engine's worker processes, which can be started before the photos are known.

    Starting a worker costs about 0.35 CPU s (interpreter, libraries, models), during which it
    cannot analyse anything. An import starts its pool as soon as it has a new photo, so the
    workers load while the rest of the folder is still being copied into the vault, and hands the
    started pool to the vetting. Use as a context manager; `analyse_photos` is the one-batch
    shortcut.
    """

    def __init__(self, workers: int | None = None) -> None:
        """`workers` None means `default_workers()`."""
        self.workers = workers or default_workers()
        self._executor: ProcessPoolExecutor | None = None
        self._warm_up: list[Future[int]] = []
        self._unprepared: Exception | None = None

    def __enter__(self) -> FacePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker now (it loads the models) without waiting for them. A failure
        to prepare the networks is kept for `analyse` to report, so that an import still copies
        every photo first, as it does when the workers themselves cannot start."""
        if self._executor is not None:
            return
        try:
            prepared = networks.prepared()
        except Exception as exc:  # a damaged installation, a full or unwritable temp folder
            log.exception("the face networks cannot be prepared")
            self._unprepared = exc
            return
        self._unprepared = None
        self._executor = _start(self.workers, prepared)
        # The executor starts a process per task it cannot give to an idle one, so one cheap
        # task per worker starts them all; their futures also tell whether the workers came up.
        self._warm_up = [self._executor.submit(os.getpid) for _ in range(self.workers)]

    def close(self) -> None:
        """Stop the workers; photos not yet analysed are dropped."""
        self._shut_down(stop_all=False)

    def _restart(self) -> None:
        """After a crash or a failed start: none of the old workers is of use any more."""
        self._shut_down(stop_all=True)
        self.start()

    def _shut_down(self, *, stop_all: bool) -> None:
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        # shutdown() forgets the executor's processes; keep them for `_stop`.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        if stop_all or getattr(executor, "_broken", False):
            _stop(processes)

    def _running(self) -> ProcessPoolExecutor:
        """The current executor, or `WorkersFailed` when the networks could not be prepared."""
        if self._executor is None:
            raise WorkersFailed() from self._unprepared
        return self._executor

    def _came_up(self) -> bool:
        """Wait for the workers of the current start; False if they died while starting or are
        not up within `_START_TIMEOUT` seconds."""
        done, waiting = wait(self._warm_up, timeout=_START_TIMEOUT)
        return not waiting and all(future.exception() is None for future in done)

    def analyse(
        self,
        photos: Iterable[tuple[K, Path]],
        *,
        progress: Progress | None = None,
        min_identify_width: float | None = None,
    ) -> Iterator[PhotoResult[K]]:
        """Yield a result per (key, path) in completion order; raises `Cancelled` when cancelled
        and `WorkersFailed` when the workers die as they start.

        `min_identify_width` None means the engine's default. `progress.start` gets the number
        of photos, and `step` is called once per result, so cancelling through the Progress
        stops the loop at the next result.
        """
        tasks = ((key, partial(_analyse, str(path), min_identify_width)) for key, path in photos)
        for result in self.run(tasks, progress=progress):
            yield PhotoDone(result.key, result.value) if isinstance(result, TaskDone) else result

    def run(
        self,
        tasks: Iterable[tuple[K, Task[R]]],
        *,
        progress: Progress | None = None,
        label: str = "Looking for faces",
    ) -> Iterator[TaskDone[K, R] | PhotoFailed[K]]:
        """`analyse` for any work on photos (`Task`): a result per key in completion order.

        A worker that dies (a crash in native code, the system out of memory) takes down the
        pool and every photo in flight with it, and any of them may be the cause. So those
        photos become *suspects*: after a restart each runs again alone, and only a photo that
        brings a worker down on its own, twice, is reported failed. The others are not blamed.
        """
        progress = progress or Progress()
        work = _Work[K, R]([(number, key, task) for number, (key, task) in enumerate(tasks)])
        progress.start(len(work.queue), label)
        work.queue.reverse()  # pop() from the end keeps the caller's order
        if work.queue:
            self.start()
        restarted, failed_starts, restarts_without_result = False, 0, 0
        while work.left:
            if restarted:
                if not self._came_up():
                    failed_starts += 1
                    if failed_starts >= _ATTEMPTS:
                        self._shut_down(stop_all=True)  # workers stuck loading never stop
                        raise WorkersFailed()
                    self._restart()
                    continue
                restarted, failed_starts = False, 0
                if restarts_without_result > _MAX_RESTARTS_WITHOUT_RESULT:
                    raise WorkersFailed()
            executor = self._running()
            broken = not work.submit(executor, self.workers * _IN_FLIGHT_PER_WORKER, progress)
            done = wait(work.running, return_when=FIRST_COMPLETED)[0] if work.running else set()
            for future in done:
                flight = work.running.pop(future)
                if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
                    broken = broken or flight.executor is executor  # its worker died
                result = work.settle(future, flight)
                if result is None:  # it runs again, alone
                    continue
                restarts_without_result = 0
                yield result
                progress.step()
            if broken:
                self._restart()
                restarted = True
                restarts_without_result += 1


@dataclass
class _Work(Generic[K, R]):
    """What one `FacePool.run` has left: photos waiting, *suspects* (in flight when a worker
    died, so each runs again alone), and what is in flight. Each future remembers its photo,
    the executor that ran it and whether it ran alone: after a crash, futures of the dead
    executor keep failing in, and must not restart the fresh one."""

    queue: list[tuple[int, K, Task[R]]]
    suspects: list[tuple[int, K, Task[R]]] = field(default_factory=list)
    crashes_alone: dict[int, int] = field(default_factory=dict)
    running: dict[Future[R | str], _InFlight[K, R]] = field(default_factory=dict)

    @property
    def left(self) -> bool:
        return bool(self.queue or self.suspects or self.running)

    def submit(self, executor: ProcessPoolExecutor, limit: int, progress: Progress) -> bool:
        """Fill the workers up to `limit` photos in flight (one while suspects wait, and then
        only a suspect); False when the pool broke meanwhile (a worker died while it waited:
        no photo's fault, and the photo taken goes back)."""
        alone = bool(self.suspects)  # decided before one is taken
        pending = self.suspects if alone else self.queue
        while pending and len(self.running) < (1 if alone else limit):
            progress.check()
            number, key, task = pending.pop()
            try:
                future = executor.submit(task)
            except BrokenProcessPool:
                pending.append((number, key, task))
                return False
            self.running[future] = _InFlight(number, key, task, executor, alone)
        return True

    def settle(
        self, future: Future[R | str], flight: _InFlight[K, R]
    ) -> TaskDone[K, R] | PhotoFailed[K] | None:
        """The photo's result, or None when its worker died and it is to run again, alone
        (a photo that brought a worker down alone `_ATTEMPTS` times has failed)."""
        try:
            outcome = future.result()
        except BrokenProcessPool:
            if flight.alone:
                self.crashes_alone[flight.number] = self.crashes_alone.get(flight.number, 0) + 1
            if self.crashes_alone.get(flight.number, 0) < _ATTEMPTS:
                self.suspects.append((flight.number, flight.key, flight.task))
                return None
            return PhotoFailed(flight.key, False, "the analysis process crashed on this photo")
        except Exception as exc:  # anything a worker raised: report, keep going
            return PhotoFailed(flight.key, False, f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, str):
            return PhotoFailed(flight.key, True, outcome)
        return TaskDone(flight.key, outcome)


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


def _start(workers: int, prepared: networks.Networks) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_load_models,
        # Prepared once for the life of this process, not by every worker (`networks`).
        initargs=(prepared,),
    )


def _stop(processes: list[multiprocessing.process.BaseProcess]) -> None:
    """Terminate (and reap) the workers an executor leaves running when it is shut down.

    A broken executor terminates its workers, but only those it had registered, which it does
    once a spawn has returned: a worker spawned by a `submit` at the moment another one died is
    missed, waits for work forever and keeps the interpreter from exiting (CPython's
    `ProcessPoolExecutor`, seen in test_pool). A worker stuck while loading its models never
    reads the executor's request to stop either."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _load_models(prepared: networks.Networks) -> None:
    """Worker initializer: load the models once per process, from the networks the pool's
    process prepared."""
    _exit_with_parent()
    import cv2

    from ijs_vetting.faces import engine

    cv2.setNumThreads(1)  # one worker per core already; OpenCV threads would only contend
    engine.load_models(prepared)


def _exit_with_parent() -> None:
    """Make this worker exit as soon as the process that started it is gone.

    A station killed outright (kill -9, the task manager) never shuts its pool down, and a
    spawned worker holds both ends of its task queue, so it would wait for work forever, holding
    its 350 MB. `parent_process()` is multiprocessing's own handle on the parent (a pipe that
    closes when the parent dies on POSIX, the process handle on Windows), so a thread can wait
    on it; it also ends a worker stuck loading models or analysing a photo."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _analyse(path: str, min_identify_width: float | None) -> PhotoAnalysis | str:
    """Runs in a worker. A damaged file is an expected outcome, returned as its message."""
    from ijs_vetting.faces import engine
    from ijs_vetting.imaging.decode import ImageDecodeError

    width = engine.DEFAULT_MIN_IDENTIFY_WIDTH if min_identify_width is None else min_identify_width
    try:
        return engine.analyse_photo(Path(path), min_identify_width=width)
    except ImageDecodeError as exc:
        return exc.reason
