"""A disk that fills during an import (the vault) or an export (the posting folder): one plain
sentence, nothing lost or half there, and the same work done once space is freed finishes it.
The disk is a real 12 MB tmpfs (root only: skipped otherwise)."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.db.models import Photo
from ijs_vetting.domain import PhotoStatus, QueueStatus, ServiceError
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing
from ijs_vetting.services.posting import queue, queue_export
from tests import privacy_world
from tests.mounts import mounted
from tests.privacy_world import Face

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@contextlib.contextmanager
def _small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=12m", "tmpfs", str(disk)):
        yield disk


def _fill(disk: Path, leave: int) -> Path:
    """Fill `disk` but for about `leave` bytes; the filler, to delete to free the space."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def _noise_jpeg(path: Path, seed: int) -> Path:
    """About 1.5 MB that no compression shrinks: noise, no faces."""
    pixels = np.random.default_rng(seed).integers(0, 255, (900, 1200, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=95)
    return path


def test_an_import_that_fills_the_disk_says_so_and_finishes_once_there_is_space(
    tmp_path: Path, staff: Actor
) -> None:
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    files = [_noise_jpeg(dcim / f"IMG_{n}.JPG", n) for n in range(3)]
    with _small_disk(tmp_path) as disk:
        station = open_station(str(disk / "home"), url=f"sqlite:///{tmp_path / 'station.db'}")
        try:
            filler = _fill(disk, leave=2_000_000)  # room for the first photo only
            with pytest.raises(ServiceError) as refused:
                importing.import_folder(station, staff, dcim, workers=1)
            assert str(refused.value).startswith("The disk is full")
            assert "Traceback" not in str(refused.value)
            with station.read() as s:
                rows = list(s.scalars(select(Photo)))
                for photo in rows:  # registered whole: the original is in the vault
                    assert station.vault.read_bytes(photo.sha256)
            assert len(rows) < len(files)
            assert not [p for p in station.paths.vault.rglob(".incoming-*")]

            filler.unlink()
            again = importing.import_folder(station, staff, dcim, workers=1)
            assert again.imported + again.duplicates == len(files) and not again.failed
            with station.read() as s:
                statuses = list(s.scalars(select(Photo.status)))
            assert len(statuses) == len(files) and PhotoStatus.PENDING not in statuses
        finally:
            station.close()


def _picture_item(station: Station, mis_id: str) -> int:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(sum(map(ord, mis_id))).integers(
        0, 255, (900, 1200, 3), dtype=np.uint8
    )
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    photo = privacy_world.add_photo(station, [Face(mis_id)])
    return privacy_world.add_item(station, photo, picture=buffer.getvalue())


def test_an_export_that_fills_the_disk_leaves_nothing_half_done(
    station: Station, admin: Actor, slt: Actor, tmp_path: Path
) -> None:
    privacy_world.school(station, admin, tmp_path)
    items = [_picture_item(station, "A123"), _picture_item(station, "B456")]
    with _small_disk(tmp_path) as disk:
        outdir = disk / "posting"
        filler = _fill(disk, leave=2_000_000)  # room for one picture, not two
        with pytest.raises(ServiceError, match=r"^The disk is full"):
            queue_export.export_queue(station, slt, outdir)
        assert {queue.get_item(station, i).status for i in items} == {QueueStatus.QUEUED}
        left = [p.name for p in outdir.rglob("*") if p.is_file()]
        assert left == [], left  # what it wrote for items it did not mark exported went

        filler.unlink()
        report = queue_export.export_queue(station, slt, outdir)
        assert sorted(i.id for i in report.items) == sorted(items)
        assert {queue.get_item(station, i).status for i in items} == {QueueStatus.EXPORTED}
        assert sorted(p.name for p in outdir.rglob("*.jpg")) == sorted(f"{i}.jpg" for i in items)
