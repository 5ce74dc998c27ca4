"""The posting queue: items per year-group account, from clearing to posted, and back out again.

Items are made by clearing a photo (`services.clearing`) or by queueing a text-only post. They go
`queued` -> `exported` (handed to the school's posting tool by `services.queue_export`) ->
`posted`. Consent reaches the queue: `on_consent_change` runs inside every consent, biometric,
safeguarding and roster change, withdraws items that may no longer go out (their photos go back
to review) and lists posted ones as takedowns, because the policy removes content that should
not be public. Only SLT and admins move items; staff may queue and edit text-only posts.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ijs_vetting.db.models import Account, AccountYearGroup, Child, Photo, QueueItem, QueueItemChild
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, NotFound, PhotoStatus, QueueStatus, Role
from ijs_vetting.policy import Standing
from ijs_vetting.services.caption_check import (
    caption_length,
    enforce,
    screen_caption,
    screen_item,
)
from ijs_vetting.services.lookup import find_child
from ijs_vetting.services.station import Actor, Station
from ijs_vetting.services.station_settings import current, settings_of
from ijs_vetting.services.vetting import decide, redecide, standings

log = logging.getLogger(__name__)

QUEUE_ROLES = (Role.SLT, Role.ADMIN)
TEXT_ROLES = (Role.STAFF, Role.SLT, Role.ADMIN)  # the policy lets staff post text only
ACTIVE = (QueueStatus.QUEUED, QueueStatus.EXPORTED)  # not yet public: can still be stopped


@dataclass(frozen=True)
class QueueItemInfo:
    """One queue item as the fronts show it."""

    id: int
    account: str
    status: QueueStatus
    caption: str
    photo_id: int | None
    image_sha256: str | None
    blurred_faces: int
    shown: tuple[str, ...]  # MIS ids of the children shown unmasked
    cleared_by: str
    cleared_at: datetime
    exported_at: datetime | None
    posted_at: datetime | None
    post_url: str | None
    withdrawn_reason: str | None
    takedown_reason: str | None
    taken_down_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "status": self.status.value,
            "caption": self.caption,
            "photo_id": self.photo_id,
            "image_sha256": self.image_sha256,
            "blurred_faces": self.blurred_faces,
            "shown": list(self.shown),
            "cleared_by": self.cleared_by,
            "cleared_at": self.cleared_at.isoformat(),
            "exported_at": _iso(self.exported_at),
            "posted_at": _iso(self.posted_at),
            "post_url": self.post_url,
            "withdrawn_reason": self.withdrawn_reason,
            "takedown_reason": self.takedown_reason,
            "taken_down_at": _iso(self.taken_down_at),
        }


@dataclass
class QueueChanges:
    """What a consent change did to the queue: item ids withdrawn, and posted ones to take down."""

    withdrawn: list[int] = field(default_factory=list)
    takedowns: list[int] = field(default_factory=list)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def check_caption(caption: str | None, *, limit: int, required: bool = False) -> str:
    """The caption trimmed, or `InvalidInput` when it is over the policy's limit (or missing)."""
    text = (caption or "").strip()
    if (length := caption_length(text)) > limit:
        raise InvalidInput(
            f"The caption has {length} characters; the limit is {limit} (counted as the "
            "platform counts: a link is 23, an emoji or a CJK character 2). Shorten it."
        )
    if required and not text:
        raise InvalidInput("A text-only post needs a caption.")
    return text


def find_account(session: Session, handle: str) -> Account:
    """An active account by handle, ignoring case and the leading '@' ('year5ijs' works)."""
    wanted = handle.strip().lstrip("@").lower()
    accounts = list(session.scalars(select(Account).order_by(Account.handle)))
    for account in accounts:
        if account.active and account.handle.lstrip("@").lower() == wanted:
            return account
    known = ", ".join(a.handle for a in accounts if a.active)
    raise NotFound(f"There is no posting account '{handle}'. Accounts: {known}.")


def route_account(session: Session, year_groups: Iterable[int]) -> Account | None:
    """The one account serving all these year groups, or None (no year groups, a year group
    without an account, or several accounts): then a person must choose."""
    years = set(year_groups)
    if not years:
        return None
    rows = session.execute(
        select(AccountYearGroup.year_group, Account)
        .join(Account)
        .where(AccountYearGroup.year_group.in_(years), Account.active.is_(True))
    ).all()
    served = {year for year, _ in rows}
    accounts = {account.id: account for _, account in rows}
    if served != years or len(accounts) != 1:
        return None
    return next(iter(accounts.values()))


def _item(session: Session, item_id: int) -> QueueItem:
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"There is no queue item {item_id}.")
    return item


def _info(item: QueueItem) -> QueueItemInfo:
    return QueueItemInfo(
        id=item.id,
        account=item.account.handle,
        status=item.status,
        caption=item.caption,
        photo_id=item.photo_id,
        image_sha256=item.image_sha256,
        blurred_faces=item.blurred_faces,
        shown=tuple(sorted(link.child.mis_id for link in item.children if link.shown)),
        cleared_by=item.cleared_by,
        cleared_at=item.cleared_at,
        exported_at=item.exported_at,
        posted_at=item.posted_at,
        post_url=item.post_url,
        withdrawn_reason=item.withdrawn_reason,
        takedown_reason=item.takedown_reason,
        taken_down_at=item.taken_down_at,
    )


def _query() -> Any:
    return (
        select(QueueItem)
        .options(
            selectinload(QueueItem.children).selectinload(QueueItemChild.child),
            selectinload(QueueItem.account),
        )
        .order_by(QueueItem.id)
    )


def list_queue(
    station: Station, *, statuses: Iterable[QueueStatus] | None = None
) -> list[QueueItemInfo]:
    """Queue items, oldest first (all statuses unless `statuses` is given)."""
    query = _query()
    if statuses is not None:
        query = query.where(QueueItem.status.in_(list(statuses)))
    with station.read() as session:
        return [_info(item) for item in session.scalars(query)]


def get_item(station: Station, item_id: int) -> QueueItemInfo:
    with station.read() as session:
        return _info(_item(session, item_id))


def list_takedowns(station: Station) -> list[QueueItemInfo]:
    """Posted items showing a child who may no longer be shown, until someone takes them down."""
    query = _query().where(
        QueueItem.status == QueueStatus.POSTED, QueueItem.takedown_requested_at.is_not(None)
    )
    with station.read() as session:
        return [_info(item) for item in session.scalars(query)]


def add_text(
    station: Station, actor: Actor, account: str, caption: str, *, allow_names: bool = False
) -> QueueItemInfo:
    """Queue a text-only post (no photo, so no face to check; its words are checked for
    children's names): staff, SLT and admins. Only SLT and admins may `allow_names`."""
    limit = current(station).caption_limit
    text = check_caption(caption, limit=limit, required=True)
    with station.read() as session:
        names = screen_caption(
            session, text, limit=limit, account_id=find_account(session, account).id
        )
    enforce(station, actor, names, allow_names)
    with station.write(actor, "queue.add_text", *TEXT_ROLES) as w:
        target = find_account(w.session, account)
        item = QueueItem(
            account=target,
            caption=text,
            status=QueueStatus.QUEUED,
            blurred_faces=0,
            cleared_by=actor.username,
            cleared_at=utcnow(),
        )
        w.session.add(item)
        w.session.flush()
        w.audit(
            f"text post queued for {target.handle}",
            target_type="queue_item",
            target_id=str(item.id),
            details={
                "account": target.handle,
                "caption": text,
                **names.audit_details(),
            },
        )
        return _info(item)


def edit_caption(
    station: Station, actor: Actor, item_id: int, caption: str, *, allow_names: bool = False
) -> QueueItemInfo:
    """Change an item's caption while it is still queued (once exported, the posting tool has it).

    SLT and admins edit any caption; staff only those of text-only posts, which they may queue.
    A caption naming children is refused unless SLT or an admin `allow_names`.
    """
    with station.read() as session:
        found = _item(session, item_id)
        text_only = found.photo_id is None
        names = screen_item(session, caption, found)
    enforce(station, actor, names, allow_names)
    roles = TEXT_ROLES if text_only else QUEUE_ROLES
    with station.write(actor, "queue.caption", *roles) as w:
        item = _item(w.session, item_id)
        text = check_caption(
            caption, limit=settings_of(w.session).caption_limit, required=item.photo_id is None
        )
        if item.status is not QueueStatus.QUEUED:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value}: its caption can no longer change."
            )
        before, item.caption = item.caption, text
        w.audit(
            f"caption of queue item {item_id} edited",
            target_type="queue_item",
            target_id=str(item_id),
            details={
                "before": before,
                "after": text,
                **names.audit_details(),
            },
        )
        return _info(item)


def mark_posted(
    station: Station, actor: Actor, item_id: int, url: str | None = None
) -> QueueItemInfo:
    """Record that the posting tool (or a person) posted the item, with its address if known."""
    with station.write(actor, "queue.posted", *QUEUE_ROLES) as w:
        item = _item(w.session, item_id)
        if item.status not in ACTIVE:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value.replace('_', ' ')}, not waiting "
                "to be posted."
            )
        item.status, item.posted_at, item.posted_by = QueueStatus.POSTED, utcnow(), actor.username
        item.post_url = (url or "").strip() or None
        if item.photo is not None:
            item.photo.status, item.photo.status_note = PhotoStatus.POSTED, None
        w.audit(
            f"queue item {item_id} posted to {item.account.handle}",
            target_type="queue_item",
            target_id=str(item_id),
            details={"url": item.post_url, "photo_id": item.photo_id},
        )
        return _info(item)


def withdraw_item(station: Station, actor: Actor, item_id: int, reason: str) -> QueueItemInfo:
    """Stop an item before it is posted; its photo goes back to review."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give a reason for withdrawing the item.")
    with station.write(actor, "queue.withdraw", *QUEUE_ROLES) as w:
        item = _item(w.session, item_id)
        if item.status not in ACTIVE:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value.replace('_', ' ')}: only queued or "
                "exported items can be withdrawn."
            )
        _withdraw(w.session, item, f"withdrawn by {actor.username}: {reason}")
        w.audit(
            f"queue item {item_id} withdrawn",
            target_type="queue_item",
            target_id=str(item_id),
            details={"reason": reason, "photo_id": item.photo_id},
        )
        return _info(item)


def mark_taken_down(station: Station, actor: Actor, item_id: int) -> QueueItemInfo:
    """Record that a posted item was removed from the account; its photo goes back to review."""
    with station.write(actor, "queue.taken_down", *QUEUE_ROLES) as w:
        item = _item(w.session, item_id)
        if item.status is not QueueStatus.POSTED:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value.replace('_', ' ')}, not posted."
            )
        item.status = QueueStatus.TAKEN_DOWN
        item.taken_down_at, item.taken_down_by = utcnow(), actor.username
        if item.photo is not None:
            back_to_review(w.session, item.photo, f"taken down from {item.account.handle}")
        w.audit(
            f"queue item {item_id} taken down from {item.account.handle}",
            target_type="queue_item",
            target_id=str(item_id),
            details={
                "url": item.post_url,
                "photo_id": item.photo_id,
                "takedown_reason": item.takedown_reason,
            },
        )
        return _info(item)


def back_to_review(session: Session, photo: Photo, note: str) -> None:
    """Hold the photo for a person with `note`: it stays in review, whatever re-deciding says,
    until SLT accept it again (`review.accept_photo`).

    A rejection (safeguarding, or SLT's) stands as it is: that is stronger than review.
    """
    photo.hold_reason = note
    decide(session, photo)


def _withdraw(session: Session, item: QueueItem, reason: str) -> None:
    item.status, item.withdrawn_at, item.withdrawn_reason = (
        QueueStatus.WITHDRAWN,
        utcnow(),
        reason,
    )
    if item.photo is not None and item.photo.status is PhotoStatus.QUEUED:
        back_to_review(session, item.photo, f"withdrawn from the queue: {reason}")
    for folder in export_dirs(item):
        retract_export(folder, item)


MANIFEST = "manifest.json"


def export_file(outdir: Path, handle: str, item_id: int) -> Path:
    """Where `queue export` writes an item's picture: OUTDIR/<account>/<item id>.jpg."""
    return outdir / handle / f"{item_id}.jpg"


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so the posting tool never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_dirs(item: QueueItem) -> list[Path]:
    """Every folder the item was exported to (one per line): a withdrawal retracts from all."""
    return [Path(line) for line in (item.export_dir or "").splitlines() if line.strip()]


def retract_export(outdir: Path, item: QueueItem) -> None:
    """Take a withdrawn item back out of the folder it was exported to: delete its picture and
    drop it from the manifest, so the posting tool cannot post it. Best effort (the folder may
    be on a share that is offline); failures are logged, and the item is withdrawn regardless."""
    try:
        export_file(outdir, item.account.handle, item.id).unlink(missing_ok=True)
        manifest = outdir / MANIFEST
        if manifest.is_file():
            payload = json.loads(manifest.read_text(encoding="utf-8"))
            kept = [entry for entry in payload.get("items", []) if entry.get("id") != item.id]
            if len(kept) != len(payload.get("items", [])):
                payload["items"] = kept
                text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
                write_atomically(manifest, text.encode("utf-8"))
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("could not retract queue item %s from %s: %s", item.id, outdir, exc)


def withdraw_for_photo(session: Session, photo: Photo, reason: str) -> list[int]:
    """Withdraw the photo's items that are not yet posted (its rejection, say); their ids."""
    items = session.scalars(
        select(QueueItem).where(QueueItem.photo_id == photo.id, QueueItem.status.in_(ACTIVE))
    )
    withdrawn = []
    for item in items:
        _withdraw(session, item, reason)
        withdrawn.append(item.id)
    return withdrawn


def _why_not(link: QueueItemChild, standing: Standing | None, mis_id: str) -> str | None:
    """Why this child's part in the item no longer holds, or None while it does."""
    if standing is None or standing.never_publish:
        return f"{mis_id} must never be published (safeguarding)"
    if not link.shown:
        return None  # masked: only the safeguarding flag pulls the photo
    if not standing.on_roll:
        return f"{mis_id} has left the school"
    if not standing.consent:
        return f"{mis_id} no longer has consent for this channel"
    if not link.by_reviewer and not standing.templates_allowed:
        return f"{mis_id} was shown from a face match and biometric consent was withdrawn"
    return None


def on_consent_change(session: Session, child_ids: Iterable[int]) -> QueueChanges:
    """Apply `child_ids`' new standing (call in the same transaction as the change): re-decide
    the undecided photos showing them, then pull from the queue what the standing no longer
    allows.

    Every child recorded in an affected item is checked again, not only the changed ones, so the
    item goes out only if the whole clearance still holds.
    """
    changes = QueueChanges()
    ids = list(set(child_ids))
    redecide(session, ids)
    if not ids:
        return changes
    touched = select(QueueItemChild.item_id).where(QueueItemChild.child_id.in_(ids))
    items = list(
        session.scalars(
            _query().where(
                QueueItem.id.in_(touched),
                QueueItem.status.in_([*ACTIVE, QueueStatus.POSTED]),
            )
        )
    )
    if not items:
        return changes
    everyone = {link.child_id for item in items for link in item.children}
    standing = standings(session, everyone)
    mis = dict(session.execute(select(Child.id, Child.mis_id).where(Child.id.in_(everyone))).all())
    for item in items:
        reasons = [
            reason
            for link in item.children
            if (reason := _why_not(link, standing.get(link.child_id), mis.get(link.child_id, "?")))
        ]
        if not reasons:
            continue
        because = "; ".join(reasons)
        if item.status is QueueStatus.POSTED:
            if item.takedown_requested_at is None:
                item.takedown_requested_at, item.takedown_reason = utcnow(), because
                changes.takedowns.append(item.id)
        else:
            _withdraw(session, item, because)
            changes.withdrawn.append(item.id)
    if changes.withdrawn or changes.takedowns:
        log.info("consent change: withdrew %s, takedowns %s", changes.withdrawn, changes.takedowns)
    return changes


def items_showing(station: Station, mis_id: str) -> list[QueueItemInfo]:
    """Queued, exported and posted items that show or mask this child: what a withdrawal of
    their consent would pull back or ask to take down (shown before it is recorded)."""
    with station.read() as session:
        child = find_child(session, mis_id)
        linked = select(QueueItemChild.item_id).where(QueueItemChild.child_id == child.id)
        query = _query().where(
            QueueItem.id.in_(linked), QueueItem.status.in_([*ACTIVE, QueueStatus.POSTED])
        )
        return [_info(item) for item in session.scalars(query)]


def withdraw_photo_items(session: Session, reason: str) -> list[int]:
    """Withdraw every queued or exported photo item (their photos go back to review): after a
    change that their verification could not have foreseen (new templates, new thresholds)."""
    photos = session.scalars(
        select(Photo)
        .join(QueueItem, QueueItem.photo_id == Photo.id)
        .where(QueueItem.status.in_(ACTIVE))
        .distinct()
    )
    withdrawn: list[int] = []
    for photo in photos:
        withdrawn += withdraw_for_photo(session, photo, reason)
    return withdrawn
