"""A photo a batch action (clear, reject) did not act on, and why, in words about the photo.

Each photo of a batch is its own transaction, so one refusal does not stop the others; the
refusals are gathered and given back with the photos' file names, read once at the end.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select

from ijs_vetting.db.models import Photo
from ijs_vetting.services.core.station import Station

CHOOSE_ACCOUNT = "choose the account to post it to"  # each front says where it is chosen


class Refused(NamedTuple):
    """A photo not cleared or rejected, and why, in words about the photo (its file name
    names it for people; the reason never says "photo 9")."""

    photo_id: int
    reason: str
    file: str | None = None  # None: there is no such photo

    def as_json(self) -> dict[str, Any]:
        return {
            "photo_id": self.photo_id,
            "file": self.file,
            "reason": self.reason,
            "needs_account": self.needs_account,
        }

    @property
    def needs_account(self) -> bool:
        """Nothing says which account: clearing it again with one chosen would go ahead."""
        return self.reason.endswith(CHOOSE_ACCOUNT)

    @property
    def words(self) -> str:
        """As a person reads it: the file name, then why."""
        return f"{self.file}: {self.reason}" if self.file else self.reason


def with_files(station: Station, refused: list[tuple[int, str]]) -> list[Refused]:
    """The refusals with their photos' file names (one read; none when nothing was refused)."""
    if not refused:
        return []
    query = select(Photo.id, Photo.filename).where(Photo.id.in_({p for p, _ in refused}))
    with station.read() as session:
        files = {photo_id: name for photo_id, name in session.execute(query)}
    return [Refused(photo_id, reason, files.get(photo_id)) for photo_id, reason in refused]
