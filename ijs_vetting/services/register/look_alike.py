"""A new reference photo whose face is also another child's: said at once to the admin.

The same face enrolled for two children (a mix-up of files, twins, a sibling's photo) fails
safe, since every photo of either then goes to review as ambiguous, but nobody would know why.
Both children have biometric consent (only they have templates), so comparing the new template
with the others is the matching they consented to; nothing new is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child
from ijs_vetting.faces.results import Encoding
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.intake.vetting import load_templates

REASON = "looks_like_another_child"


def look_alikes(
    station: Station, session: Session, new: Sequence[tuple[int, Encoding]]
) -> dict[int, str]:
    """For each index of `new` (child pk, template) whose face matches another child's
    templates within the match threshold, what to tell the admin (naming that child)."""
    if not new:
        return {}
    everyone = load_templates(station, session)
    threshold = settings_of(session).thresholds.match
    found: dict[int, int] = {}
    for index, (child_pk, encoding) in enumerate(new):
        match = everyone.nearest_other(encoding, child_pk)
        if match is not None and match.distance <= threshold:
            found[index] = match.key
    if not found:
        return {}
    children = session.scalars(select(Child).where(Child.id.in_(set(found.values()))))
    names = {c.id: f"{c.display_name} ({c.class_name or c.mis_id})" for c in children}
    return {
        index: f"enrolled, but the face also matches the reference photos of {names[pk]}: "
        "check it is the right child (until then photos of either go to review)"
        for index, pk in found.items()
    }
