"""Clearing into the posting queue end to end, with real faces, the real engine and a real database.

Grace Hopper (GRACE1, Year 5, Twitter consent) and the astronaut (ASTRO1, Year 6, no Twitter
consent; both enrolled) stand in for two children. Clearing renders each photo, runs the engine
in its worker processes on the rendering and queues it only if no masked face can be found or
matched; these tests then look at the rendering themselves with the engine, and at its bytes.
The test pictures are written once per module; each test vets them on its own fresh database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, Child, QueueItem
from ijs_vetting.db.state import current_consents
from ijs_vetting.domain import PermissionDenied, PhotoStatus, QueueStatus
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.export import metadata_problems
from ijs_vetting.imaging.redact import Mask, MaskStyle, head_region, in_mask
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing, photos, review
from ijs_vetting.services.intake.vetting import load_templates
from ijs_vetting.services.posting import accounts, clearing, queue, queue_export
from ijs_vetting.services.register import consent, roster
from ijs_vetting.services.register import templates as enrolment
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 6,6C,N,Y\n"
)


@dataclass(frozen=True)
class Files:
    roster: Path
    references: Path
    dcim: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The roster, the two reference portraits and an iPad folder, written once."""
    folder = tmp_path_factory.mktemp("queue-files")
    roster_csv = folder / "roster.csv"
    roster_csv.write_text(ROSTER, encoding="utf-8")
    refs = folder / "references"
    refs.mkdir()
    scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(refs / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    dcim = folder / "DCIM"
    dcim.mkdir()
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg_with_gps_and_thumbnail(dcim / "group.jpg", group.pixels)
    scenes.write_jpeg(dcim / "grace.jpg", scenes.portrait(scenes.GRACE, 170, margin=1.0).pixels)
    scenes.write_jpeg(dcim / "astro.jpg", scenes.portrait(scenes.ASTRONAUT, 170).pixels)
    twins = np.hstack(
        [
            scenes.portrait(scenes.GRACE, 170).pixels,
            scenes.portrait(scenes.GRACE, 170).pixels[:, ::-1],
        ]
    )
    scenes.write_jpeg(dcim / "twins.jpg", np.ascontiguousarray(twins))
    scenes.write_jpeg(dcim / "group2.jpg", scenes.group_scene(face_width=170, seed=5).pixels)
    return Files(roster_csv, refs, dcim)


def _school(station: Station, admin: Actor, files: Files) -> dict[str, int]:
    """Roster, enrolment and import of the iPad folder; photo ids by file name."""
    roster.import_roster(station, admin, files.roster)
    enrolment.enrol_references(station, admin, files.references, workers=1)
    importing.import_folder(station, admin, files.dcim, workers=2)
    return {p.file: p.id for p in photos.list_photos(station)}


def _status(station: Station, photo_id: int) -> PhotoStatus:
    return photos.get_photo(station, photo_id).status


def _child_ids(station: Station) -> dict[str, int]:
    with station.read() as s:
        return {c.mis_id: c.id for c in s.scalars(select(Child))}


def test_clearing_masks_verifies_routes_and_strips(
    station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files
) -> None:
    ids = _school(station, admin, files)
    group, grace, astro, twins = (
        ids["group.jpg"],
        ids["grace.jpg"],
        ids["astro.jpg"],
        ids["twins.jpg"],
    )
    assert _status(station, group) is PhotoStatus.READY_WITH_BLUR
    original = station.vault.read_bytes(photos.get_photo(station, group).sha256)

    with pytest.raises(PermissionDenied):
        clearing.clear_photos(station, staff, [group])

    # What the Account box says before Clear: each photo's own route, as clearing takes it.
    routes = accounts.routes(station, [group, grace, astro])
    assert routes == {group: "@Year5IJS", grace: "@Year5IJS", astro: None}

    result = clearing.clear_photos(
        station, slt, [group, twins, grace, astro], caption="Sports day!", workers=2
    )
    assert [(c.photo_id, c.account, c.blurred_faces) for c in result.cleared] == [
        (group, "@Year5IJS", 1),
        (grace, "@Year5IJS", 0),
    ]
    refused = {r.photo_id: r.reason for r in result.refused}
    assert list(refused) == [twins, astro]
    assert "needs review" in refused[twins] and "told apart" in refused[twins]
    assert "every face in it is masked, so choose the account" in refused[astro]
    assert [r.needs_account for r in result.refused] == [False, True]  # each front says where
    assert _status(station, group) is PhotoStatus.QUEUED
    assert _status(station, twins) is PhotoStatus.REVIEW
    assert _status(station, astro) is PhotoStatus.READY_WITH_BLUR

    # The original in the vault is untouched; the rendering is a new vault file.
    cleared = result.cleared[0]
    assert station.vault.read_bytes(photos.get_photo(station, group).sha256) == original
    rendered = station.vault.read_bytes(cleared.image_sha256)
    assert rendered != original

    # Nothing but pixels: no EXIF (GPS, camera, time), no thumbnail, no XMP/ICC, ends at EOI.
    assert original.count(b"Exif") and original.count(b"\xff\xd8") == 2  # had a thumbnail
    assert metadata_problems(rendered) == []
    assert b"Exif" not in rendered and b"\xff\xe1" not in rendered
    assert b"http://ns.adobe.com/xap" not in rendered and b"ICC_PROFILE" not in rendered
    assert b"Apple" not in rendered and b"iPad" not in rendered
    assert rendered.count(b"\xff\xd8") == 1 and rendered.endswith(b"\xff\xd9")
    with Image.open(__import__("io").BytesIO(rendered)) as im:
        assert not im.getexif() and "icc_profile" not in im.info and "exif" not in im.info
        assert max(im.size) <= 4096 and len(rendered) < 5_000_000

    # Looked at with the engine: the astronaut's head is gone, Grace still matches herself.
    from ijs_vetting.faces.engine import analyse_photo

    children = _child_ids(station)
    faces = analyse_photo(rendered).faces
    with station.read() as s:
        templates = load_templates(station, s)
    assert len(faces) == 1
    assert faces[0].encoding is not None
    match = templates.match(faces[0].encoding)
    assert match is not None and match.key == children["GRACE1"] and match.distance < 0.3
    astronaut_box = next(
        Box(f.left, f.top, f.right, f.bottom)
        for f in photos.get_photo(station, group).faces
        if f.decision == "blur"
    )
    assert not in_mask(head_region(astronaut_box), *faces[0].box.centre)

    # The clearance records the consent it relied on, per child shown.
    with station.read() as s:
        item = s.get(QueueItem, cleared.item_id)
        assert item is not None
        links = {link.child_id: link for link in item.children}
        record = current_consents(s, [children["GRACE1"]])[(children["GRACE1"], "twitter")]
        assert links[children["GRACE1"]].shown and links[children["GRACE1"]].consent_record_id == (
            record.id
        )
        assert not links[children["ASTRO1"]].shown  # masked, recorded for safeguarding
        entry = s.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "queue.clear", AuditEntry.target_id == str(group)
            )
        )
        assert entry is not None and entry.details["consent_records"] == {"GRACE1": record.id}
        assert entry.details["masked_children"] == ["ASTRO1"]
    assert [(i.photo_id, i.caption, i.shown) for i in queue.list_queue(station)] == [
        (group, "Sports day!", ("GRACE1",)),
        (grace, "Sports day!", ("GRACE1",)),
    ]


def test_a_weak_mask_is_caught_and_the_photo_goes_back_to_review(
    sqlite_station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files
) -> None:
    """About the engine rather than the database: SQLite only."""
    station = sqlite_station
    ids = _school(station, admin, files)
    photo = ids["group2.jpg"]
    light_blur = Mask(style=MaskStyle.BLUR, blur=0.02)
    result = clearing.clear_photos(station, slt, [photo], mask=light_blur, workers=1)
    assert result.cleared == []
    ((refused_id, reason, _file),) = result.refused
    assert refused_id == photo and "inside a masked area" in reason
    info = photos.get_photo(station, photo)
    assert info.status is PhotoStatus.REVIEW and "inside a masked area" in (info.note or "")
    assert queue.list_queue(station) == []

    # The hold stays through other review actions until SLT accept the photo again.
    assert review.set_head_count(station, staff, photo, 2) is PhotoStatus.REVIEW
    with pytest.raises(PermissionDenied):
        review.accept_photo(station, staff, photo)
    assert review.accept_photo(station, slt, photo) is PhotoStatus.READY_WITH_BLUR
    again = clearing.clear_photos(station, slt, [photo], workers=1)
    assert [c.photo_id for c in again.cleared] == [photo] and again.refused == []


def test_consent_changes_reach_the_queue(
    station: Station, admin: Actor, slt: Actor, staff: Actor, files: Files, tmp_path: Path
) -> None:
    ids = _school(station, admin, files)
    group, grace, astro = ids["group.jpg"], ids["grace.jpg"], ids["astro.jpg"]
    first = clearing.clear_photos(
        station, slt, [group, grace, astro], account="year5ijs", workers=2
    )
    assert first.refused == []
    item_group, item_grace, item_astro = (c.item_id for c in first.cleared)
    text = queue.add_text(station, staff, "@year3ijs", "Well done, Year 3!")

    outdir = tmp_path / "out"
    report = queue_export.export_queue(station, slt, outdir)
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == report.manifest()
    assert [
        (e["id"], e["account"], e["photo_id"], e["blurred_faces"]) for e in manifest["items"]
    ] == [
        (item_group, "@Year5IJS", group, 1),
        (item_grace, "@Year5IJS", grace, 0),
        (item_astro, "@Year5IJS", astro, 1),
        (text.id, "@year3ijs", None, 0),
    ]
    assert set(manifest["items"][0]) == {
        "id",
        "account",
        "image",
        "caption",
        "photo_id",
        "blurred_faces",
        "caption_file",
    }
    for entry, cleared in zip(manifest["items"], first.cleared, strict=False):
        assert entry["image"] == f"@Year5IJS/{cleared.item_id}.jpg"
        assert (outdir / entry["image"]).read_bytes() == station.vault.read_bytes(
            cleared.image_sha256
        )
    assert manifest["items"][3]["image"] is None
    assert {i.status for i in queue.list_queue(station)} == {QueueStatus.EXPORTED}
    usb = tmp_path / "usb"  # the same items exported a second time, to another folder
    queue_export.export_queue(station, slt, usb)

    queue.mark_posted(station, slt, item_grace, "https://twitter.com/Year5IJS/status/1")
    assert _status(station, grace) is PhotoStatus.POSTED
    second = clearing.clear_photos(station, slt, [ids["group2.jpg"]], workers=1)
    (queued,) = second.cleared  # waiting in the queue, not exported

    # Grace's parents withdraw Twitter consent: what is not yet public is pulled...
    consent.set_consent(station, admin, "GRACE1", "twitter", False)
    statuses = {i.id: i.status for i in queue.list_queue(station)}
    assert statuses == {
        item_group: QueueStatus.WITHDRAWN,  # exported, not posted
        item_grace: QueueStatus.POSTED,
        item_astro: QueueStatus.EXPORTED,  # Grace is not in it
        text.id: QueueStatus.EXPORTED,  # text only: no consent question
        queued.item_id: QueueStatus.WITHDRAWN,
    }
    pulled = queue.get_item(station, queued.item_id)
    assert "GRACE1 no longer has consent" in (pulled.withdrawn_reason or "")
    back = photos.get_photo(station, ids["group2.jpg"])
    assert back.status is PhotoStatus.REVIEW and "withdrawn from the queue" in (back.note or "")
    assert not (outdir / f"@Year5IJS/{item_group}.jpg").exists()  # taken back out of OUTDIR
    assert not (usb / f"@Year5IJS/{item_group}.jpg").exists()  # ...and out of every folder
    left = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))["items"]
    assert [e["id"] for e in left] == [item_astro, text.id]  # posted: left the folder too
    # ...and what is public is listed for taking down.
    (takedown,) = queue.list_takedowns(station)
    assert takedown.id == item_grace and "GRACE1" in (takedown.takedown_reason or "")
    assert takedown.post_url == "https://twitter.com/Year5IJS/status/1"
    queue.mark_taken_down(station, slt, item_grace)
    assert queue.list_takedowns(station) == []
    assert queue.get_item(station, item_grace).status is QueueStatus.TAKEN_DOWN
    assert _status(station, grace) is PhotoStatus.REVIEW

    # A safeguarding flag pulls every photo the child is in, even masked.
    consent.set_safeguarding(station, admin, "ASTRO1", True, "court order")
    assert queue.get_item(station, item_astro).status is QueueStatus.WITHDRAWN
    assert _status(station, astro) is PhotoStatus.REJECTED  # safeguarding rejects outright
    final = queue_export.export_queue(station, slt, outdir)
    assert [e.id for e in final.items] == [text.id]
    assert sorted(outdir.rglob("*.jpg")) == []
