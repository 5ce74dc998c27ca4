"""Clearing photos into the posting queue (SLT); rejecting them is services.posting.rejecting.

Clearing one photo is: check it may be cleared (`ready` or `ready_with_blur`; anything else is
refused with the reason, a photo in review with its note), pick the account from the year groups
of the children shown, render it (every `blur` face masked over the whole head, encoded afresh
with no metadata), check the *rendering* (its masks by their pixels, the rest with the real face
engine; `verify`) and only then queue it. A face the check finds that vetting did not decide is
added to the photo (origin `verification`, masked) and the photo waits in review until a
reviewer has looked at it; any other problem sends the photo back to review with the reason,
held there until SLT accept it. Either way nothing is queued.

A batch is cleared photo by photo, each in its own audited transaction, so one refusal does not
stop the others. Rendering and the engine run between the reading and the writing; the write
re-applies the policy and refuses if anything changed meanwhile (a consent withdrawn while the
engine was running must win). The engine runs in the worker pool: this process never loads dlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ijs_vetting.db.models import Account, Child, Photo, QueueItem, QueueItemChild
from ijs_vetting.db.state import current_consents
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    ChangedElsewhere,
    FaceDecision,
    FaceOverride,
    InvalidInput,
    PhotoStatus,
    QueueStatus,
    ServiceError,
    year_label,
)
from ijs_vetting.imaging.redact import DEFAULT_MASK, Mask
from ijs_vetting.json_report import JsonFields
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current, settings_of
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.intake.vetting import load_templates
from ijs_vetting.services.posting import caption_check
from ijs_vetting.services.posting.accounts import find_account, route_account
from ijs_vetting.services.posting.clearing_check import (
    Checked,
    Subject,
    render_and_check,
    to_review,
)
from ijs_vetting.services.posting.queue import QUEUE_ROLES, check_caption
from ijs_vetting.services.posting.refusals import CHOOSE_ACCOUNT, Refused, with_files
from ijs_vetting.services.posting.verify import ShownFace
from ijs_vetting.vault import RESTORE_HINT, VaultFileAltered, VaultFileMissing

CLEARABLE = (PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR)


@dataclass(frozen=True)
class Cleared(JsonFields):
    """A photo now in the queue."""

    photo_id: int
    item_id: int
    account: str
    blurred_faces: int
    image_sha256: str
    shown: tuple[str, ...]  # MIS ids of the children shown


@dataclass
class ClearResult(JsonFields):
    cleared: list[Cleared] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """What clearing a photo will do, read before the slow part (render + engine)."""

    photo_id: int
    subject: Subject  # what rendering and checking it needs
    account_id: int
    account: str
    routed: bool  # the year groups shown chose this account (else a person did)
    shown: dict[int, bool]  # child id -> identified by a reviewer (not a match)
    present: frozenset[int]  # every child identified in the photo, shown or masked
    decisions: tuple[
        tuple[object, ...], ...
    ]  # faces as planned (see `_decisions`): must not change


class _Refused(Exception):
    """Refuse one photo of a batch (and roll back its transaction) with a reason for people."""


def clear_photos(
    station: Station,
    actor: Actor,
    photo_ids: Sequence[int],
    *,
    account: str | None = None,
    caption: str | None = None,
    mask: Mask = DEFAULT_MASK,
    workers: int | None = None,
    progress: Progress | None = None,
    allow_names: bool = False,
) -> ClearResult:
    """Clear each photo into the posting queue, or say why not (SLT and admins).

    `account` (a handle) is required for photos whose shown children do not route to exactly one
    account; given, it is used for every photo of the batch. `mask` exists for the school's
    choice of style and for tests; whatever it is, the rendering must pass verification.
    """
    station.require(actor, "queue.clear", *QUEUE_ROLES)
    station.require_vault()
    config = current(station)
    text = check_caption(caption, limit=config.caption_limit)
    if allow_names:  # SLT's confirmation that the caption may name children (caption_check)
        caption_check.allow(station, actor)
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        raise InvalidInput("Name at least one photo to clear.")
    result = ClearResult()
    refused: list[tuple[int, str]] = []
    plans: list[_Plan] = []
    with station.read() as session:
        chosen = find_account(session, account) if account else None
        for photo_id in ids:
            try:
                plans.append(_plan(station, session, photo_id, chosen))
                names = _caption_names(session, text, plans[-1], config.caption_limit)
                if names.found and not allow_names:
                    plans.pop()
                    raise _Refused(str(caption_check.CaptionNamesChildren(names)))
            except _Refused as exc:
                refused.append((photo_id, str(exc)))
        templates = load_templates(station, session)
    checked, failed = render_and_check(
        station.vault,
        {plan.photo_id: plan.subject for plan in plans},
        templates,
        mask,
        config,
        workers=workers,
        progress=progress,
    )
    refused += failed
    for plan in plans:
        if plan.photo_id in checked:
            _queue_one(station, actor, plan, checked[plan.photo_id], text, result, refused)
    order = {photo_id: n for n, photo_id in enumerate(ids)}
    result.refused = sorted(with_files(station, refused), key=lambda r: order.get(r.photo_id, 0))
    result.cleared.sort(key=lambda c: order[c.photo_id])
    return result


def _queue_one(
    station: Station,
    actor: Actor,
    plan: _Plan,
    checked: Checked,
    caption: str,
    result: ClearResult,
    refused: list[tuple[int, str]],
) -> None:
    """Queue one checked photo (its own transaction), or note why not."""
    try:
        outcome = _commit(station, actor, plan, checked, caption)
    except (_Refused, ServiceError) as exc:
        refused.append((plan.photo_id, str(exc)))
        return
    if isinstance(outcome, Cleared):
        result.cleared.append(outcome)
    else:
        refused.append((plan.photo_id, outcome))


def _caption_names(
    session: Session, caption: str, plan: _Plan, limit: int
) -> caption_check.CaptionReport:
    return caption_check.screen_caption(
        session,
        caption,
        limit=limit,
        account_id=plan.account_id,
        present=plan.present,
        shown=set(plan.shown),
    )


def _refusal(photo: Photo) -> str | None:
    """Why this photo cannot be cleared as it stands, or None."""
    note = f": {photo.status_note}" if photo.status_note else ""
    match photo.status:
        case PhotoStatus.READY | PhotoStatus.READY_WITH_BLUR:
            return None
        case PhotoStatus.REVIEW:
            return f"needs review{note}"
        case PhotoStatus.PENDING:
            return "has not been vetted yet"
        case PhotoStatus.REJECTED:
            return f"was rejected{note}"
        case PhotoStatus.FAILED:
            return f"could not be read{note}"
        case PhotoStatus.QUEUED:
            return "is already in the posting queue"
        case PhotoStatus.POSTED:
            return "has already been posted"
    return f"is {photo.status.value}"


def _decisions(photo: Photo) -> tuple[tuple[object, ...], ...]:
    """Everything about the faces that the rendering depends on: if any of it changes while the
    photo is rendered and checked, the rendering is stale (a face id alone can be reused)."""
    return tuple(
        (f.id, f.decision.value, f.child_id, f.origin.value, f.left, f.top, f.right, f.bottom)
        for f in photo.faces
    )


def _plan(station: Station, session: Session, photo_id: int, chosen: Account | None) -> _Plan:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise _Refused(f"there is no photo {photo_id}")
    why = _refusal(photo)
    if why:
        raise _Refused(why)
    try:
        original = station.vault.check(photo.sha256, "its original")
    except VaultFileMissing as exc:
        posted = select(QueueItem.id).where(
            QueueItem.photo_id == photo.id, QueueItem.posted_at.is_not(None)
        )
        if session.scalar(posted) is not None:  # the retention sweep removes posted originals
            raise _Refused(
                "can no longer be cleared: its original was deleted under the retention policy"
            ) from exc
        raise _Refused(f"cannot be cleared: {exc}; {RESTORE_HINT}") from exc
    except VaultFileAltered as exc:
        raise _Refused(f"cannot be cleared: {exc}; {RESTORE_HINT}") from exc
    shown_faces = [f for f in photo.faces if f.decision is FaceDecision.SHOW and f.child_id]
    shown = {f.child_id: f.manual_child_id == f.child_id for f in shown_faces if f.child_id}
    years = set(session.scalars(select(Child.year_group).where(Child.id.in_(list(shown)))))
    routed = route_account(session, years)
    target = chosen or routed
    if target is None:
        raise _Refused(f"{_why_no_route(photo, years)}, so {CHOOSE_ACCOUNT}")
    subject = Subject(
        original=original,
        original_sha256=photo.sha256,
        masked=tuple(f.box for f in photo.faces if f.decision is FaceDecision.BLUR),
        shown=tuple(
            ShownFace(f.box, f.child_id, f.manual_child_id == f.child_id)
            for f in shown_faces
            if f.child_id is not None
        ),
        not_faces=tuple(f.box for f in photo.faces if f.override is FaceOverride.NOT_A_FACE),
    )
    return _Plan(
        photo_id=photo.id,
        subject=subject,
        account_id=target.id,
        account=target.handle,
        routed=routed is not None and routed.id == target.id,
        shown=shown,
        present=frozenset(_present(photo)),
        decisions=_decisions(photo),
    )


def _why_no_route(photo: Photo, years: set[int]) -> str:
    """Why no year group chooses the account, in words about the photo."""
    if years:
        return "the children shown are in " + ", ".join(year_label(y) for y in sorted(years))
    return "every face in it is masked" if photo.faces else "it shows no child"


def _present(photo: Photo) -> set[int]:
    """Children identified anywhere in the photo: decided, identified by hand, or matched within
    the threshold (an ambiguous match still names a child who may be there)."""
    session = object_session(photo)
    assert session is not None
    limit = settings_of(session).thresholds.match
    out: set[int] = set()
    for face in photo.faces:
        out.update(c for c in (face.child_id, face.manual_child_id) if c is not None)
        matched = face.distance is not None and face.distance <= limit  # 0.0 is a match too
        if face.candidate_child_id is not None and matched:
            out.add(face.candidate_child_id)
    return out


def _commit(
    station: Station, actor: Actor, plan: _Plan, checked: Checked, caption: str
) -> Cleared | str:
    """Queue a verified rendering, or send the photo to review with what the check found; one
    audited transaction either way. Raises `_Refused` (nothing written) if the photo changed
    while it was being rendered and checked."""
    rendering, verification = checked.rendering, checked.verification
    with station.write(actor, "queue.clear", *QUEUE_ROLES) as w:
        photo = w.session.get(Photo, plan.photo_id, with_for_update=True)
        if photo is None or photo.status not in CLEARABLE:
            raise _changed(plan.photo_id, photo)
        if not verification.passed:
            if _decisions(photo) != plan.decisions:
                raise _changed(plan.photo_id, photo)
            return to_review(w, photo, checked, plan.account)
        decide(w.session, photo)
        if photo.status not in CLEARABLE or _decisions(photo) != plan.decisions:
            raise _changed(plan.photo_id, photo)
        sha = station.vault.put_bytes(rendering.data)
        item = _queue_item(w.session, actor, plan, sha, caption, len(rendering.regions))
        photo.status, photo.status_note = PhotoStatus.QUEUED, None
        mis = dict(
            w.session.execute(
                select(Child.id, Child.mis_id).where(Child.id.in_(list(plan.present)))
            ).all()
        )
        relied = {
            mis[link.child_id]: link.consent_record_id for link in item.children if link.shown
        }
        w.audit(
            f"{photo.filename} cleared to {plan.account}",
            target_type="photo",
            target_id=str(plan.photo_id),
            details={
                "item_id": item.id,
                "account": plan.account,
                "account_from_year_groups": plan.routed,
                "caption": caption,
                **_caption_names(
                    w.session, caption, plan, settings_of(w.session).caption_limit
                ).audit_details(),
                "image_sha256": sha,
                "blurred_faces": len(rendering.regions),
                "consent_records": relied,  # what the clearance relied on, per child shown
                "masked_children": sorted(
                    mis[c] for c in plan.present - set(plan.shown) if c in mis
                ),
                "size": [rendering.width, rendering.height],
                "detections_from_masks": verification.masks_doing,
            },
        )
        return Cleared(
            photo_id=plan.photo_id,
            item_id=item.id,
            account=plan.account,
            blurred_faces=len(rendering.regions),
            image_sha256=sha,
            shown=tuple(sorted(relied)),
        )


def _changed(photo_id: int, photo: Photo | None) -> ChangedElsewhere:
    """The photo changed between the clearing's plan and its commit (another SLT cleared it,
    a consent or a review decision changed it): nothing is queued."""
    now = photo.status.value.replace("_", " ") if photo is not None else "deleted"
    return ChangedElsewhere(f"photo {photo_id}", now)


def _queue_item(
    session: Session, actor: Actor, plan: _Plan, sha: str, caption: str, masked: int
) -> QueueItem:
    """The item and, per child, the consent record relied on (read in this transaction)."""
    channel = settings_of(session).vetting_channel
    consents = current_consents(session, list(plan.shown))
    item = QueueItem(
        account_id=plan.account_id,
        photo_id=plan.photo_id,
        image_sha256=sha,
        caption=caption,
        blurred_faces=masked,
        status=QueueStatus.QUEUED,
        cleared_by=actor.username,
        cleared_at=utcnow(),
    )
    for child_id in sorted(plan.present | set(plan.shown)):
        record = consents.get((child_id, channel)) if child_id in plan.shown else None
        item.children.append(
            QueueItemChild(
                child_id=child_id,
                shown=child_id in plan.shown,
                by_reviewer=plan.shown.get(child_id, False),
                consent_record_id=record.id if record else None,
            )
        )
    session.add(item)
    session.flush()
    return item
