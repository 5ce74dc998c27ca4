"""The worker pool: same answers as in-process, damaged files reported, cancellable, dlib-free."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from ijs_vetting.faces.pool import FacePool, PhotoDone, PhotoFailed, analyse_photos
from ijs_vetting.progress import Cancelled, Progress
from tests.faces.conftest import Photos

pytestmark = pytest.mark.slow


def test_pool_matches_in_process_and_survives_damaged_files(photos: Photos) -> None:
    from ijs_vetting.faces.engine import analyse_photo

    good = {"group": photos.group_jpeg, "rotated": photos.group_rotated[6]}
    bad = {"truncated": photos.truncated, "garbage": photos.garbage}
    steps: list[tuple[int, int]] = []
    progress = Progress(lambda done, total, _msg: steps.append((done, total)))
    results = list(analyse_photos([*good.items(), *bad.items()], progress=progress, workers=2))

    assert sorted(r.key for r in results) == sorted([*good, *bad])
    assert steps[-1] == (4, 4)
    for result in results:
        if result.key in bad:
            assert isinstance(result, PhotoFailed) and result.unreadable and result.message
            continue
        assert isinstance(result, PhotoDone)
        local = analyse_photo(good[result.key])
        assert len(result.analysis.faces) == len(local.faces) == 2
        for pooled, here in zip(result.analysis.faces, local.faces, strict=True):
            assert pooled.box == here.box
            assert pooled.encoding is not None and here.encoding is not None
            assert np.allclose(pooled.encoding, here.encoding, atol=1e-6)


def test_cancel_stops_the_pool(photos: Photos) -> None:
    progress = Progress()
    many = [(i, photos.group_jpeg) for i in range(40)]
    received = 0
    with pytest.raises(Cancelled):
        for _result in analyse_photos(many, progress=progress, workers=2):
            received += 1
            progress.cancel()
    assert received == 1


def test_the_calling_process_never_loads_dlib(photos: Photos) -> None:
    code = f"""
import sys
from pathlib import Path
from ijs_vetting.faces.pool import analyse_photos, PhotoDone
results = list(analyse_photos([("g", Path({str(photos.group_jpeg)!r}))], workers=1))
assert isinstance(results[0], PhotoDone) and len(results[0].analysis.faces) == 2
loaded = {{"dlib", "face_recognition", "onnxruntime"}} & set(sys.modules)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_a_started_pool_loads_its_workers_before_any_photo(photos: Photos) -> None:
    """An import starts the pool while it copies; the workers must be up (and be reused)."""

    def children() -> set[int]:  # processes of earlier tests may still be on their way out
        return {p.pid for p in multiprocessing.active_children()} - earlier

    earlier = {p.pid for p in multiprocessing.active_children()}
    with FacePool(workers=2) as pool:
        assert children() == set()  # nothing starts until asked
        list(pool.analyse([]))
        assert children() == set()  # nor for an empty batch
        pool.start()
        workers = children()
        assert len(workers) == 2
        results = list(pool.analyse([("g", photos.group_jpeg)]))
        assert isinstance(results[0], PhotoDone) and len(results[0].analysis.faces) == 2
        assert children() == workers
    _assert_workers_end(earlier)


@pytest.mark.parametrize(
    ("physical", "available_gb", "expected"),
    [
        (8, 32.0, 2),  # cores: only the two this process may use (CI, the office PC's limit)
        (1, 32.0, 1),  # one physical core behind two logical CPUs: one worker
        (None, 32.0, 2),  # physical count unknown: the usable CPUs
        (8, 1.6, 1),  # little memory: one worker, never none
        (8, 0.2, 1),
    ],
)
def test_default_workers_follow_cores_and_memory(
    monkeypatch: pytest.MonkeyPatch, physical: int | None, available_gb: float, expected: int
) -> None:
    from types import SimpleNamespace

    from ijs_vetting.faces import pool

    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: physical)
    memory = SimpleNamespace(available=int(available_gb * 2**30))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: memory)
    assert pool.default_workers() == expected


def test_default_workers_leave_room_for_each_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six free GB on a 16-core PC hold ten workers beside the station, not sixteen."""
    from types import SimpleNamespace

    from ijs_vetting.faces import pool

    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _pid: set(range(32)), raising=False)
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 16)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=6 * 2**30))
    assert pool.default_workers() == 10


def test_a_worker_that_dies_while_the_pool_waits_does_not_stop_the_batch(photos: Photos) -> None:
    """An import's pool idles while it copies; a worker killed then (out of memory, an
    antivirus) breaks the executor before any photo is sent to it."""
    earlier = {p.pid for p in multiprocessing.active_children()}
    with FacePool(workers=2) as pool:
        pool.start()
        workers = [p for p in multiprocessing.active_children() if p.pid not in earlier]
        workers[0].kill()
        workers[0].join(10)
        time.sleep(0.5)  # let the executor notice
        results = list(pool.analyse([("g", photos.group_jpeg), ("r", photos.group_rotated[6])]))
    assert sorted(r.key for r in results) == ["g", "r"]
    assert all(isinstance(r, PhotoDone) and len(r.analysis.faces) == 2 for r in results)


def test_a_worker_killed_mid_batch_costs_no_photo(photos: Photos) -> None:
    earlier = {p.pid for p in multiprocessing.active_children()}
    batch = [(i, photos.group_jpeg) for i in range(6)]
    results = []
    with FacePool(workers=2) as pool:
        for result in pool.analyse(batch):
            if not results:  # the other photos are in flight now
                victim = next(p for p in multiprocessing.active_children() if p.pid not in earlier)
                victim.kill()
            results.append(result)
    assert sorted(r.key for r in results) == list(range(6))
    assert all(isinstance(r, PhotoDone) and len(r.analysis.faces) == 2 for r in results)


def test_default_workers_without_cpu_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows and macOS have no sched_getaffinity; Windows allows at most 61 workers."""
    from types import SimpleNamespace

    from ijs_vetting.faces import pool

    monkeypatch.delattr(pool.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(pool.os, "cpu_count", lambda: 128)
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 64)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=2**40))
    monkeypatch.setattr(pool.sys, "platform", "linux")
    assert pool.default_workers() == 64
    monkeypatch.setattr(pool.sys, "platform", "win32")
    assert pool.default_workers() == 61


def test_only_the_photo_that_crashes_a_worker_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every photo in flight dies with the worker; the innocent ones must not be blamed."""
    from ijs_vetting.faces import pool
    from tests.faces import crashing_worker

    monkeypatch.setattr(pool, "_analyse", crashing_worker.analyse)
    monkeypatch.setattr(pool, "_load_models", crashing_worker.load_nothing)
    batch = [(f"p{i}", Path(f"/photos/innocent{i}.jpg")) for i in range(10)]
    batch.insert(1, ("poison", Path("/photos/poison.jpg")))
    earlier = {p.pid for p in multiprocessing.active_children()}
    with FacePool(workers=3) as faces:
        results = {r.key: r for r in faces.analyse(batch)}
    # Workers started while another crashed are stopped too (they once outlived the pool and
    # kept the test process from exiting).
    _assert_workers_end(earlier)
    assert sorted(results) == sorted(key for key, _ in batch)
    failed = [key for key, r in results.items() if isinstance(r, PhotoFailed)]
    assert failed == ["poison"]
    assert "crashed" in results["poison"].message  # type: ignore[union-attr]


def test_workers_that_cannot_start_blame_no_photo(monkeypatch: pytest.MonkeyPatch) -> None:
    from ijs_vetting.faces import pool
    from tests.faces import crashing_worker

    monkeypatch.setattr(pool, "_analyse", crashing_worker.analyse)
    monkeypatch.setattr(pool, "_load_models", crashing_worker.load_fails)
    earlier = {p.pid for p in multiprocessing.active_children()}
    results = []
    with pytest.raises(pool.WorkersFailed), FacePool(workers=2) as faces:
        results.extend(faces.analyse([(i, Path(f"/photos/{i}.jpg")) for i in range(4)]))
    assert results == []  # nothing reported failed: the photos stay waiting
    _assert_workers_end(earlier)


def test_networks_that_cannot_be_prepared_fail_the_vetting_not_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An import starts its pool at its first photo and must still copy the rest."""
    from ijs_vetting.faces import networks, pool

    def full_disk() -> networks.Networks:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(networks, "prepared", full_disk)
    earlier = {p.pid for p in multiprocessing.active_children()}
    with FacePool(workers=2) as faces:
        faces.start()
        with pytest.raises(pool.WorkersFailed) as failed:
            list(faces.analyse([("a", Path("/photos/a.jpg"))]))
    assert isinstance(failed.value.__cause__, OSError)
    assert {p.pid for p in multiprocessing.active_children()} - earlier == set()


def test_a_photo_that_crashes_every_worker_alone_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last suspect left runs alone too: its crash is its own (it once looped forever)."""
    from ijs_vetting.faces import pool
    from tests.faces import crashing_worker

    monkeypatch.setattr(pool, "_analyse", crashing_worker.analyse)
    monkeypatch.setattr(pool, "_load_models", crashing_worker.load_nothing)
    with FacePool(workers=2) as faces:
        results = list(faces.analyse([("poison", Path("/photos/poison.jpg"))]))
    assert [(r.key, type(r)) for r in results] == [("poison", PhotoFailed)]


def _assert_workers_end(earlier: set[int]) -> None:
    """Every worker process started since `earlier` was taken ends within seconds."""
    deadline = time.monotonic() + 10
    while {p.pid for p in multiprocessing.active_children()} - earlier:
        assert time.monotonic() < deadline, "a pool worker outlived its pool"
        time.sleep(0.05)


ORPHAN_STATION = """
import sys, time
from pathlib import Path
from ijs_vetting.faces.pool import FacePool

pool = FacePool(2)
(result,) = pool.analyse([("garbage", Path(sys.argv[1]))])  # a worker is up when this returns
print(type(result).__name__, flush=True)
time.sleep(600)
"""


def test_workers_exit_by_themselves_when_the_station_is_killed(tmp_path: Path) -> None:
    """kill -9 of the station leaves no worker behind holding memory (parent-death check)."""
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not a picture" * 100)
    station = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_STATION, str(garbage)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert station.stdout is not None
        assert station.stdout.readline().strip() == "PhotoFailed"
        workers = psutil.Process(station.pid).children(recursive=True)
        assert len([w for w in workers if "spawn_main" in " ".join(w.cmdline())]) >= 2
    finally:
        station.kill()  # SIGKILL: nothing of the station runs after this
        station.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=20)
    assert alive == [], f"orphaned workers still running: {[p.pid for p in alive]}"
