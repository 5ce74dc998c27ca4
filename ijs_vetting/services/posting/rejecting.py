"""Rejecting photos for good (SLT and admins): re-vetting never lifts a rejection, and a queued
photo's item is withdrawn with it. A posted photo is refused: it needs a takedown instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ijs_vetting.db.models import Photo
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, NotFound, PhotoStatus, ServiceError
from ijs_vetting.json_report import JsonFields
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting.queue import QUEUE_ROLES
from ijs_vetting.services.posting.refusals import Refused, with_files
from ijs_vetting.services.posting.withdrawal import withdraw_for_photo


@dataclass
class RejectResult(JsonFields):
    rejected: list[int] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def reject_photos(
    station: Station, actor: Actor, photo_ids: Sequence[int], reason: str
) -> RejectResult:
    """Reject photos for good (SLT and admins): re-vetting never lifts it, and a queued photo's
    item is withdrawn. A posted photo is refused: it needs a takedown, not a rejection."""
    station.require(actor, "photos.reject", *QUEUE_ROLES)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give a reason for rejecting the photos.")
    result = RejectResult()
    refused: list[tuple[int, str]] = []
    for photo_id in dict.fromkeys(photo_ids):
        try:
            _reject(station, actor, photo_id, reason)
        except ServiceError as exc:
            refused.append((photo_id, str(exc)))
        else:
            result.rejected.append(photo_id)
    result.refused = with_files(station, refused)
    return result


def _reject(station: Station, actor: Actor, photo_id: int, reason: str) -> None:
    with station.write(actor, "photos.reject", *QUEUE_ROLES) as w:
        photo = w.session.get(Photo, photo_id, with_for_update=True)
        if photo is None:
            raise NotFound(f"There is no photo {photo_id}.")
        if photo.status is PhotoStatus.POSTED:
            raise InvalidInput(
                "It has been posted: withdraw it from the account and record the takedown instead."
            )
        if photo.rejected_by is not None:
            raise InvalidInput(f"It was already rejected by {photo.rejected_by}.")
        withdrawn = withdraw_for_photo(w.session, photo, f"photo rejected: {reason}")
        photo.rejected_by, photo.rejected_at, photo.rejected_reason = (
            actor.username,
            utcnow(),
            reason,
        )
        photo.status, photo.status_note = PhotoStatus.REJECTED, reason
        w.audit(
            f"{photo.filename} rejected: {reason}",
            target_type="photo",
            target_id=str(photo_id),
            details={"reason": reason, "withdrawn_items": withdrawn},
        )
