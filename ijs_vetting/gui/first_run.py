"""The next step on an empty station: without a roster nothing can be vetted, so say so."""

from __future__ import annotations

from ijs_vetting.domain import Role
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.register import children


def next_step(station: Station, actor: Actor) -> str | None:
    """What to do first on a station that has no children or no photos yet (None: neither)."""
    if not children.list_children(station, include_left=False):
        if actor.role is Role.ADMIN:
            return (
                "No children yet: import a roster first (Children & consent, then Import roster…); "
                "photos can only be vetted against the register."
            )
        return "No children yet: an admin must import the school's roster first."
    if not photos.status_counts(station):
        return "No photos yet: import the iPad's photos (Import, Ctrl+1)."
    return None
