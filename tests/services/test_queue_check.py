"""The check before posting on crowds, on faces vetting missed, on shown faces, and after a crash.

Real faces, the real engine in its worker processes and a real database, as in test_queue.py.
Grace Hopper (GRACE1, Year 5, Twitter consent) is the one child enrolled; the astronaut and the
small copies of Grace are nobody the station can identify, so they are masked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest
from sqlalchemy import select

from ijs_vetting.db.models import Child, Photo, PhotoFace
from ijs_vetting.domain import FaceDecision, FaceOverride, PhotoStatus
from ijs_vetting.faces.engine import analyse_photo, analyse_reference
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import decode_image
from ijs_vetting.imaging.mask_check import solid_masks
from ijs_vetting.imaging.redact import DEFAULT_MASK, head_region, in_mask
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing, photos, review
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting import clearing, queue
from ijs_vetting.services.posting.verify import NOT_A_FACE_FOUND, SHOWN_MISMATCH
from ijs_vetting.services.register import roster
from ijs_vetting.services.register import templates as enrolment
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 5,5C,Y,Y\n"
)
# face_recognition's own tolerance: a face nearer than this to someone is recognisable as them.
RECOGNISABLE = 0.6


@dataclass(frozen=True)
class Files:
    roster: Path
    grace_only: Path  # references: Grace alone
    both: Path  # references: Grace and the astronaut
    crowd: Path  # a folder holding the crowd photo
    group: Path  # a folder holding Grace and the astronaut side by side
    crowd_scene: scenes.Scene


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("check-files")
    roster_csv = folder / "roster.csv"
    roster_csv.write_text(ROSTER, encoding="utf-8")
    grace_only, both = folder / "grace-only", folder / "both"
    for refs in (grace_only, both):
        refs.mkdir()
        scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(both / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    crowd_scene = scenes.crowd_scene()
    (folder / "crowd").mkdir()
    scenes.write_jpeg(folder / "crowd" / "crowd.jpg", crowd_scene.pixels)
    (folder / "group").mkdir()
    scenes.write_jpeg(folder / "group" / "group.jpg", scenes.group_scene(170).pixels)
    return Files(roster_csv, grace_only, both, folder / "crowd", folder / "group", crowd_scene)


def _school(station: Station, admin: Actor, files: Files, references: Path, dcim: Path) -> int:
    """Roster, enrolment and the import of one photo; its id."""
    roster.import_roster(station, admin, files.roster)
    enrolment.enrol_references(station, admin, references, workers=1)
    importing.import_folder(station, admin, dcim, workers=2)
    (photo,) = photos.list_photos(station)
    return photo.id


def _forget_masked_faces(station: Station, photo_id: int, every: int = 1) -> list[Box]:
    """As if vetting had missed them: every `every`-th masked face's record goes, so nothing
    masks those faces. Their boxes."""
    with station.transaction() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        missed = [f for f in photo.faces if f.decision is FaceDecision.BLUR][::every]
        for face in missed:
            photo.faces.remove(face)
        s.flush()
        decide(s, photo)
        return [face.box for face in missed]


def _reference(person: str) -> np.ndarray:
    check = analyse_reference(scenes.source_path(person))
    assert check.encoding is not None
    return check.encoding


def test_a_crowd_clears_with_every_head_masked(
    station: Station, admin: Actor, slt: Actor, files: Files
) -> None:
    photo_id = _school(station, admin, files, files.grace_only, files.crowd)
    scene = files.crowd_scene
    info = photos.get_photo(station, photo_id)
    assert info.status is PhotoStatus.READY_WITH_BLUR
    assert len(info.faces) == len(scene.boxes) == 42
    shown = [f for f in info.faces if f.decision == "show"]
    assert [f.child_id for f in shown] == ["GRACE1"]

    result = clearing.clear_photos(station, slt, [photo_id], caption="Assembly", workers=2)
    assert result.refused == []
    (cleared,) = result.cleared
    assert cleared.blurred_faces == 41 and cleared.shown == ("GRACE1",)
    assert [i.photo_id for i in queue.list_queue(station)] == [photo_id]

    # Every head but Grace's is under a mask whose pixels are all fill colour...
    rendered = station.vault.read_bytes(cleared.image_sha256)
    grace = next(Box(f.left, f.top, f.right, f.bottom) for f in shown)
    masked = [Box(f.left, f.top, f.right, f.bottom) for f in info.faces if f.decision == "blur"]
    for truth in (b for b in scene.boxes if b.iou(grace) < 0.3):
        assert max(truth.iou(box) for box in masked) >= 0.5
    heads = [head_region(box) for box in masked]
    pixels = decode_image(rendered).pixels
    assert all(solid_masks(pixels, heads, DEFAULT_MASK.colour))
    # ...and the engine recovers nobody from the rendering but Grace, once.
    faces = analyse_photo(rendered).faces
    astronaut, hopper = _reference(scenes.ASTRONAUT), _reference(scenes.GRACE)
    encoded = [f for f in faces if f.encoding is not None]
    assert all(np.linalg.norm(f.encoding - astronaut) > RECOGNISABLE for f in encoded)
    assert sum(np.linalg.norm(f.encoding - hopper) <= RECOGNISABLE for f in encoded) == 1
    outside = [f for f in faces if not any(in_mask(h, *f.box.centre) for h in heads)]
    assert [f for f in outside if f.box.iou(grace) >= 0.3]  # Grace is still there


def test_a_face_vetting_missed_is_added_reviewed_and_cleared(
    station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files
) -> None:
    photo_id = _school(station, admin, files, files.grace_only, files.group)
    (missed_box,) = _forget_masked_faces(station, photo_id)
    assert photos.get_photo(station, photo_id).status is PhotoStatus.READY

    first = clearing.clear_photos(station, slt, [photo_id], workers=1)
    assert first.cleared == []
    ((_, reason, _file),) = first.refused
    assert "found 1 face that vetting had not marked" in reason and "'blur'" in reason
    info = photos.get_photo(station, photo_id)
    assert info.status is PhotoStatus.REVIEW and "mark it 'blur'" in (info.note or "")
    (found,) = [f for f in info.faces if f.origin == "verification"]
    assert (found.decision, found.reason) == ("blur", "found_at_check")
    assert Box(found.left, found.top, found.right, found.bottom).iou(missed_box) >= 0.5
    assert queue.list_queue(station) == []

    # "Not a face" must still get past the engine: the astronaut is a face, so it does not.
    assert review.set_override(station, staff, found.id, FaceOverride.NOT_A_FACE) in (
        clearing.CLEARABLE
    )
    second = clearing.clear_photos(station, slt, [photo_id], workers=1)
    assert second.cleared == [] and NOT_A_FACE_FOUND in second.refused[0].reason

    # One action resolves it: mask it (then SLT lift the hold the refusal put on the photo).
    review.set_override(station, staff, found.id, FaceOverride.BLUR)
    assert review.accept_photo(station, slt, photo_id) is PhotoStatus.READY_WITH_BLUR
    third = clearing.clear_photos(station, slt, [photo_id], workers=1)
    assert [(c.photo_id, c.blurred_faces) for c in third.cleared] == [(photo_id, 1)]


def test_blurring_a_found_face_is_the_one_action_it_takes(
    sqlite_station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files
) -> None:
    station = sqlite_station
    photo_id = _school(station, admin, files, files.grace_only, files.group)
    _forget_masked_faces(station, photo_id)
    assert clearing.clear_photos(station, slt, [photo_id], workers=1).cleared == []
    (found,) = [f for f in photos.get_photo(station, photo_id).faces if f.origin == "verification"]
    assert review.set_override(station, staff, found.id, FaceOverride.BLUR) is (
        PhotoStatus.READY_WITH_BLUR
    )
    again = clearing.clear_photos(station, slt, [photo_id], workers=1)
    assert [c.photo_id for c in again.cleared] == [photo_id] and again.refused == []


def test_a_crowd_with_faces_vetting_missed_clears_after_one_review_round(
    sqlite_station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files
) -> None:
    """Masking what the check found changes the picture again; the second check must not find
    anything new beside the new masks (vetting's verdict on those places stands)."""
    station = sqlite_station
    photo_id = _school(station, admin, files, files.grace_only, files.crowd)
    missed = _forget_masked_faces(station, photo_id, every=5)
    assert len(missed) == 9
    first = clearing.clear_photos(station, slt, [photo_id], workers=2)
    assert first.cleared == [] and "found 9 faces" in first.refused[0].reason
    found = [f for f in photos.get_photo(station, photo_id).faces if f.origin == "verification"]
    for box in missed:
        assert max(box.iou(Box(f.left, f.top, f.right, f.bottom)) for f in found) >= 0.5
    for face in found:
        review.set_override(station, staff, face.id, FaceOverride.BLUR)
    assert photos.get_photo(station, photo_id).status is PhotoStatus.READY_WITH_BLUR
    second = clearing.clear_photos(station, slt, [photo_id], workers=2)
    assert [(c.photo_id, c.blurred_faces) for c in second.cleared] == [(photo_id, 41)]


def test_a_shown_face_must_still_match_the_child_it_shows(
    sqlite_station: Station, admin: Actor, slt: Actor, files: Files
) -> None:
    """Both children may be shown; their identities are swapped in the register (as a changed
    original or a wrong match would leave them). No face matches a child who may not be
    shown, so only the rule that each shown face matches *its* child catches it."""
    station = sqlite_station
    photo_id = _school(station, admin, files, files.both, files.group)
    with station.transaction() as s:
        ids = {c.mis_id: c.id for c in s.scalars(select(Child))}
        faces = list(s.scalars(select(PhotoFace).where(PhotoFace.photo_id == photo_id)))
        assert {f.candidate_child_id for f in faces} == set(ids.values())
        swap = {ids["GRACE1"]: ids["ASTRO1"], ids["ASTRO1"]: ids["GRACE1"]}
        for face in faces:
            assert face.candidate_child_id is not None
            face.candidate_child_id = swap[face.candidate_child_id]
        decide(s, faces[0].photo)
    info = photos.get_photo(station, photo_id)
    assert info.status is PhotoStatus.READY and {f.decision for f in info.faces} == {"show"}

    result = clearing.clear_photos(station, slt, [photo_id], account="@Year5IJS", workers=1)
    assert result.cleared == [] and SHOWN_MISMATCH in result.refused[0].reason
    assert photos.get_photo(station, photo_id).status is PhotoStatus.REVIEW
    assert queue.list_queue(station) == []


_CLEAR_IN_A_PROCESS = """
import sys
from ijs_vetting.domain import Role
from ijs_vetting.services.posting import clearing
from ijs_vetting.services.core.station import Actor, open_station
station = open_station(sys.argv[1], url=sys.argv[2])
clearing.clear_photos(station, Actor("head-teacher", Role.SLT), [int(sys.argv[3])], workers=1)
"""


def _workers(pid: int) -> list[psutil.Process]:
    """The pool's worker processes under `pid` (spawned by multiprocessing)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
        return [c for c in children if "spawn_main" in " ".join(c.cmdline())]
    except psutil.Error:
        return []


def _jpegs(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                if f.read(2) == b"\xff\xd8":
                    found.append(path)
    return found


def test_no_rendering_waits_in_a_temporary_folder_even_after_a_crash(
    tmp_path: Path, admin: Actor, slt: Actor, files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, url = tmp_path / "home", f"sqlite:///{tmp_path / 'station.db'}"
    station = open_station(str(home), url=url)
    try:
        photo_id = _school(station, admin, files, files.grace_only, files.crowd)
    finally:
        station.close()
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp)}
    process = subprocess.Popen(
        [sys.executable, "-c", _CLEAR_IN_A_PROCESS, str(home), url, str(photo_id)],
        cwd=Path(__file__).parents[2],
        env=env,
    )
    try:
        # The renderings are made before the workers start; once a worker runs, they wait.
        deadline = time.monotonic() + 120
        while not (workers := _workers(process.pid)) and time.monotonic() < deadline:
            assert process.poll() is None, "the clearing ended before it could be interrupted"
            time.sleep(0.05)
        assert workers
        os.kill(process.pid, signal.SIGKILL)
        for worker in workers:
            worker.kill()
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert _jpegs(temp) == []

    station = open_station(str(home), url=url)
    try:
        assert photos.get_photo(station, photo_id).status is PhotoStatus.READY_WITH_BLUR
        assert queue.list_queue(station) == []
        # A clearing that runs to its end leaves nothing there either.
        monkeypatch.setenv("TMPDIR", str(temp))
        monkeypatch.setattr(tempfile, "tempdir", str(temp))
        done = clearing.clear_photos(station, slt, [photo_id], workers=1)
        assert [c.photo_id for c in done.cleared] == [photo_id]
        assert _jpegs(temp) == []
    finally:
        station.close()
