"""A small school as stored rows and vault files, for retention, export, erasure and role tests.

Photos, faces, templates and queue items are written as vetting, enrolment and clearing would
leave them (those paths, with the real face engine, have their own tests); the bytes are stand-ins
stored in the real vault, so every file a service deletes or exports can be checked. The
register itself (children, consents, the biometric ledger, forms) is made through the services.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from ijs_vetting.db.models import (
    Child,
    FaceTemplate,
    Photo,
    PhotoFace,
    QueueItem,
    QueueItemChild,
)
from ijs_vetting.db.state import current_consents
from ijs_vetting.domain import FaceDecision, FaceReason, PhotoStatus, QueueStatus
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.intake.vetting import seal_encoding
from ijs_vetting.services.posting.accounts import find_account
from ijs_vetting.services.register import roster
from ijs_vetting.services.register.templates import REFERENCE

ROSTER = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\n"
    "A123,Amelia,Smith,5,Y,Y\n"
    "B456,Noah,Jones,5,Y,Y\n"
    "C789,Zoe,Brown,6,N,N\n"
)
JPEG_SCAN = b"\xff\xd8\xff\xe0" + b"signed consent letter " * 20
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Face:
    """A face in a stored photo: `child` matched by the engine, or identified `by_hand`."""

    child: str | None
    by_hand: bool = False


def school(station: Station, admin: Actor, folder: Path) -> Station:
    path = folder / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, path)
    return station


def child_pk(station: Station, mis_id: str) -> int:
    with station.read() as s:
        pk = s.scalar(select(Child.id).where(Child.mis_id == mis_id))
    assert pk is not None
    return pk


def add_template(station: Station, mis_id: str) -> str:
    """A sealed template with its sealed reference photo; returns the reference's sha256."""
    n = next(_numbers)
    sha = station.vault.put_sealed(b"\xff\xd8\xff reference photo %d" % n, REFERENCE)
    with station.sessions.begin() as s:
        s.add(
            FaceTemplate(
                child_id=s.scalar(select(Child.id).where(Child.mis_id == mis_id)),
                encoding=seal_encoding(station, np.full(128, n / 1000.0)),
                reference_sha256=sha,
                reference_name=f"{mis_id}.jpg",
                face_width=200.0,
                sharpness=150.0,
                created_by="office-admin",
            )
        )
    return sha


def add_photo(
    station: Station,
    faces: list[Face],
    *,
    status: PhotoStatus | None = None,
    vetted_at: datetime | None = None,
    rejected_at: datetime | None = None,
    rejected_by: str | None = None,
) -> int:
    """An imported, vetted photo with its original in the vault; the policy decides its status
    unless `status` says otherwise (a rejection, a queued or posted photo)."""
    n = next(_numbers)
    sha = station.vault.put_bytes(b"\xff\xd8\xff original photo %d" % n)
    with station.sessions.begin() as s:
        ids = {mis_id: pk for mis_id, pk in s.execute(select(Child.mis_id, Child.id))}
        photo = Photo(
            sha256=sha,
            filename=f"IMG_{n:04d}.JPG",
            source_path=f"/dcim/IMG_{n:04d}.JPG",
            media_type="image/jpeg",
            width=1000,
            height=800,
            imported_by="teacher",
            status=PhotoStatus.PENDING,
        )
        for i, face in enumerate(faces):
            pk = ids[face.child] if face.child else None
            photo.faces.append(
                PhotoFace(
                    left=100 + 200 * i,
                    top=100,
                    right=220 + 200 * i,
                    bottom=250,
                    score=0.9,
                    too_small=False,
                    candidate_child_id=None if face.by_hand else pk,
                    distance=None if face.by_hand or pk is None else 0.2,
                    manual_child_id=pk if face.by_hand else None,
                    decision=FaceDecision.BLUR,
                    reason=FaceReason.UNKNOWN,
                )
            )
        s.add(photo)
        s.flush()
        decide(s, photo)
        if status is not None:
            photo.status = status
        if rejected_by is not None:
            photo.rejected_by, photo.rejected_reason = rejected_by, "blurry"
        photo.rejected_at = rejected_at
        photo.vetted_at = vetted_at or photo.vetted_at
        return photo.id


def add_item(
    station: Station,
    photo_id: int,
    *,
    status: QueueStatus = QueueStatus.QUEUED,
    posted_at: datetime | None = None,
    caption: str = "Sports day",
    rendering: bool = True,
    picture: bytes | None = None,
) -> int:
    """A queue item for the photo as clearing leaves it (faces shown and masked linked), with a
    stand-in rendering in the vault (or, `rendering=False`, only its name; or `picture`, a real
    JPEG, so that an export's checks pass); `posted_at` for posted ones."""
    n = next(_numbers)
    stand_in = b"\xff\xd8\xff rendering %d" % n
    if picture is not None:
        image = station.vault.put_bytes(picture)
    elif rendering:
        image = station.vault.put_bytes(stand_in)
    else:
        image = hashlib.sha256(stand_in).hexdigest()
    with station.sessions.begin() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        consents = current_consents(s)
        item = QueueItem(
            account=find_account(s, "@Year5IJS"),
            photo_id=photo.id,
            image_sha256=image,
            caption=caption,
            status=status,
            cleared_by="head-teacher",
            posted_at=posted_at,
            posted_by="head-teacher" if posted_at else None,
        )
        for face in photo.faces:
            if face.child_id is None:
                continue
            shown = face.decision is FaceDecision.SHOW
            record = consents.get((face.child_id, "twitter"))
            item.children.append(
                QueueItemChild(
                    child_id=face.child_id,
                    shown=shown,
                    by_reviewer=face.manual_child_id is not None,
                    consent_record_id=record.id if shown and record else None,
                )
            )
        photo.status = PhotoStatus.POSTED if status is QueueStatus.POSTED else PhotoStatus.QUEUED
        s.add(item)
        s.flush()
        return item.id


def mark_left(station: Station, mis_id: str, on: date) -> None:
    """A leaver as the roster import leaves them (templates are made separately if wanted)."""
    with station.sessions.begin() as s:
        child = s.scalar(select(Child).where(Child.mis_id == mis_id))
        assert child is not None
        child.on_roll, child.date_left = False, on
