"""Queued items follow their children up a year (the September roster).

An item went to the account of the year groups it shows; when the roster moves those children
up, an item still waiting is moved to the new year group's account. An item whose account a
person chose (it was not the year groups' account) keeps it. When no one account serves the new
year groups, or the item was already exported (the posting tool has it under the old account),
it is withdrawn and its photo goes back to review, to be cleared again to the right account.
Runs inside the roster import's transaction, so its audit entry records every move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, QueueItem, QueueItemChild
from ijs_vetting.domain import QUEUE_WAITING, QueueStatus, year_label
from ijs_vetting.services.posting.accounts import route_account
from ijs_vetting.services.posting.withdrawal import withdraw_for_photo


@dataclass(frozen=True)
class Rerouted:
    """An item moved to `to`, or withdrawn (`to` None)."""

    item_id: int
    before: str
    to: str | None


def reroute_moved_up(session: Session, moved: Mapping[int, int]) -> list[Rerouted]:
    """Move (or withdraw) the waiting photo items showing children whose year group changed;
    `moved` maps child id -> the year group before the import."""
    if not moved:
        return []
    linked = select(QueueItemChild.item_id).where(
        QueueItemChild.child_id.in_(list(moved)), QueueItemChild.shown.is_(True)
    )
    items = list(
        session.scalars(
            select(QueueItem)
            .where(QueueItem.id.in_(linked), QueueItem.status.in_(QUEUE_WAITING))
            .order_by(QueueItem.id)
        )
    )
    out: list[Rerouted] = []
    for item in items:
        shown = [link.child_id for link in item.children if link.shown]
        now = dict(
            session.execute(select(Child.id, Child.year_group).where(Child.id.in_(shown))).all()
        )
        before_years = {moved.get(c, now[c]) for c in shown}
        after_years = set(now.values())
        old = route_account(session, before_years)
        if old is None or old.id != item.account_id:
            continue  # a person chose this account: it stays
        new = route_account(session, after_years)
        if new is not None and new.id == item.account_id:
            continue
        handle = item.account.handle
        if new is not None and item.status is QueueStatus.QUEUED:
            item.account = new
            out.append(Rerouted(item.id, handle, new.handle))
            continue
        years = ", ".join(year_label(y) for y in sorted(after_years))
        why = (
            f"the children shown moved up to {years}, which no one account serves"
            if new is None
            else f"the children shown moved up to {years} ({new.handle}) after it was exported"
        )
        if item.photo is not None:
            withdraw_for_photo(session, item.photo, f"{why}: clear it again to choose the account")
        out.append(Rerouted(item.id, handle, None))
    return out
