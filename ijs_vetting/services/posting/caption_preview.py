"""The caption check as a caption is typed (the GUI's warning beside the caption box).

The same screening `clearing` and `queue` apply when the caption is used, read for the photos
selected (children shown, and those masked) or the queue item being edited; the refusal itself
happens in those services, with the photo as it is then.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ijs_vetting.db.models import Child, PhotoFace, QueueItem
from ijs_vetting.domain import FaceDecision, NotFound
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.posting.accounts import find_account, route_account
from ijs_vetting.services.posting.caption_check import CaptionReport, screen_caption, screen_item


def preview_for_photos(
    station: Station, text: str, photo_ids: Sequence[int], account: str | None = None
) -> CaptionReport:
    """`text` as a caption for these photos, posted to `account` (else where they route).
    No words name nobody: an empty caption reads no photo (a selection of every ready photo
    would otherwise be read at each change of it)."""
    with station.read() as session:
        if not text.strip():
            return CaptionReport(text="", length=0, limit=settings_of(session).caption_limit)
        faces = list(session.scalars(select(PhotoFace).where(PhotoFace.photo_id.in_(photo_ids))))
        shown = {f.child_id for f in faces if f.decision is FaceDecision.SHOW and f.child_id}
        present = {c for f in faces for c in (f.child_id, f.manual_child_id) if c is not None}
        if account:
            account_id: int | None = find_account(session, account).id
        else:
            years = session.scalars(select(Child.year_group).where(Child.id.in_(list(shown))))
            routed = route_account(session, years)
            account_id = routed.id if routed else None
        return screen_caption(
            session,
            text,
            limit=settings_of(session).caption_limit,
            account_id=account_id,
            present=present,
            shown=shown,
        )


def preview_for_text(station: Station, text: str, account: str) -> CaptionReport:
    """`text` as a text-only post to `account`."""
    with station.read() as session:
        return screen_caption(
            session,
            text,
            limit=settings_of(session).caption_limit,
            account_id=find_account(session, account).id,
        )


def preview_for_item(station: Station, text: str, item_id: int) -> CaptionReport:
    """`text` as the new caption of queue item `item_id`."""
    with station.read() as session:
        item = session.get(QueueItem, item_id)
        if item is None:
            raise NotFound(f"There is no queue item {item_id}.")
        return screen_item(session, text, item)
