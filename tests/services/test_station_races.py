"""Work two stations do at once, as two real processes (tests/station_child.py) on one
PostgreSQL database and one vault folder: each race has exactly one winner, the register holds
what the winner wrote, and nothing is queued or exported that the register would not show.

Races covered elsewhere: a withdrawal racing an export (test_posting_folder), failed logins
from several stations (test_login_race), two stations making the register's key at once
(test_encryption).

Grace Hopper (GRACE1, Year 5, Twitter and biometric consent, enrolled) is the one child; her
portrait is imported and vetted `ready`, so clearing it shows her face to @Year5IJS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import Photo, PhotoFace, QueueItem
from ijs_vetting.domain import (
    CHANGED_ELSEWHERE,
    QUEUE_WAITING,
    FaceDecision,
    PhotoStatus,
    QueueStatus,
)
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing, photos
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting import queue_export
from tests import scenes
from tests.conftest import SLT
from tests.grace_school import enrol_grace

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "@Year5IJS"


@pytest.fixture
def station(postgres_url: str, tmp_path: Path) -> Iterator[Station]:
    """The first station (PostgreSQL only: the races are between a school's PCs)."""
    opened = open_station(str(tmp_path / "office"), url=postgres_url)
    yield opened
    opened.close()


def _grace_school(station: Station, admin: Actor, tmp_path: Path) -> int:
    """Roster, Grace's template and her portrait imported: the photo's id (vetted ready)."""
    enrol_grace(station, admin, tmp_path)
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    scenes.write_jpeg(dcim / "grace.jpg", scenes.portrait(scenes.GRACE, 170, margin=1.0).pixels)
    importing.import_folder(station, admin, dcim, workers=1)
    (photo,) = photos.list_photos(station)
    assert photo.status == PhotoStatus.READY.value, photo.note
    return photo.id


def _vet_while_setting(
    station: Station, admin: Actor, tmp_path: Path, setting_action: list[str]
) -> None:
    """Grace's school, then four more portraits of her (four sizes) imported and vetted on one
    station while `setting_action` changes a setting on another: none is left pending."""
    _grace_school(station, admin, tmp_path)
    more = tmp_path / "more"
    more.mkdir()
    for n in range(4):
        scenes.write_jpeg(
            more / f"grace-{n}.jpg",
            scenes.portrait(scenes.GRACE, 150 + 10 * n, margin=0.8).pixels,
        )
    imported, setting = race(station, tmp_path, ["import", str(more)], setting_action)
    assert imported["imported"] == 4 and "refused" not in setting
    with station.read() as s:
        assert PhotoStatus.PENDING not in set(s.scalars(select(Photo.status)))


def race(station: Station, tmp_path: Path, *actions: list[str]) -> list[dict[str, Any]]:
    """Run each action in its own station process, all let go at once; their results."""
    url = _url(station)
    tmp_path.mkdir(exist_ok=True)
    go = tmp_path / "go"
    homes = [tmp_path / f"station-{n}" for n in range(len(actions))]
    children = []
    for home, action in zip(homes, actions, strict=True):
        home.mkdir()
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.station_child",
                    str(home),
                    url,
                    str(station.paths.vault),
                    str(go),
                    *action,
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    deadline = time.monotonic() + 600  # a busy machine is slow; only a hang fails this
    for home, child in zip(homes, children, strict=True):
        while not (home / "opened").exists() and child.poll() is None:
            assert time.monotonic() < deadline, "a station did not open"
            time.sleep(0.05)
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


def _url(station: Station) -> str:
    return station.engine.url.render_as_string(hide_password=False)


def _items(station: Station) -> list[QueueItem]:
    with station.read() as s:
        return list(s.scalars(select(QueueItem)))


def _redecided_changes(station: Station) -> list[tuple[int, str, str]]:
    """What deciding every photo again would change: nothing, if each was decided on the
    register as it now stands (rolled back, whatever it finds)."""
    changes = []
    with station.sessions() as s:
        for photo in s.scalars(select(Photo)):
            before = [(f.id, f.decision) for f in photo.faces], photo.status
            decide(s, photo)
            after = [(f.id, f.decision) for f in photo.faces], photo.status
            if before != after:
                changes.append((photo.id, str(before), str(after)))
        s.rollback()
    return changes


def test_the_same_folder_imported_on_two_stations_at_once_stores_each_photo_once(
    station: Station, tmp_path: Path
) -> None:
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    for n in range(6):
        scenes.write_jpeg(dcim / f"IMG_{n:04d}.JPG", scenes.background(640, 480, seed=n))
    first, second = race(station, tmp_path, ["import", str(dcim)], ["import", str(dcim)])
    assert first["imported"] + second["imported"] == 6
    assert first["imported"] + first["duplicates"] == 6 == second["imported"] + second["duplicates"]
    assert not first["failed"] and not second["failed"]
    with station.read() as s:
        rows = list(s.execute(select(Photo.sha256, Photo.status)))
    assert len(rows) == len({sha for sha, _ in rows}) == 6
    assert {status for _, status in rows} == {PhotoStatus.READY}
    for sha, _ in rows:
        station.vault.check(sha)


def test_two_slt_clearing_the_same_photo_queue_it_once(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    photo_id = _grace_school(station, admin, tmp_path)
    clear = ["clear", str(photo_id), ACCOUNT]
    results = race(station, tmp_path, clear, clear)
    winners = [r for r in results if r["cleared"]]
    losers = [r for r in results if r["refused"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert CHANGED_ELSEWHERE in losers[0]["refused"][0]["reason"]
    (item,) = _items(station)
    assert item.id == winners[0]["cleared"][0]["item_id"] and item.photo_id == photo_id
    assert item.status in QUEUE_WAITING
    assert photos.get_photo(station, photo_id).status == PhotoStatus.QUEUED.value


def test_consent_withdrawn_on_one_station_while_another_clears_queues_nothing_of_her(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    photo_id = _grace_school(station, admin, tmp_path)
    cleared, withdrawal = race(
        station, tmp_path, ["clear", str(photo_id), ACCOUNT], ["consent", "GRACE1", "twitter", "no"]
    )
    assert "refused" not in withdrawal
    if cleared["cleared"]:  # the clearing committed first: the withdrawal pulled its item back
        assert withdrawal["withdrawn"] == [cleared["cleared"][0]["item_id"]]
    else:  # the withdrawal committed first: the clearing saw it and queued nothing
        assert CHANGED_ELSEWHERE in cleared["refused"][0]["reason"]
    assert [item for item in _items(station) if item.status in QUEUE_WAITING] == []
    with station.read() as s:
        decisions = set(s.scalars(select(PhotoFace.decision).where(PhotoFace.photo_id == photo_id)))
    assert decisions == {FaceDecision.BLUR}
    assert photos.get_photo(station, photo_id).status != PhotoStatus.QUEUED.value
    assert _redecided_changes(station) == []


@pytest.mark.parametrize("reachable", [True, False], ids=["folder-reachable", "folder-offline"])
def test_a_withdrawal_after_the_clearing_committed_pulls_the_item_and_its_files_back(
    station: Station, admin: Actor, tmp_path: Path, reachable: bool
) -> None:
    """The race in the other order: one station clears Grace's photo and it is exported to the
    office's posting folder; then her consent is withdrawn on another station, which pulls the
    queued item back. Its picture and caption leave the folder at once, or — when the folder
    is the office PC's own and that station cannot reach it — at the office's next start."""
    photo_id = _grace_school(station, admin, tmp_path)
    (cleared,) = race(station, tmp_path / "clearing", ["clear", str(photo_id), ACCOUNT])
    (item_id,) = [entry["item_id"] for entry in cleared["cleared"]]
    outbox = tmp_path / "office-posting"
    exported = queue_export.export_queue(station, SLT, outbox)
    (item,) = exported.items
    assert item.image is not None and (outbox / item.image).is_file()
    files = {outbox / item.image, outbox / item.caption_file}
    hidden = outbox.with_name("office-posting-offline")
    if not reachable:
        outbox.rename(hidden)  # the office PC's folder, which the other station cannot see
    (withdrawal,) = race(station, tmp_path / "withdrawal", ["consent", "GRACE1", "twitter", "no"])
    if not reachable:
        hidden.rename(outbox)
    assert withdrawal["withdrawn"] == [item_id]
    (row,) = _items(station)
    assert row.status is QueueStatus.WITHDRAWN
    assert photos.get_photo(station, photo_id).status != PhotoStatus.QUEUED.value
    station.close()
    reopened = open_station(str(station.paths.home), url=_url(station))  # the office's next start
    try:
        assert not any(path.exists() for path in files)
        manifest = json.loads((outbox / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["items"] == []
        again = queue_export.export_queue(reopened, SLT, outbox)
        assert again.items == [] and again.removed == []
    finally:
        reopened.close()


def test_a_reviewers_mask_racing_a_re_decision_keeps_the_mask(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    """A stricter match threshold re-decides every undecided photo while a reviewer on the
    other station masks Grace's face: whichever commits first, the mask stands and the photo
    is decided on the threshold that is now set."""
    photo_id = _grace_school(station, admin, tmp_path)
    (face,) = photos.get_photo(station, photo_id).faces
    masked, setting = race(
        station,
        tmp_path,
        ["override", str(face.id), "blur"],
        ["setting", "faces.match_threshold", "0.3"],
    )
    assert "refused" not in masked and "refused" not in setting
    (after,) = photos.get_photo(station, photo_id).faces
    assert (after.override, after.decision) == ("blur", "blur")
    assert _redecided_changes(station) == []


def test_settings_changed_on_one_station_while_another_vets(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    """Every photo vetted while the threshold changed is decided on the threshold now set."""
    _vet_while_setting(station, admin, tmp_path, ["setting", "faces.match_threshold", "0.2"])
    assert _redecided_changes(station) == []


def test_the_identification_size_changed_mid_run_leaves_no_photo_on_the_old_size(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    """`faces.min_identify_width` raised on one station once the other has vetted the first of
    four photos: the photos vetted before it are sent back and vetted again, those analysed on
    the old size are not stored, and none is left pending. At 400 pixels no face here is big
    enough to be identified, so every face is `too_small` and masked."""
    setting = ["setting-after", "grace-0.jpg", "faces.min_identify_width", "400"]
    _vet_while_setting(station, admin, tmp_path, setting)
    with station.read() as s:
        faces = list(s.execute(select(PhotoFace.too_small, PhotoFace.decision)))
    assert len(faces) == 5 and set(faces) == {(True, FaceDecision.BLUR)}
