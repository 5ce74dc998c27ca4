"""A child's rights over their data: a subject access export, and erasure (UK GDPR arts. 15, 17).

Export gathers everything the station holds about one child into one zip for the school's DPO:
the record and every consent, biometric and safeguarding entry, the scanned forms (decrypted),
reference photos, every stored original the child is identified in, every rendering queued or
posted with them in it, and the audit entries about them.

Erasure first pulls the child from the posting queue the way a withdrawal does (so nothing with
them in it goes out, and posted items become takedowns), then deletes their biometric data and
personal record and leaves the photos they appear in unidentified (their faces are then masked
like any stranger's). The audit trail stays: its rows cannot be edited without breaking the hash
chain, and it was written to hold MIS ids only, never names. Vault files are deleted only after
the database change commits, and only when nothing else refers to them (the vault stores each
content once: a form scanned for two siblings is one file).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

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
from ijs_vetting.db.state import safeguarding_flags
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, PhotoStatus, QueueStatus, Role
from ijs_vetting.services import children
from ijs_vetting.services.forms import FORM
from ijs_vetting.services.lookup import find_child
from ijs_vetting.services.queue import QueueItemInfo, get_item, on_consent_change
from ijs_vetting.services.station import Actor, Station
from ijs_vetting.services.templates import REFERENCE, delete_templates
from ijs_vetting.services.vetting import UNDECIDED, decide, redecide

log = logging.getLogger(__name__)

EXPORT_ACTION = "child.export"
ERASE_ACTION = "child.erase"


# --- vault files -------------------------------------------------------------------------------


def referenced_blobs(
    session: Session, shas: Iterable[str] | None = None, *, photos: bool = True
) -> set[str]:
    """The vault files some row still needs (of `shas`, or all): originals (unless `photos` is
    False), forms, reference photos and renderings."""
    wanted = None if shas is None else list(set(shas))
    columns = [Form.sha256, FaceTemplate.reference_sha256, QueueItem.image_sha256]
    if photos:
        columns.append(Photo.sha256)
    found: set[str] = set()
    for column in columns:
        query = select(column).where(column.is_not(None))
        if wanted is not None:
            query = query.where(column.in_(wanted))
        found.update(sha for sha in session.scalars(query) if sha)
    return found


def delete_blobs(
    station: Station, shas: Iterable[str], originals: Iterable[str] = ()
) -> tuple[int, list[str]]:
    """Delete vault files once the commit that released them is done: `shas` if no row refers
    to them any more; `originals` (photo originals retention drops while the photo's record
    stays) unless something other than their photo refers to them. Returns how many went and
    the errors, which are logged: a file left behind is found again by retention's sweep."""
    shas, originals = set(shas), set(originals)
    if not shas and not originals:
        return 0, []
    with station.read() as session:
        doomed = shas - referenced_blobs(session, shas)
        doomed |= originals - referenced_blobs(session, originals, photos=False)
    deleted, errors = 0, []
    for sha in sorted(doomed):
        path = station.vault.path_for(sha)
        try:
            if path.is_file():
                path.unlink()
                deleted += 1
        except OSError as exc:
            log.warning("could not delete %s from the vault: %s", sha, exc)
            errors.append(f"{sha[:12]}: {exc.strerror or exc}")
    return deleted, errors


# --- erasure -----------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What erasing one child did (or, inside a retention dry run, would do)."""

    child_id: str  # the MIS id; kept in the audit trail
    withdrawn: list[int] = field(default_factory=list)  # queue items stopped before posting
    takedown_ids: list[int] = field(default_factory=list)  # posted items still to take down
    templates: int = 0
    consent_records: int = 0
    biometric_records: int = 0
    safeguarding_records: int = 0
    forms: int = 0
    forms_kept: int = 0  # also evidence for another child (a letter covering siblings)
    reference_photos: int = 0
    faces_unidentified: int = 0
    photos_redecided: int = 0
    queue_links: int = 0
    blobs: set[str] = field(default_factory=set)  # vault files to delete after the commit

    def counts(self) -> dict[str, Any]:
        """The audit details and the JSON report share these: ids and counts, no names."""
        return {
            "withdrawn": self.withdrawn,
            "takedowns": self.takedown_ids,
            "templates_deleted": self.templates,
            "consent_records_deleted": self.consent_records,
            "biometric_records_deleted": self.biometric_records,
            "safeguarding_records_deleted": self.safeguarding_records,
            "forms_deleted": self.forms,
            "forms_kept_for_other_children": self.forms_kept,
            "reference_photos_deleted": self.reference_photos,
            "faces_unidentified": self.faces_unidentified,
            "photos_redecided": self.photos_redecided,
            "queue_links_removed": self.queue_links,
        }


@dataclass
class ErasureResult:
    erasure: Erasure
    takedowns: list[QueueItemInfo]  # posted items showing the child: take them down by hand
    files_deleted: int
    file_errors: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "child_id": self.erasure.child_id,
            **self.erasure.counts(),
            "takedowns": [item.as_json() for item in self.takedowns],
            "files_deleted": self.files_deleted,
            "file_errors": self.file_errors,
        }


def erase_child(station: Station, actor: Actor, child_id: str) -> ErasureResult:
    """Erase a child's biometric data and personal record (admins only); see the module doc."""
    with station.write(actor, ERASE_ACTION, Role.ADMIN) as w:
        child = find_child(w.session, child_id)
        erasure = erase_in_session(w.session, child, actor.username)
        takedowns = len(erasure.takedown_ids)
        w.audit(
            f"child {erasure.child_id} erased"
            + (f"; {takedowns} posted items to take down" if takedowns else ""),
            target_type="child",
            target_id=erasure.child_id,
            details=erasure.counts(),
        )
    deleted, errors = delete_blobs(station, erasure.blobs)
    return ErasureResult(
        erasure, [get_item(station, item_id) for item_id in erasure.takedown_ids], deleted, errors
    )


def erase_in_session(session: Session, child: Child, username: str) -> Erasure:
    """Erase `child` inside the caller's transaction (erasure, and retention for old leavers);
    `username` is who erased them, recorded on photos whose rejection must outlive the record."""
    out = Erasure(child.mis_id)
    # 1. Out of the queue, exactly as when a child leaves: queued and exported items are
    #    withdrawn, posted ones are marked for takedown.
    child.on_roll = False
    session.flush()
    redecide(session, [child.id])
    out.withdrawn = on_consent_change(session, [child.id]).withdrawn
    out.takedown_ids = list(
        session.scalars(
            select(QueueItem.id)
            .join(QueueItemChild)
            .where(
                QueueItemChild.child_id == child.id,
                QueueItem.status == QueueStatus.POSTED,
                QueueItem.takedown_requested_at.is_not(None),
            )
            .order_by(QueueItem.id)
        )
    )
    # 2. Photos keep their faces, but nobody is "this child" any more; still-undecided photos
    #    are decided again, so those faces become unknown and are masked.
    out.faces_unidentified, out.photos_redecided = _unidentify(session, child, username)
    out.queue_links = _count(
        session.execute(delete(QueueItemChild).where(QueueItemChild.child_id == child.id))
    )
    # 3. Biometric data: templates and their reference photos.
    references = set(
        session.scalars(
            select(FaceTemplate.reference_sha256).where(FaceTemplate.child_id == child.id)
        )
    )
    out.templates = delete_templates(session, child.id)
    out.reference_photos = len(references)
    out.blobs |= references
    # 4. The record: consent history, biometric ledger, safeguarding flags, forms.
    forms = _forms_of(session, child.id)
    out.consent_records = _count(
        session.execute(delete(ConsentRecord).where(ConsentRecord.child_id == child.id))
    )
    out.biometric_records = _count(
        session.execute(delete(BiometricRecord).where(BiometricRecord.child_id == child.id))
    )
    out.safeguarding_records = _count(
        session.execute(delete(SafeguardingRecord).where(SafeguardingRecord.child_id == child.id))
    )
    for form in forms:
        other = _other_child_using(session, form.id)
        if form.child_id not in (child.id, None):
            out.forms_kept += 1  # uploaded for another child: theirs to keep
        elif other is not None:
            form.child_id = other  # one letter for siblings: still the other's evidence
            out.forms_kept += 1
        else:
            out.blobs.add(form.sha256)
            session.delete(form)
            out.forms += 1
    session.flush()
    session.execute(delete(Child).where(Child.id == child.id))
    session.expire_all()
    return out


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def _unidentify(session: Session, child: Child, username: str) -> tuple[int, int]:
    """Clear the child from every photo face (match, candidate and a reviewer's word); then
    decide the undecided photos again. Returns (faces changed, photos decided).

    A photo the policy rejected because this child must never be published stays rejected, as
    if SLT had rejected it: once the flag is erased nothing else would know the child is in it,
    and a masked face still shows a body, a uniform, a place.
    """
    pk = child.id
    session.flush()
    faces = list(
        session.scalars(
            select(PhotoFace).where(
                or_(
                    PhotoFace.child_id == pk,
                    PhotoFace.manual_child_id == pk,
                    PhotoFace.candidate_child_id == pk,
                )
            )
        )
    )
    photo_ids = {face.photo_id for face in faces}
    flag = safeguarding_flags(session, [pk]).get(pk)
    held = photo_ids if flag is not None and flag.active else set()
    for photo in session.scalars(
        select(Photo).where(
            Photo.id.in_(held),
            Photo.status == PhotoStatus.REJECTED,
            Photo.rejected_by.is_(None),
        )
    ):
        photo.rejected_by, photo.rejected_at = username, utcnow()
        photo.rejected_reason = (
            f"{photo.status_note or 'rejected by the policy'} "
            f"(kept rejected when {child.mis_id}'s record was erased)"
        )
    session.flush()
    session.execute(
        update(PhotoFace).where(PhotoFace.child_id == pk).values(child_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(PhotoFace).where(PhotoFace.manual_child_id == pk).values(manual_child_id=None),
        execution_options={"synchronize_session": False},
    )
    # The distances were to this child's templates: meaningless (and identifying) without them.
    session.execute(
        update(PhotoFace)
        .where(PhotoFace.candidate_child_id == pk)
        .values(candidate_child_id=None, distance=None, runner_up_distance=None),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
    photos = list(
        session.scalars(select(Photo).where(Photo.id.in_(photo_ids), Photo.status.in_(UNDECIDED)))
    )
    for photo in photos:
        decide(session, photo)
    session.flush()
    return len(faces), len(photos)


def _forms_of(session: Session, child_pk: int) -> list[Form]:
    """Forms uploaded for the child or cited by any of their consent or biometric records."""
    cited = (
        select(ConsentRecord.form_id)
        .where(ConsentRecord.child_id == child_pk)
        .union(select(BiometricRecord.form_id).where(BiometricRecord.child_id == child_pk))
    )
    return list(
        session.scalars(
            select(Form).where(or_(Form.child_id == child_pk, Form.id.in_(cited))).order_by(Form.id)
        )
    )


def _other_child_using(session: Session, form_id: int) -> int | None:
    """Another child whose remaining records cite the form (call after deleting this child's)."""
    for model in (ConsentRecord, BiometricRecord):
        other = session.scalar(select(model.child_id).where(model.form_id == form_id).limit(1))
        if other is not None:
            return int(other)
    return None


# --- subject access export ---------------------------------------------------------------------


@dataclass
class ExportResult:
    child_id: str
    file: Path
    forms: int
    reference_photos: int
    photo_originals: int
    posted_images: int
    audit_entries: int
    not_stored: list[str]  # files the records name that are gone (retention, say)

    def as_json(self) -> dict[str, Any]:
        return {
            "child_id": self.child_id,
            "file": str(self.file),
            "forms": self.forms,
            "reference_photos": self.reference_photos,
            "photo_originals": self.photo_originals,
            "posted_images": self.posted_images,
            "audit_entries": self.audit_entries,
            "not_stored": self.not_stored,
        }


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


def _write_export(
    station: Station,
    actor: Actor,
    summary: children.ChildSummary,
    archive: zipfile.ZipFile,
    out: Path,
) -> ExportResult:
    names = _Names()
    missing: list[str] = []

    def put_json(name: str, payload: Any) -> None:
        text = json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
        archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)

    def put_blob(folder: str, name: str, sha: str, purpose: bytes | None) -> str | None:
        if not station.vault.contains(sha):
            missing.append(f"{folder}/{name}")
            return None
        vault = station.vault
        data = vault.read_bytes(sha) if purpose is None else vault.read_sealed(sha, purpose)
        member = names(folder, name)
        archive.writestr(member, data, compress_type=zipfile.ZIP_STORED)
        return member

    with station.read() as session:
        child = find_child(session, summary.mis_id)
        forms = {form.id: form for form in _forms_of(session, child.id)}
        form_files = {
            form.id: put_blob("forms", form.filename, form.sha256, FORM) for form in forms.values()
        }
        consent_rows = list(
            session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.child_id == child.id)
                .order_by(ConsentRecord.id)
            )
        )
        put_json(
            "consent_history.json",
            [
                {
                    "channel": r.channel.code,
                    "granted": r.granted,
                    "given_on": _iso(r.given_on),
                    "recorded_at": _iso(r.recorded_at),
                    "recorded_by": r.recorded_by,
                    "source": r.source,
                    "form": form_files.get(r.form_id) if r.form_id else None,
                }
                for r in consent_rows
            ],
        )
        put_json(
            "biometric_ledger.json",
            [
                {
                    "event": r.event.value,
                    "given_on": _iso(r.given_on),
                    "recorded_at": _iso(r.recorded_at),
                    "recorded_by": r.recorded_by,
                    "source": r.source,
                    "form": form_files.get(r.form_id) if r.form_id else None,
                }
                for r in session.scalars(
                    select(BiometricRecord)
                    .where(BiometricRecord.child_id == child.id)
                    .order_by(BiometricRecord.id)
                )
            ],
        )
        put_json(
            "safeguarding.json",
            [
                {
                    "never_publish": r.active,
                    "reason": r.reason,
                    "recorded_at": _iso(r.recorded_at),
                    "recorded_by": r.recorded_by,
                }
                for r in session.scalars(
                    select(SafeguardingRecord)
                    .where(SafeguardingRecord.child_id == child.id)
                    .order_by(SafeguardingRecord.id)
                )
            ],
        )
        templates = list(
            session.scalars(
                select(FaceTemplate)
                .where(FaceTemplate.child_id == child.id)
                .order_by(FaceTemplate.id)
            )
        )
        template_rows = [
            {
                "created_at": _iso(t.created_at),
                "created_by": t.created_by,
                "reference_photo": put_blob(
                    "reference_photos", t.reference_name, t.reference_sha256, REFERENCE
                ),
            }
            for t in templates
        ]
        put_json(
            "face_templates.json",
            {
                "note": "A template is 128 numbers measured from a reference photo; it is stored "
                "encrypted, only while biometric consent allows it, and is not itself exported.",
                "templates": template_rows,
            },
        )
        photos, originals = _export_photos(session, child.id, put_blob)
        posts, posted_images = _export_posts(session, child.id, put_blob)
        put_json("photos.json", {"photos": photos, "posts": posts})
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_id == child.mis_id)
                .order_by(AuditEntry.id)
            )
        )
        put_json(
            "audit.json",
            [
                {
                    "id": e.id,
                    "at": _iso(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "summary": e.summary,
                    "details": e.details,
                }
                for e in entries
            ],
        )
        record = summary.as_json() | {
            "created_at": _iso(child.created_at),
            "updated_at": _iso(child.updated_at),
        }
        put_json("child.json", record)
        result = ExportResult(
            child_id=child.mis_id,
            file=out,
            forms=sum(1 for f in form_files.values() if f),
            reference_photos=sum(1 for t in template_rows if t["reference_photo"]),
            photo_originals=originals,
            posted_images=posted_images,
            audit_entries=len(entries),
            not_stored=missing,
        )
        put_json(
            "manifest.json",
            {
                "child_id": child.mis_id,
                "exported_at": _iso(utcnow()),
                "exported_by": actor.username,
                "files": sorted(archive.namelist()),
                "not_stored": missing,
            },
        )
    return result


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
