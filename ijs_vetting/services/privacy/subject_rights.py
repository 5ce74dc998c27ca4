"""A child's right to erasure (UK GDPR art. 17); the export (art. 15) is in `subject_access`.

Erasure first pulls the child from the posting queue the way a withdrawal does (so nothing with
them in it goes out, and posted items become takedowns), then deletes their biometric data and
personal record and leaves the photos they appear in unidentified (their faces are then masked
like any stranger's). Captions go too: a queue item's caption that names the child, or goes
with a photo showing them, is erased (an item still waiting is withdrawn, so its caption file
leaves the posting folder; a posted one is listed for takedown), and so is the copy the audit
log keeps. The audit trail stays: its rows cannot be edited without breaking the hash chain,
and it was written to hold MIS ids only, never names (captions sit outside the hashed fields).
Vault files are deleted only after the database change commits, and only when nothing else
refers to them (the vault stores each content once: a form scanned for two siblings is one file).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from ijs_vetting.db.audit_log import erase_private
from ijs_vetting.db.models import (
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
from ijs_vetting.domain import QUEUE_WAITING, PhotoStatus, QueueStatus, Role
from ijs_vetting.names import fold
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.deciding import UNDECIDED, decide
from ijs_vetting.services.posting.caption_check import mentions
from ijs_vetting.services.posting.queue import QueueItemInfo, get_item
from ijs_vetting.services.posting.withdrawal import lock_items, withdraw
from ijs_vetting.services.register.consent_cascade import on_consent_change
from ijs_vetting.services.register.templates import delete_templates

log = logging.getLogger(__name__)

ERASE_ACTION = "child.erase"
ERASED_CAPTION = "(caption erased with a child's record)"


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
        try:
            if station.vault.remove(sha):
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
    audit_captions: int = 0  # audit entries whose captions were erased (they may name the child)
    captions: int = 0  # queue items whose captions were erased
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
            "audit_captions_erased": self.audit_captions,
            "captions_erased": self.captions,
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
    `username` is who erased them, recorded on photos whose rejection must outlive the record.

    Its numbered steps are the whole of what an erasure deletes, kept in one function so that
    the list a DPO reads against Article 17 is this one."""
    out = Erasure(child.mis_id)
    out.audit_captions = _erase_captions(session, child)
    # 1. Out of the queue, exactly as when a child leaves: queued and exported items are
    #    withdrawn, posted ones are marked for takedown.
    child.on_roll = False
    session.flush()
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
    out.captions = _erase_item_captions(session, child, out)
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
    forms = forms_of(session, child.id)
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


def _erase_captions(session: Session, child: Child) -> int:
    """Erase the captions the audit log keeps that name the child or go with their photos and
    queue items (the chain holds only their digests, so it still verifies)."""
    pk = child.id
    items = set(
        session.scalars(select(QueueItemChild.item_id).where(QueueItemChild.child_id == pk))
    )
    photos = set(session.scalars(select(PhotoFace.photo_id).where(_face_of(pk))))
    targets = {("queue_item", str(i)) for i in items} | {("photo", str(p)) for p in photos}
    names = [child.first_name, child.last_name, child.preferred_name or ""]
    return erase_private(session, names, targets, items)


def _erase_item_captions(session: Session, child: Child, out: Erasure) -> int:
    """Erase the captions of queue items that name the child, or go with a photo showing them;
    how many. A waiting item whose caption names them is withdrawn (its caption file leaves
    every posting folder), a posted one is listed for takedown (`out` gains both).

    On items the child is in, any of their names counts. On other items (a text-only post) a
    full name or the MIS id does, and a first name or surname alone only when no other child
    has it: "Tom Smith" on a sibling's post is not this Smith's."""
    pk = child.id
    links = session.execute(
        select(QueueItemChild.item_id, QueueItemChild.shown).where(QueueItemChild.child_id == pk)
    ).all()
    linked, shown = {i for i, _ in links}, {i for i, s in links if s}
    own = {n for n in (child.first_name, child.preferred_name, child.last_name) if n}
    always = {f"{first} {child.last_name}" for first in own - {child.last_name}} | {child.mis_id}
    others = session.execute(
        select(Child.first_name, Child.preferred_name, Child.last_name).where(Child.id != pk)
    ).all()
    taken = {fold(n) for row in others for n in row if n}
    anywhere = always | {n for n in own if fold(n) not in taken}
    hits = [
        item_id
        for item_id, caption in session.execute(
            select(QueueItem.id, QueueItem.caption).where(QueueItem.caption != ERASED_CAPTION)
        )
        if item_id in shown or mentions(caption, always | own if item_id in linked else anywhere)
    ]
    reason = f"its caption named {child.mis_id}, whose record was erased"
    items = lock_items(session, QueueItem.id.in_(hits))
    waiting = [item for item in items if item.status in QUEUE_WAITING]
    withdraw(session, [(item, reason) for item in waiting])
    out.withdrawn = sorted({*out.withdrawn, *(item.id for item in waiting)})
    for item in items:
        if item.status is QueueStatus.POSTED:  # the post names them in public: take it down
            if item.takedown_requested_at is None:
                item.takedown_requested_at, item.takedown_reason = utcnow(), reason
            out.takedown_ids = sorted({*out.takedown_ids, item.id})
        item.caption = ERASED_CAPTION
    return len(items)


def _face_of(pk: int) -> ColumnElement[bool]:
    """A photo face that is, may be, or was named as the child."""
    return or_(
        PhotoFace.child_id == pk,
        PhotoFace.manual_child_id == pk,
        PhotoFace.candidate_child_id == pk,
    )


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
    faces = list(session.scalars(select(PhotoFace).where(_face_of(pk))))
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


def forms_of(session: Session, child_pk: int) -> list[Form]:
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
