"""Subject access export and erasure of one child, on real databases and a real vault."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, or_, select

from ijs_vetting.db.models import (
    AuditEntry,
    BiometricRecord,
    Child,
    ConsentRecord,
    FaceTemplate,
    Form,
    Photo,
    PhotoFace,
    QueueItem,
    QueueItemChild,
    SafeguardingRecord,
)
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    BiometricEvent,
    FaceDecision,
    FaceReason,
    InvalidInput,
    NotFound,
    PhotoStatus,
    QueueStatus,
)
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.deciding import UNDECIDED
from ijs_vetting.services.posting import queue
from ijs_vetting.services.privacy import audit, subject_access, subject_rights
from ijs_vetting.services.register import consent
from ijs_vetting.services.register.templates import REFERENCE
from tests.privacy_world import JPEG_SCAN, Face, add_item, add_photo, add_template, school

PDF_LETTER = b"%PDF-1.4 biometric consent letter for Amelia"


@pytest.fixture
def world(station: Station, admin: Actor, tmp_path: Path) -> Station:
    """A123 with a form (shared with B456), a biometric letter, a lifted safeguarding flag, a
    template, photos (matched, identified by hand, merely a candidate) and queue items."""
    school(station, admin, tmp_path)
    scan, letter = tmp_path / "permission.jpg", tmp_path / "letter.pdf"
    scan.write_bytes(JPEG_SCAN)
    letter.write_bytes(PDF_LETTER)
    consent.set_consent(station, admin, "A123", "website", True, form=scan)
    consent.set_consent(station, admin, "B456", "website", True, form=scan)  # one letter, siblings
    consent.set_biometric(station, admin, "A123", BiometricEvent.PARENT_CONSENT, form=letter)
    consent.set_safeguarding(station, admin, "A123", True, "interim order")
    consent.set_safeguarding(station, admin, "A123", False, "order discharged")
    add_template(station, "A123")
    add_template(station, "B456")
    return station


def _ready_photos(station: Station) -> dict[str, int]:
    return {
        "matched": add_photo(station, [Face("A123"), Face("B456")]),
        "by_hand": add_photo(station, [Face("A123", by_hand=True)]),
        "other": add_photo(station, [Face("B456")]),
    }


def test_export_holds_the_record_forms_photos_and_audit(
    world: Station, admin: Actor, tmp_path: Path
) -> None:
    photos = _ready_photos(world)
    posted = add_photo(world, [Face("A123")], status=PhotoStatus.READY)
    item = add_item(world, posted, status=QueueStatus.POSTED, posted_at=utcnow())
    out = tmp_path / "sar" / "A123.zip"
    out.parent.mkdir()

    result = subject_access.export_child(world, admin, "A123", out)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(out.parent.glob(".export-*"))
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        read = z.read
        doc = {n: json.loads(read(n)) for n in names if n.endswith(".json")}
        assert read("forms/permission.jpg") == JPEG_SCAN  # decrypted, original name
        assert read("forms/letter.pdf") == PDF_LETTER
        assert read("reference_photos/A123.jpg").startswith(b"\xff\xd8\xff reference")
        with world.read() as s:
            originals = {
                p.id: p.sha256
                for p in s.scalars(select(Photo).where(Photo.id.in_(list(photos.values()))))
            }
            rendering = s.get(QueueItem, item)
            assert rendering is not None and rendering.image_sha256 is not None
        for key in ("matched", "by_hand"):
            member = next(n for n in names if n.startswith(f"photos/originals/{photos[key]}-"))
            assert read(member) == world.vault.read_bytes(originals[photos[key]])
        assert read(f"photos/posts/{item}.jpg") == world.vault.read_bytes(rendering.image_sha256)
    assert not any(n.startswith(f"photos/originals/{photos['other']}-") for n in names)
    assert {
        "manifest.json",
        "child.json",
        "consent_history.json",
        "biometric_ledger.json",
        "safeguarding.json",
        "face_templates.json",
        "photos.json",
        "audit.json",
    } <= names
    assert doc["child.json"]["id"] == "A123" and doc["child.json"]["first_name"] == "Amelia"
    history = doc["consent_history.json"]
    assert [(h["channel"], h["granted"], h["source"]) for h in history] == [
        ("twitter", True, "roster"),
        ("website", True, "manual"),
    ]
    assert history[1]["form"] == "forms/permission.jpg"
    ledger = doc["biometric_ledger.json"]
    assert [e["event"] for e in ledger] == ["parent_consent", "parent_consent"]
    assert ledger[1]["form"] == "forms/letter.pdf"
    assert [r["never_publish"] for r in doc["safeguarding.json"]] == [True, False]
    assert doc["face_templates.json"]["templates"][0]["reference_photo"] == (
        "reference_photos/A123.jpg"
    )
    assert {p["id"] for p in doc["photos.json"]["photos"]} == {
        photos["matched"],
        photos["by_hand"],
        posted,
    }
    by_hand = next(p for p in doc["photos.json"]["photos"] if p["id"] == photos["by_hand"])
    assert by_hand["faces"][0]["identified_by_reviewer"] is True
    (post,) = doc["photos.json"]["posts"]
    assert (post["id"], post["shown"], post["image"]) == (item, True, f"photos/posts/{item}.jpg")
    actions = [e["action"] for e in doc["audit.json"]]
    assert actions == ["consent.set", "biometric.set", "safeguarding.set", "safeguarding.set"]
    assert doc["manifest.json"]["child_id"] == "A123"
    assert set(doc["manifest.json"]["files"]) == names - {"manifest.json"}
    # the chain's tip, to check the audit log against later (`audit verify --anchor`)
    assert doc["manifest.json"]["audit_anchor"]["entries"] == len(audit.list_audit(world)) - 1
    assert (result.forms, result.reference_photos, result.photo_originals) == (2, 1, 3)
    assert (result.posted_images, result.audit_entries, result.not_stored) == (1, 4, [])
    (entry,) = audit.list_audit(world, action="child.export")
    assert entry.target_id == "A123" and entry.details["photo_originals"] == 3


def test_export_refuses_an_existing_file_and_an_unknown_child(
    world: Station, admin: Actor, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.zip"
    taken.write_bytes(b"previous export")
    with pytest.raises(InvalidInput, match="already exists"):
        subject_access.export_child(world, admin, "A123", taken)
    assert taken.read_bytes() == b"previous export"
    with pytest.raises(NotFound):
        subject_access.export_child(world, admin, "Z999", tmp_path / "z.zip")
    assert not (tmp_path / "z.zip").exists() and not list(tmp_path.glob(".export-*"))
    assert audit.list_audit(world, action="child.export") == []


def test_export_lists_originals_retention_removed(
    world: Station, admin: Actor, tmp_path: Path
) -> None:
    photo = add_photo(world, [Face("A123")])
    with world.read() as s:
        found = s.get(Photo, photo)
        assert found is not None
        sha = found.sha256
    world.vault.path_for(sha).unlink()
    result = subject_access.export_child(world, admin, "A123", tmp_path / "a.zip")
    assert result.photo_originals == 0
    assert result.not_stored == [f"photos/originals/{photo}-{found.filename}"]


def test_erase_pulls_the_queue_and_removes_the_record(world: Station, admin: Actor) -> None:
    photos = _ready_photos(world)
    queued_photo = add_photo(world, [Face("A123")])
    queued = add_item(world, queued_photo)
    posted_photo = add_photo(world, [Face("A123"), Face("B456")])
    posted = add_item(world, posted_photo, status=QueueStatus.POSTED, posted_at=utcnow())
    pk = _pk(world, "A123")
    with world.read() as s:
        references = list(
            s.scalars(select(FaceTemplate.reference_sha256).where(FaceTemplate.child_id == pk))
        )
        forms = {f.filename: (f.sha256, f.child_id) for f in s.scalars(select(Form))}
    audit_before = len(audit.list_audit(world, target_id="A123"))

    result = subject_rights.erase_child(world, admin, "A123")

    e = result.erasure
    assert e.withdrawn == [queued] and [t.id for t in result.takedowns] == [posted]
    assert result.takedowns[0].status is QueueStatus.POSTED
    assert queue.get_item(world, queued).status is QueueStatus.WITHDRAWN
    assert [t.id for t in queue.list_takedowns(world)] == [posted]
    assert (e.templates, e.reference_photos, e.biometric_records, e.safeguarding_records) == (
        1,
        1,
        2,
        2,
    )
    assert (e.consent_records, e.forms, e.forms_kept) == (2, 1, 1)
    with world.read() as s:
        assert s.scalar(select(Child).where(Child.mis_id == "A123")) is None
        for model in (ConsentRecord, BiometricRecord, SafeguardingRecord, FaceTemplate):
            assert (
                s.scalar(select(func.count()).select_from(model).where(model.child_id == pk)) == 0
            )
        assert not s.scalar(
            select(func.count())
            .select_from(PhotoFace)
            .where(
                or_(
                    PhotoFace.child_id == pk,
                    PhotoFace.manual_child_id == pk,
                    PhotoFace.candidate_child_id == pk,
                )
            )
        )
        assert s.scalar(select(func.count()).where(QueueItemChild.child_id == pk)) == 0
        assert s.get(QueueItem, posted) is not None and s.get(QueueItem, queued) is not None
        # the letter for both siblings is still B456's evidence; A123's own letter is gone
        kept = s.scalar(select(Form).where(Form.filename == "permission.jpg"))
        assert kept is not None and kept.child_id == _pk(world, "B456")
        assert s.scalar(select(Form).where(Form.filename == "letter.pdf")) is None
        for photo_id in (photos["matched"], photos["by_hand"], queued_photo):
            photo = s.get(Photo, photo_id)
            assert photo is not None and photo.status in UNDECIDED
            first = photo.faces[0]
            assert (first.decision, first.reason) == (FaceDecision.BLUR, FaceReason.UNKNOWN)
        # B456 is still recognised and shown where they were
        matched = s.get(Photo, photos["matched"])
        assert matched is not None and matched.faces[1].decision is FaceDecision.SHOW
    assert not any(world.vault.contains(sha) for sha in references)
    assert world.vault.contains(forms["permission.jpg"][0])
    assert not world.vault.contains(forms["letter.pdf"][0])
    assert result.files_deleted == 2 and result.file_errors == []
    # the audit trail stays whole: earlier entries about A123 and the erasure itself
    entries = audit.list_audit(world, target_id="A123")
    assert len(entries) == audit_before + 1 and entries[0].action == "child.erase"
    assert "Amelia" not in json.dumps(entries[0].details) + entries[0].summary
    assert audit.verify_chain(world, admin).ok
    with pytest.raises(NotFound):
        subject_rights.erase_child(world, admin, "A123")


def test_erasure_keeps_a_safeguarding_rejection_standing(
    world: Station, admin: Actor, tmp_path: Path
) -> None:
    consent.set_safeguarding(world, admin, "A123", True, "court order")
    consent.set_safeguarding(world, admin, "C789", True, "looked after")
    photo = add_photo(world, [Face("A123"), Face("B456")])
    others = add_photo(world, [Face("B456"), Face("C789")])
    with world.read() as s:
        found = s.get(Photo, photo)
        assert found is not None and found.status is PhotoStatus.REJECTED
    subject_rights.erase_child(world, admin, "A123")
    subject_rights.erase_child(world, admin, "B456")  # in a photo rejected for C789's flag
    with world.read() as s:
        found = s.get(Photo, photo)
        assert found is not None and found.status is PhotoStatus.REJECTED
        assert found.rejected_by == "office-admin"
        assert found.rejected_reason and "A123" in found.rejected_reason
        still = s.get(Photo, others)
        assert still is not None and still.status is PhotoStatus.REJECTED
        assert still.rejected_by is None  # C789's flag decides it, as before


def test_erasing_a_child_without_any_data(world: Station, admin: Actor) -> None:
    result = subject_rights.erase_child(world, admin, "C789")
    assert result.takedowns == [] and result.erasure.templates == 0
    assert result.as_json()["child_id"] == "C789"
    with world.read() as s:
        assert s.scalar(select(Child).where(Child.mis_id == "C789")) is None
        assert s.scalar(select(func.count()).select_from(AuditEntry)) > 0


def _pk(station: Station, mis_id: str) -> int:
    with station.read() as s:
        pk = s.scalar(select(Child.id).where(Child.mis_id == mis_id))
    assert pk is not None
    return pk


def test_sealed_reference_photos_are_exported_decrypted(
    world: Station, admin: Actor, tmp_path: Path
) -> None:
    with world.read() as s:
        sha = s.scalar(select(FaceTemplate.reference_sha256).limit(1))
    assert sha is not None and world.vault.stored_bytes(sha).startswith(b"IJSE1")
    subject_access.export_child(world, admin, "A123", tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.read("reference_photos/A123.jpg") == world.vault.read_sealed(sha, REFERENCE)
