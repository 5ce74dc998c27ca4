"""Reference enrolment, import and vetting end to end, with real faces and a real database.

Grace Hopper (matplotlib's sample) and the astronaut (scikit-image's sample) stand in for two
children. Nothing is mocked: the face engine runs in its worker processes and every decision is
read back from the database the way the GUI and CLI read it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import Child, FaceTemplate, Photo
from ijs_vetting.domain import BiometricEvent, PhotoStatus
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, importing, photos
from ijs_vetting.services.intake.vetting import retry_failed
from ijs_vetting.services.register import consent, roster, templates
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 6,6C,N,N\n"
)


def _roster(folder: Path) -> Path:
    path = folder / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def _references(folder: Path) -> Path:
    refs = folder / "references"
    refs.mkdir()
    scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(refs / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    return refs


def _ipad_folder(folder: Path) -> Path:
    """A DCIM-like folder: the two people in several file forms, a tiny-face photo, a photo
    with Grace twice, a truncated file, and the videos and sidecars an iPad leaves."""
    dcim = folder / "DCIM" / "100APPLE"
    dcim.mkdir(parents=True)
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg(dcim / "IMG_0001.JPG", group.pixels)
    scenes.write_heic(dcim / "IMG_0002.HEIC", group.pixels)
    scenes.write_exif_rotated_jpeg(dcim / "IMG_0003.JPG", group.pixels, orientation=6)
    scenes.write_png(dcim / "IMG_0004.PNG", scenes.rotated(group, 90).pixels)
    scenes.write_jpeg(dcim / "IMG_0005.JPG", scenes.group_scene(face_width=48).pixels)
    twins = np.hstack(
        [
            scenes.portrait(scenes.GRACE, 170).pixels,
            scenes.portrait(scenes.GRACE, 170).pixels[:, ::-1],
        ]
    )
    scenes.write_jpeg(dcim / "IMG_0006.JPG", np.ascontiguousarray(twins))
    scenes.write_truncated_jpeg(dcim / "IMG_0007.JPG", group.pixels)
    (dcim / "IMG_0008.MOV").write_bytes(b"\x00\x00\x00\x18ftypqt  video")
    (dcim / "IMG_0001.AAE").write_text("<plist/>")
    return folder / "DCIM"


def _by_file(station: Station) -> dict[str, photos.PhotoInfo]:
    return {p.file: p for p in photos.list_photos(station)}


def _faces(info: photos.PhotoInfo) -> list[tuple[str | None, str, str]]:
    """(child, decision, reason) per face, left to right."""
    return [(f.child_id, f.decision, f.reason) for f in sorted(info.faces, key=lambda f: f.left)]


def test_enrol_import_vet_and_react_to_consent_changes(
    station: Station, admin: Actor, staff: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path))

    enrolled = templates.enrol_references(station, admin, _references(tmp_path), workers=2)
    outcome = {o.child_id: (o.status, o.reason) for o in enrolled.outcomes}
    assert outcome == {
        "GRACE1": ("enrolled", None),
        "ASTRO1": ("not_enrolled", "no_biometric_consent"),
    }

    report = importing.import_folder(station, staff, _ipad_folder(tmp_path), workers=2)
    assert (report.found, report.imported, report.duplicates) == (7, 7, 0)
    assert dict(report.skipped) == {".mov": 1, ".aae": 1}
    assert [name for name, _ in report.failed] == ["IMG_0007.JPG"]
    assert report.unreadable == 1 and report.as_json()["unreadable"] == 1

    shot = _by_file(station)
    grace_shown, astronaut_unknown = ("GRACE1", "show", "consent"), (None, "blur", "unknown")
    for name in ("IMG_0001.JPG", "IMG_0002.HEIC", "IMG_0003.JPG"):
        assert shot[name].status is PhotoStatus.READY_WITH_BLUR, name
        assert _faces(shot[name]) == [grace_shown, astronaut_unknown], name
    # turned a quarter: Grace is now below the astronaut, so order by top instead
    turned = sorted(shot["IMG_0004.PNG"].faces, key=lambda f: f.top)
    assert [(f.child_id, f.decision) for f in turned] == [(None, "blur"), ("GRACE1", "show")]
    assert _faces(shot["IMG_0005.JPG"]) == [(None, "blur", "too_small")] * 2
    assert shot["IMG_0006.JPG"].status is PhotoStatus.REVIEW
    assert _faces(shot["IMG_0006.JPG"]) == [(None, "blur", "ambiguous")] * 2
    assert shot["IMG_0007.JPG"].status is PhotoStatus.FAILED
    assert shot["IMG_0007.JPG"].note

    # The EXIF-rotated file is stored turned: its boxes must still be upright ones.
    upright, rotated_file = shot["IMG_0001.JPG"], shot["IMG_0003.JPG"]
    assert (rotated_file.width, rotated_file.height) == (upright.width, upright.height)
    for a, b in zip(
        sorted(upright.faces, key=lambda f: f.left),
        sorted(rotated_file.faces, key=lambda f: f.left),
        strict=True,
    ):
        assert abs(a.left - b.left) < 12 and abs(a.top - b.top) < 12

    # The astronaut's parents consent to biometrics: enrolling her re-vets from the originals.
    consent.set_biometric(station, admin, "ASTRO1", BiometricEvent.PARENT_CONSENT)
    again = templates.enrol_references(station, admin, tmp_path / "references", workers=2)
    assert again.photos_to_revet >= 4
    assert again.revetted == again.photos_to_revet  # matched again before enrolment returned
    assert photos.status_counts(station).get("pending", 0) == 0
    shot = _by_file(station)
    assert _faces(shot["IMG_0001.JPG"]) == [grace_shown, ("ASTRO1", "blur", "no_consent")]

    # Consent changes re-decide at once, from the stored matches (no engine run).
    consent.set_consent(station, admin, "ASTRO1", "twitter", True)
    shot = _by_file(station)
    assert shot["IMG_0001.JPG"].status is PhotoStatus.READY
    assert _faces(shot["IMG_0001.JPG"]) == [grace_shown, ("ASTRO1", "show", "consent")]

    consent.set_safeguarding(station, admin, "GRACE1", True, "court order")
    assert _by_file(station)["IMG_0001.JPG"].status is PhotoStatus.REJECTED
    consent.set_safeguarding(station, admin, "GRACE1", False, "order discharged")

    # Withdrawing biometric consent deletes the templates at once and blurs her everywhere.
    consent.set_biometric(station, admin, "GRACE1", BiometricEvent.PARENT_WITHDRAWAL)
    with station.read() as s:
        graces = (
            select(func.count(FaceTemplate.id))
            .join(Child, Child.id == FaceTemplate.child_id)
            .where(Child.mis_id == "GRACE1")
        )
        assert s.scalar(graces) == 0
    grace_faces = [f for f in _by_file(station)["IMG_0001.JPG"].faces if f.child_id == "GRACE1"]
    assert [(f.decision, f.reason) for f in grace_faces] == [("blur", "no_biometric_consent")]

    # Importing the same folder again adds nothing.
    repeat = importing.import_folder(station, staff, tmp_path / "DCIM", workers=2)
    assert (repeat.imported, repeat.duplicates) == (0, 7)


def test_no_photo_face_encoding_is_stored(
    sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    """Only reference templates hold encodings; photo faces leave boxes and distances only."""
    station = sqlite_station
    roster.import_roster(station, admin, _roster(tmp_path))
    templates.enrol_references(station, admin, _references(tmp_path), workers=1)
    dcim = tmp_path / "in"
    dcim.mkdir()
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg(dcim / "group.jpg", group.pixels)
    importing.import_folder(station, admin, dcim, workers=1)

    from ijs_vetting.faces.engine import analyse_photo  # the encodings the import computed

    analysis = analyse_photo(dcim / "group.jpg")
    encodings = [f.encoding for f in analysis.faces if f.encoding is not None]
    assert len(encodings) == 2
    station.engine.dispose()
    raw = (tmp_path / "station.db").read_bytes()
    wal = tmp_path / "station.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    for encoding in encodings:
        for dtype in (np.float64, np.float32):
            values = np.asarray(encoding, dtype=dtype)
            assert values[:4].tobytes() not in raw
    with sqlite3.connect(tmp_path / "station.db") as db:
        (count,) = db.execute("SELECT count(*) FROM face_templates").fetchone()
    assert count == 1  # Grace's reference; the astronaut has no biometric consent

    # Her template is encrypted at rest: neither the database nor the vault holds it (or her
    # reference photo) in the clear.
    from ijs_vetting.faces.engine import analyse_reference

    reference = tmp_path / "references" / "GRACE1.jpg"
    template = analyse_reference(reference).encoding
    assert template is not None
    vault = b"".join(
        p.read_bytes() for p in (tmp_path / "home" / "vault").rglob("*") if p.is_file()
    )
    for dtype in (np.float64, np.float32):
        assert np.asarray(template, dtype=dtype)[:4].tobytes() not in raw + vault
    assert reference.read_bytes()[-300:-236] not in vault  # (image data, not JPEG tables)


def test_cancelled_import_resumes(sqlite_station: Station, admin: Actor, tmp_path: Path) -> None:
    station = sqlite_station
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        scenes.write_jpeg(
            folder / f"IMG_{i:04d}.JPG", scenes.group_scene(face_width=120, seed=10 + i).pixels
        )

    def stop_after_two(done: int, total: int, message: str) -> None:
        if message.startswith("IMG_0001"):
            progress.cancel()

    progress = Progress(stop_after_two)
    first = importing.import_folder(station, admin, folder, progress=progress, workers=1)
    assert first.cancelled and first.imported == 2
    with station.read() as s:
        statuses = list(s.scalars(select(Photo.status)))
    assert statuses == [PhotoStatus.PENDING] * 2  # registered, not yet vetted

    second = importing.import_folder(station, admin, folder, workers=1)
    assert (second.imported, second.duplicates, second.vetted) == (2, 2, 4)
    assert {p.status for p in photos.list_photos(station)} == {PhotoStatus.READY_WITH_BLUR}


def test_photos_from_unregistered_cameras_go_to_review(
    sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    station = sqlite_station
    devices.add_device(station, admin, "Year 5 iPad", "Apple", "iPad (9th generation)")
    folder = tmp_path / "in"
    folder.mkdir()
    group = scenes.group_scene(face_width=120)
    scenes.write_jpeg_with_gps_and_thumbnail(folder / "school.jpg", group.pixels)
    scenes.write_jpeg(folder / "phone.jpg", group.pixels)  # no EXIF camera at all
    importing.import_folder(station, admin, folder, workers=1)
    shot = _by_file(station)
    assert shot["school.jpg"].device == "Year 5 iPad"
    assert shot["school.jpg"].status is PhotoStatus.READY_WITH_BLUR
    assert shot["school.jpg"].taken_at is not None
    assert shot["school.jpg"].taken_at.isoformat() == "2024-06-14T09:31:07+00:00"
    assert shot["phone.jpg"].status is PhotoStatus.REVIEW
    assert "camera information" in (shot["phone.jpg"].note or "")


def test_failed_photos_can_be_tried_again(
    sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    """A photo whose analysis crashed is vetted properly when tried again; a damaged file fails
    again with its reason; nothing else changes."""
    station = sqlite_station
    folder = tmp_path / "in"
    folder.mkdir()
    scenes.write_jpeg(folder / "crashed.jpg", scenes.group_scene(face_width=120).pixels)
    scenes.write_truncated_jpeg(folder / "cut.jpg", scenes.group_scene().pixels)
    importing.import_folder(station, admin, folder, workers=1)
    with station.transaction() as s:  # as a worker crash would have left it
        crashed = s.scalars(select(Photo).where(Photo.filename == "crashed.jpg")).one()
        crashed.status, crashed.status_note = PhotoStatus.FAILED, "the analysis process crashed"
    assert {p.file: p.status for p in photos.list_photos(station)} == {
        "crashed.jpg": PhotoStatus.FAILED,
        "cut.jpg": PhotoStatus.FAILED,
    }

    report = retry_failed(station, admin, workers=1)
    assert (report.retried, report.vetted) == (2, 2)
    assert [file for file, _reason in report.failed] == ["cut.jpg"]
    shot = _by_file(station)
    assert shot["crashed.jpg"].status is PhotoStatus.READY_WITH_BLUR
    assert len(shot["crashed.jpg"].faces) == 2
    assert shot["cut.jpg"].status is PhotoStatus.FAILED
    assert "damaged" in (shot["cut.jpg"].note or "")
    assert retry_failed(station, admin, workers=1).retried == 1  # only the damaged one is left
