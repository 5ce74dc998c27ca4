"""Kill -9 at every step of an import and of a clearing (tests/crashing.py), on SQLite and
PostgreSQL: afterwards the register and the vault hold what the README promises, and doing the
same work again finishes it with nothing twice. (Every step of an export: test_posting_folder.)

The school is Grace Hopper (GRACE1, Year 5, Twitter and biometric consent, enrolled). Each kill
point works on photos of its own (Grace's portrait, shown, and the astronaut's, masked, at sizes
of their own so their bytes differ), so one station serves every point in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import AuditEntry, Photo, PhotoFace, QueueItem
from ijs_vetting.domain import PhotoStatus, QueueStatus, ServiceError
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing
from ijs_vetting.services.posting import clearing
from tests import scenes
from tests.conftest import SLT, STAFF
from tests.crashing import run_killed
from tests.grace_school import enrol_grace

pytestmark = pytest.mark.slow  # the real engine, in a fresh process per step

DECIDED = {PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR, PhotoStatus.REVIEW}
CLEARABLE = {PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR}


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    return enrol_grace(station, admin, tmp_path)


def _folder(tmp_path: Path, n: int) -> Path:
    """Two photos no other point has: Grace (shown) and the astronaut (masked)."""
    folder = tmp_path / f"DCIM-{n}"
    folder.mkdir()
    grace = scenes.portrait(scenes.GRACE, 160 + 4 * n, margin=1.0)
    astronaut = scenes.portrait(scenes.ASTRONAUT, 170 + 4 * n, margin=1.0)
    scenes.write_jpeg(folder / "IMG_1.JPG", grace.pixels)
    scenes.write_jpeg(folder / "IMG_2.JPG", astronaut.pixels)
    return folder


def _photos_from(station: Station, folder: Path) -> list[Photo]:
    with station.read() as s:
        rows = s.scalars(select(Photo).where(Photo.source_path.like(f"{folder}/%"))).all()
        for photo in rows:
            _ = photo.faces  # loaded before the session closes
        return list(rows)


def _importing(folder: Path) -> Callable[[Station], object]:
    return lambda opened: importing.import_folder(opened, STAFF, folder, workers=1)


def _assert_import_as_promised(station: Station, folder: Path, fault: str) -> None:
    """After the kill: each photo is registered whole (its original in the vault) or not at
    all, and vetted whole or not at all; nothing is queued."""
    rows = _photos_from(station, folder)
    assert len({p.filename for p in rows}) == len(rows) <= 2, fault
    for photo in rows:
        assert _in_vault(station, photo.sha256), f"{fault}: {photo.filename} has no original"
        if photo.status is PhotoStatus.PENDING:
            assert photo.faces == [], f"{fault}: {photo.filename} is vetted half-way"
        else:
            assert photo.status in DECIDED and photo.faces, (fault, photo.status)
    incoming = [p for p in station.paths.vault.rglob(".incoming-*")]
    assert len(incoming) <= 1, f"{fault}: {incoming}"


def _assert_import_finished(station: Station, folder: Path) -> None:
    rows = sorted(_photos_from(station, folder), key=lambda p: p.filename)
    assert [(p.filename, p.status) for p in rows] == [
        ("IMG_1.JPG", PhotoStatus.READY),
        ("IMG_2.JPG", PhotoStatus.READY_WITH_BLUR),
    ]
    with station.read() as s:
        shas = [p.sha256 for p in rows]
        assert s.scalar(select(func.count()).where(Photo.sha256.in_(shas))) == 2


def test_kill_9_at_every_step_of_an_import_loses_nothing_and_half_does_nothing(
    school: Station, tmp_path: Path
) -> None:
    station = school
    counted = run_killed(station, "count", _importing(_folder(tmp_path, 0)), tmp_path / "n")
    assert counted is not None
    _assert_import_finished(station, tmp_path / "DCIM-0")
    # A start, two photos copied, two vetted, an end: six commits (a change here is a change
    # of what a crash can leave: read the README's promise again, then this list).
    assert counted["commits"] == 6, counted
    faults = [
        *(f"commit:{n}:{when}" for n in range(1, 7) for when in ("before", "after")),
        "replace:1:before",  # the first original being put in place
        "replace:1:after",
    ]
    for n, fault in enumerate(faults, start=1):
        folder = _folder(tmp_path, n)
        run_killed(station, fault, _importing(folder), tmp_path / "n")
        _assert_import_as_promised(station, folder, fault)
        again = importing.import_folder(station, STAFF, folder, workers=1)  # what the office does
        assert again.imported + again.duplicates == 2 and not again.failed, fault
        _assert_import_finished(station, folder)


def _ready_pair(station: Station, tmp_path: Path, n: int) -> list[int]:
    folder = _folder(tmp_path, 100 + n)
    importing.import_folder(station, STAFF, folder, workers=1)
    rows = sorted(_photos_from(station, folder), key=lambda p: p.filename)
    assert [p.status for p in rows] == [PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR]
    return [p.id for p in rows]


def _clearing(ids: list[int]) -> Callable[[Station], object]:
    return lambda opened: clearing.clear_photos(
        opened, SLT, ids, account="@Year5IJS", caption="Sports day", workers=1
    )


def _assert_clear_as_promised(station: Station, ids: list[int], fault: str) -> None:
    """After the kill: each photo is queued (one item, its rendering in the vault, its audit
    entry) or still clearable with no item."""
    with station.read() as s:
        for photo_id in ids:
            photo = s.get(Photo, photo_id)
            assert photo is not None
            items = s.scalars(select(QueueItem).where(QueueItem.photo_id == photo_id)).all()
            audited = s.scalar(
                select(func.count()).where(
                    AuditEntry.action == "queue.clear", AuditEntry.target_id == str(photo_id)
                )
            )
            if photo.status is PhotoStatus.QUEUED:
                assert len(items) == 1 and items[0].status is QueueStatus.QUEUED, fault
                assert _in_vault(station, items[0].image_sha256), f"{fault}: no rendering"
                assert audited == 1, f"{fault}: photo {photo_id} queued without its audit entry"
            else:
                assert photo.status in CLEARABLE and items == [], (fault, photo.status, items)
                assert audited == 0, fault
            faces = s.scalar(select(func.count()).where(PhotoFace.photo_id == photo_id))
            assert faces == 1, fault  # nothing added to or lost from the photo's faces


def test_kill_9_at_every_step_of_a_clearing_queues_each_photo_whole_or_not(
    school: Station, tmp_path: Path
) -> None:
    station = school
    ids = _ready_pair(station, tmp_path, 0)
    counted = run_killed(station, "count", _clearing(ids), tmp_path / "n")
    assert counted is not None and counted["commits"] == 2, counted  # one per photo queued
    _assert_clear_as_promised(station, ids, "count")
    faults = [
        "after:ijs_vetting.services.posting.clearing:render_and_check",  # checked, unwritten
        "replace:1:before",  # the first rendering being put in the vault
        *(f"commit:{n}:{when}" for n in (1, 2) for when in ("before", "after")),
    ]
    for n, fault in enumerate(faults, start=1):
        ids = _ready_pair(station, tmp_path, n)
        run_killed(station, fault, _clearing(ids), tmp_path / "n")
        _assert_clear_as_promised(station, ids, fault)
        left = [p for p in ids if _status(station, p) in CLEARABLE]
        if left:  # what the office does next: clear what is still ready
            done = clearing.clear_photos(station, SLT, left, account="@Year5IJS", workers=1)
            assert sorted(c.photo_id for c in done.cleared) == sorted(left), done.refused
        _assert_clear_as_promised(station, ids, f"{fault}, cleared again")
        assert {_status(station, p) for p in ids} == {PhotoStatus.QUEUED}, fault


def _status(station: Station, photo_id: int) -> PhotoStatus:
    with station.read() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        return photo.status


def _in_vault(station: Station, sha: str | None) -> bool:
    try:
        return sha is not None and bool(station.vault.read_bytes(sha))
    except (OSError, ServiceError):  # gone, or not the bytes it is named by
        return False
