"""Taking items out of the posting queue, inside the caller's transaction: every withdrawal (by
SLT, a rejection, the consent cascade, new templates or thresholds) and every photo sent back to
a person goes through here.

Items are locked in id order first, as the export locks them (so a withdrawal waits for an
export writing them, then removes what it wrote, and never deadlocks with it), and leave every
posting folder they were written to (`services.core.posting_folder`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ijs_vetting.db.models import Photo, QueueItem, QueueItemChild
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import QUEUE_WAITING, PhotoStatus, QueueStatus
from ijs_vetting.services.core.posting_folder import take_out
from ijs_vetting.services.intake.deciding import decide_all


def item_query() -> Any:
    """Queue items in id order, with what every screen and withdrawal reads of them."""
    return (
        select(QueueItem)
        .options(
            selectinload(QueueItem.children).selectinload(QueueItemChild.child),
            selectinload(QueueItem.account),
            selectinload(QueueItem.photo),
        )
        .order_by(QueueItem.id)
    )


def lock_items(session: Session, where: Any) -> list[QueueItem]:
    """The items matching `where`, their rows locked in id order (SELECT ... FOR UPDATE; on
    SQLite the write transaction's lock serialises instead). The export locks the same way, so
    a change taking items out of the queue waits for an export writing them, then removes what
    it wrote, and never deadlocks with it."""
    return list(
        session.scalars(
            item_query().where(where).with_for_update().execution_options(populate_existing=True)
        )
    )


def back_to_review(session: Session, *held: tuple[Photo, str]) -> None:
    """Hold each photo for a person with its note: it stays in review, whatever re-deciding
    says, until SLT accept it again (`review.accept_photo`). All are decided with one read of
    the register (a new threshold sends a school's whole queue back).

    A rejection (safeguarding, or SLT's) stands as it is: that is stronger than review.
    """
    for photo, note in held:
        photo.hold_reason = note
    decide_all(session, [photo for photo, _ in held])


def withdraw(session: Session, items: Sequence[tuple[QueueItem, str]]) -> None:
    """Withdraw these (locked) items, each for its reason: their photos go back to review and
    their files leave every posting folder they were exported to."""
    held: list[tuple[Photo, str]] = []
    for item, reason in items:
        item.status, item.withdrawn_at, item.withdrawn_reason = (
            QueueStatus.WITHDRAWN,
            utcnow(),
            reason,
        )
        if item.photo is not None and item.photo.status is PhotoStatus.QUEUED:
            held.append((item.photo, f"withdrawn from the queue: {reason}"))
    back_to_review(session, *held)
    take_out(session, [item for item, _ in items])


def withdraw_for_photo(session: Session, photo: Photo, reason: str) -> list[int]:
    """Withdraw the photo's items that are not yet posted (its rejection, say); their ids."""
    items = lock_items(
        session, (QueueItem.photo_id == photo.id) & QueueItem.status.in_(QUEUE_WAITING)
    )
    withdraw(session, [(item, reason) for item in items])
    return [item.id for item in items]


def withdraw_photo_items(session: Session, reason: str) -> list[int]:
    """Withdraw every queued or exported photo item (their photos go back to review): after a
    change that their verification could not have foreseen (new templates, new thresholds)."""
    items = lock_items(
        session, QueueItem.photo_id.is_not(None) & QueueItem.status.in_(QUEUE_WAITING)
    )
    withdraw(session, [(item, reason) for item in items])
    return [item.id for item in items]
