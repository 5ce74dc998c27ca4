"""Subject access: everything the station holds about one child, in one zip for the school.

What a parent may ask for under UK GDPR Art. 15: the record, consent history, the biometric
ledger, scanned forms (decrypted), the photos and posts where the child is identified, and the
audit entries about them. Face templates are described, never exported as numbers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ijs_vetting.db.audit_log import chain_tip, shown_details
from ijs_vetting.db.models import (
    AuditEntry,
    BiometricRecord,
    ConsentRecord,
    FaceTemplate,
    Photo,
    PhotoFace,
    QueueItem,
    QueueItemChild,
    SafeguardingRecord,
)
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, Role
from ijs_vetting.json_report import JsonFields
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy.subject_rights import forms_of
from ijs_vetting.services.register import children
from ijs_vetting.services.register.forms import FORM
from ijs_vetting.services.register.templates import REFERENCE

log = logging.getLogger(__name__)

EXPORT_ACTION = "child.export"


@dataclass
class ExportResult(JsonFields):
    child_id: str
    file: Path
    forms: int
    reference_photos: int
    photo_originals: int
    posted_images: int
    audit_entries: int
    not_stored: list[str]  # files the records name that are gone (retention, say)


def export_child(station: Station, actor: Actor, child_id: str, out: Path) -> ExportResult:
    """Write a subject access export of one child to the zip `out` (admins only; audited).

    The zip is built under a temporary name beside `out` and renamed into place inside the
    audited transaction, so there is never an export without its audit entry. It is readable by
    its owner only: it holds forms and photos of a child.
    """
    station.require(actor, EXPORT_ACTION, Role.ADMIN)
    out = out.expanduser().resolve()
    if out.exists():
        raise InvalidInput(f"'{out}' already exists; choose a new file name for the export.")
    if not out.parent.is_dir():
        raise InvalidInput(f"The folder '{out.parent}' does not exist.")
    summary = children.get_child(station, child_id)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".export-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            result = _write_export(station, actor, summary, archive, out)
        with station.write(actor, EXPORT_ACTION, Role.ADMIN) as w:
            w.audit(
                f"subject access export of {summary.mis_id}",
                target_type="child",
                target_id=summary.mis_id,
                details={k: v for k, v in result.as_json().items() if k != "child_id"},
            )
            os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Names:
    """Unique member names inside the zip (two forms may share a file name)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def __call__(self, folder: str, name: str) -> str:
        clean = PurePath(name.replace("\\", "/")).name or "file"
        stem, dot, suffix = clean.rpartition(".")
        candidate, n = f"{folder}/{clean}", 2
        while candidate in self._used:
            candidate = f"{folder}/{stem or clean} ({n}){dot}{suffix if stem else ''}"
            n += 1
        self._used.add(candidate)
        return candidate


class _Archive:
    """The zip being written: JSON members, and vault files copied in (or named as missing)."""

    def __init__(self, station: Station, archive: zipfile.ZipFile) -> None:
        self.station, self.zip = station, archive
        self.names = _Names()
        self.missing: list[str] = []

    def put_json(self, name: str, payload: Any) -> None:
        text = json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
        self.zip.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)

    def put_blob(self, folder: str, name: str, sha: str, purpose: bytes | None) -> str | None:
        vault = self.station.vault
        if not vault.contains(sha):
            self.missing.append(f"{folder}/{name}")
            return None
        data = vault.read_bytes(sha) if purpose is None else vault.read_sealed(sha, purpose)
        member = self.names(folder, name)
        self.zip.writestr(member, data, compress_type=zipfile.ZIP_STORED)
        return member


def _write_export(
    station: Station,
    actor: Actor,
    summary: children.ChildSummary,
    archive: zipfile.ZipFile,
    out: Path,
) -> ExportResult:
    """Every section of the child's record, then the manifest that lists the archive's files."""
    put = _Archive(station, archive)
    with station.read() as session:
        child = find_child(session, summary.mis_id)
        form_files = {
            form.id: put.put_blob("forms", form.filename, form.sha256, FORM)
            for form in forms_of(session, child.id)
        }
        put.put_json("consent_history.json", _consent_history(session, child.id, form_files))
        put.put_json("biometric_ledger.json", _biometric_ledger(session, child.id, form_files))
        put.put_json("safeguarding.json", _safeguarding(session, child.id))
        template_rows = _templates(session, child.id, put)
        put.put_json(
            "face_templates.json",
            {
                "note": "A template is 128 numbers measured from a reference photo; it is stored "
                "encrypted, only while biometric consent allows it, and is not itself exported.",
                "templates": template_rows,
            },
        )
        photos, originals = _export_photos(session, child.id, put.put_blob)
        posts, posted_images = _export_posts(session, child.id, put.put_blob)
        put.put_json("photos.json", {"photos": photos, "posts": posts})
        entries = _audit(session, child.mis_id)
        put.put_json("audit.json", entries)
        record = summary.as_json() | {
            "created_at": _iso(child.created_at),
            "updated_at": _iso(child.updated_at),
        }
        put.put_json("child.json", record)
        result = ExportResult(
            child_id=child.mis_id,
            file=out,
            forms=sum(1 for f in form_files.values() if f),
            reference_photos=sum(1 for t in template_rows if t["reference_photo"]),
            photo_originals=originals,
            posted_images=posted_images,
            audit_entries=len(entries),
            not_stored=put.missing,
        )
        put.put_json(
            "manifest.json",
            {
                "child_id": child.mis_id,
                "exported_at": _iso(utcnow()),
                "exported_by": actor.username,
                "files": sorted(archive.namelist()),
                "not_stored": put.missing,
                # The audit chain's tip: `audit verify --anchor` checks the chain against it.
                "audit_anchor": chain_tip(session).as_json(),
            },
        )
    return result


def _consent_history(
    session: Session, child_pk: int, form_files: dict[int, str | None]
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ConsentRecord).where(ConsentRecord.child_id == child_pk).order_by(ConsentRecord.id)
    )
    return [
        {
            "channel": r.channel.code,
            "granted": r.granted,
            "given_on": _iso(r.given_on),
            "recorded_at": _iso(r.recorded_at),
            "recorded_by": r.recorded_by,
            "source": r.source,
            "form": form_files.get(r.form_id) if r.form_id else None,
        }
        for r in rows
    ]


def _biometric_ledger(
    session: Session, child_pk: int, form_files: dict[int, str | None]
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(BiometricRecord)
        .where(BiometricRecord.child_id == child_pk)
        .order_by(BiometricRecord.id)
    )
    return [
        {
            "event": r.event.value,
            "given_on": _iso(r.given_on),
            "recorded_at": _iso(r.recorded_at),
            "recorded_by": r.recorded_by,
            "source": r.source,
            "form": form_files.get(r.form_id) if r.form_id else None,
        }
        for r in rows
    ]


def _safeguarding(session: Session, child_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(SafeguardingRecord)
        .where(SafeguardingRecord.child_id == child_pk)
        .order_by(SafeguardingRecord.id)
    )
    return [
        {
            "never_publish": r.active,
            "reason": r.reason,
            "recorded_at": _iso(r.recorded_at),
            "recorded_by": r.recorded_by,
        }
        for r in rows
    ]


def _templates(session: Session, child_pk: int, put: _Archive) -> list[dict[str, Any]]:
    """When each template was made and by whom, with its reference photo (not the template)."""
    rows = session.scalars(
        select(FaceTemplate).where(FaceTemplate.child_id == child_pk).order_by(FaceTemplate.id)
    )
    return [
        {
            "created_at": _iso(t.created_at),
            "created_by": t.created_by,
            "reference_photo": put.put_blob(
                "reference_photos", t.reference_name, t.reference_sha256, REFERENCE
            ),
        }
        for t in rows
    ]


def _audit(session: Session, mis_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.target_id == mis_id).order_by(AuditEntry.id)
    )
    return [
        {
            "id": e.id,
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "summary": e.summary,
            "details": shown_details(e),
        }
        for e in rows
    ]


def _export_photos(session: Session, child_pk: int, put_blob: Any) -> tuple[list[Any], int]:
    """Photos in which the child is identified (by a match or by a reviewer), with originals."""
    rows = list(
        session.scalars(
            select(Photo)
            .where(
                Photo.id.in_(
                    select(PhotoFace.photo_id).where(
                        or_(PhotoFace.child_id == child_pk, PhotoFace.manual_child_id == child_pk)
                    )
                )
            )
            .order_by(Photo.id)
        )
    )
    out, stored = [], 0
    for photo in rows:
        member = put_blob("photos/originals", f"{photo.id}-{photo.filename}", photo.sha256, None)
        stored += member is not None
        out.append(
            {
                "id": photo.id,
                "file": photo.filename,
                "taken_at": _iso(photo.taken_at),
                "imported_at": _iso(photo.imported_at),
                "status": photo.status.value,
                "original": member,
                "faces": [
                    {
                        "box": [f.left, f.top, f.right, f.bottom],
                        "decision": f.decision.value,
                        "identified_by_reviewer": f.manual_child_id == child_pk,
                    }
                    for f in photo.faces
                    if child_pk in (f.child_id, f.manual_child_id)
                ],
            }
        )
    return out, stored


def _export_posts(session: Session, child_pk: int, put_blob: Any) -> tuple[list[Any], int]:
    """Queue items with the child in them (shown or masked), with the rendering if stored."""
    links = list(
        session.execute(
            select(QueueItem, QueueItemChild.shown)
            .join(QueueItemChild)
            .where(QueueItemChild.child_id == child_pk)
            .order_by(QueueItem.id)
        )
    )
    out, stored = [], 0
    for item, shown in links:
        member = (
            put_blob("photos/posts", f"{item.id}.jpg", item.image_sha256, None)
            if item.image_sha256
            else None
        )
        stored += member is not None
        out.append(
            {
                "id": item.id,
                "account": item.account.handle,
                "status": item.status.value,
                "shown": shown,
                "caption": item.caption,
                "photo_id": item.photo_id,
                "posted_at": _iso(item.posted_at),
                "post_url": item.post_url,
                "image": member,
            }
        )
    return out, stored
