"""The consent cascade: what a change in a child's standing does to photos and the queue.

Every change of standing — consent, biometric consent, safeguarding, the roster (a leaver), an
erasure — calls `on_consent_change` in its own transaction. It re-decides the undecided photos
showing the children, withdraws the waiting items the new standing no longer allows (their photos
go back to review, their files leave every posting folder) and lists posted ones as takedowns,
because the policy removes content that should not be public.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, QueueItem, QueueItemChild
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import QUEUE_WAITING, QueueStatus
from ijs_vetting.policy import Standing
from ijs_vetting.services.intake.deciding import redecide, standings
from ijs_vetting.services.posting.withdrawal import lock_items, withdraw

log = logging.getLogger(__name__)


@dataclass
class QueueChanges:
    """What a consent change did to the queue: item ids withdrawn, and posted ones to take down."""

    withdrawn: list[int] = field(default_factory=list)
    takedowns: list[int] = field(default_factory=list)


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
    items = lock_items(
        session,
        QueueItem.id.in_(touched) & QueueItem.status.in_([*QUEUE_WAITING, QueueStatus.POSTED]),
    )
    if not items:
        return changes
    everyone = {link.child_id for item in items for link in item.children}
    standing = standings(session, everyone)
    mis = dict(session.execute(select(Child.id, Child.mis_id).where(Child.id.in_(everyone))).all())
    pulled: list[tuple[QueueItem, str]] = []
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
            pulled.append((item, because))
            changes.withdrawn.append(item.id)
    withdraw(session, pulled)
    if changes.withdrawn or changes.takedowns:
        log.info("consent change: withdrew %s, takedowns %s", changes.withdrawn, changes.takedowns)
    return changes
