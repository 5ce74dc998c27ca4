"""The posting queue: items per year-group account, from clearing to posted, and back out again.

Items are made by clearing a photo (`services.clearing`) or by queueing a text-only post. They go
`queued` -> `exported` (written to a posting folder by `services.queue_export`) -> `posted`, or
are withdrawn before that (by SLT here, or by a rejection, the consent cascade or new templates:
all through `services.posting.withdrawal`, which locks the item rows in id order like the export
and takes the items out of every posting folder they were written to), their photos going back
to review. Only SLT and admins move items; staff may queue and edit text-only posts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import QueueItem, QueueItemChild
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    QUEUE_WAITING,
    InvalidInput,
    NotFound,
    PhotoStatus,
    QueueStatus,
    Role,
)
from ijs_vetting.json_report import JsonFields
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.posting_folder import take_out
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current, settings_of
from ijs_vetting.services.posting.accounts import find_account
from ijs_vetting.services.posting.caption_check import (
    caption_length,
    enforce,
    screen_caption,
    screen_item,
)
from ijs_vetting.services.posting.withdrawal import back_to_review, item_query, lock_items, withdraw

log = logging.getLogger(__name__)

QUEUE_ROLES = (Role.SLT, Role.ADMIN)
TEXT_ROLES = (Role.STAFF, Role.SLT, Role.ADMIN)  # the policy lets staff post text only


@dataclass(frozen=True)
class QueueItemInfo(JsonFields):
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
    photo_file: str | None = None  # the photo's file name, as people know it
    shown_names: tuple[str, ...] = ()  # the children shown, by name (same order as `shown`)


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


def _item(session: Session, item_id: int) -> QueueItem:
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"There is no queue item {item_id}.")
    return item


def _locked(session: Session, item_id: int) -> QueueItem:
    items = lock_items(session, QueueItem.id == item_id)
    if not items:
        raise NotFound(f"There is no queue item {item_id}.")
    return items[0]


def _info(item: QueueItem) -> QueueItemInfo:
    shown = sorted(
        (link.child.mis_id, link.child.display_name) for link in item.children if link.shown
    )
    return QueueItemInfo(
        id=item.id,
        account=item.account.handle,
        status=item.status,
        caption=item.caption,
        photo_id=item.photo_id,
        image_sha256=item.image_sha256,
        blurred_faces=item.blurred_faces,
        shown=tuple(mis_id for mis_id, _name in shown),
        cleared_by=item.cleared_by,
        cleared_at=item.cleared_at,
        exported_at=item.exported_at,
        posted_at=item.posted_at,
        post_url=item.post_url,
        withdrawn_reason=item.withdrawn_reason,
        takedown_reason=item.takedown_reason,
        taken_down_at=item.taken_down_at,
        photo_file=item.photo.filename if item.photo is not None else None,
        shown_names=tuple(name for _mis_id, name in shown),
    )


def list_queue(
    station: Station, *, statuses: Iterable[QueueStatus] | None = None
) -> list[QueueItemInfo]:
    """Queue items, oldest first (all statuses unless `statuses` is given)."""
    query = item_query()
    if statuses is not None:
        query = query.where(QueueItem.status.in_(list(statuses)))
    with station.read() as session:
        return [_info(item) for item in session.scalars(query)]


def get_item(station: Station, item_id: int) -> QueueItemInfo:
    with station.read() as session:
        return _info(_item(session, item_id))


_TAKEDOWN_DUE = (QueueItem.status == QueueStatus.POSTED) & QueueItem.takedown_requested_at.is_not(
    None
)


def list_takedowns(station: Station) -> list[QueueItemInfo]:
    """Posted items showing a child who may no longer be shown, until someone takes them down."""
    with station.read() as session:
        return [_info(item) for item in session.scalars(item_query().where(_TAKEDOWN_DUE))]


@dataclass(frozen=True)
class QueueCounts:
    """What the status bar says of the queue."""

    waiting: int  # queued or exported, not yet posted
    takedowns_due: int


def queue_counts(station: Station) -> QueueCounts:
    """The queue's counts in one count query (the status bar asks after every action: listing
    5,000 items for their number took seconds)."""
    waiting = QueueItem.status.in_(QUEUE_WAITING)
    query = select(
        func.count(QueueItem.id).filter(waiting), func.count(QueueItem.id).filter(_TAKEDOWN_DUE)
    )
    with station.read() as session:
        queued, due = session.execute(query).one()
    return QueueCounts(int(queued), int(due))


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
        item = _locked(w.session, item_id)
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
    """Record that the posting tool (or a person) posted the item, with its address if known;
    its files and manifest entry leave every posting folder."""
    with station.write(actor, "queue.posted", *QUEUE_ROLES) as w:
        item = _locked(w.session, item_id)
        if item.status not in QUEUE_WAITING:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value.replace('_', ' ')}, not waiting "
                "to be posted."
            )
        item.status, item.posted_at, item.posted_by = QueueStatus.POSTED, utcnow(), actor.username
        item.post_url = (url or "").strip() or None
        if item.photo is not None:
            item.photo.status, item.photo.status_note = PhotoStatus.POSTED, None
        take_out(w.session, [item])  # the posting folder holds only what is still to post
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
        item = _locked(w.session, item_id)
        if item.status not in QUEUE_WAITING:
            raise InvalidInput(
                f"Queue item {item_id} is {item.status.value.replace('_', ' ')}: only queued or "
                "exported items can be withdrawn."
            )
        withdraw(w.session, [(item, f"withdrawn by {actor.username}: {reason}")])
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
            back_to_review(w.session, (item.photo, f"taken down from {item.account.handle}"))
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


def items_showing(station: Station, mis_id: str) -> list[QueueItemInfo]:
    """Queued, exported and posted items that show or mask this child: what a withdrawal of
    their consent would pull back or ask to take down (shown before it is recorded)."""
    with station.read() as session:
        child = find_child(session, mis_id)
        linked = select(QueueItemChild.item_id).where(QueueItemChild.child_id == child.id)
        query = item_query().where(
            QueueItem.id.in_(linked), QueueItem.status.in_([*QUEUE_WAITING, QueueStatus.POSTED])
        )
        return [_info(item) for item in session.scalars(query)]
