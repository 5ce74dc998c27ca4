"""The next step on an empty station: without a roster nothing can be vetted, so say so."""

from __future__ import annotations

from collections.abc import Mapping

from ijs_vetting.domain import Role
from ijs_vetting.services.core.station import Actor


def next_step(actor: Actor, children_on_roll: int, photo_counts: Mapping[str, int]) -> str | None:
    """What to do first on a station that has no children or no photos yet (None: neither).

    Given the counts the status bar reads anyway: this runs after every review action, and
    reading the register for it froze the window for a second on a whole school."""
    if not children_on_roll:
        if actor.role is Role.ADMIN:
            return (
                "No children yet: import a roster first (Children & consent, then Import roster…); "
                "photos can only be vetted against the register."
            )
        return "No children yet: an admin must import the school's roster first."
    if not photo_counts:
        return "No photos yet: import the iPad's photos (Import, Ctrl+1)."
    return None
