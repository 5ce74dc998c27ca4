"""Changing the station's settings (admins, audited), and applying a change at once.

A new match threshold or channel changes decisions already made, so undecided photos are decided
again from their stored matches; a new identification size needs the pixels, so they are vetted
again from the originals.
"""

from __future__ import annotations

from typing import Any

from ijs_vetting.db.models import Setting
from ijs_vetting.domain import InvalidInput, Role
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import forget, settings_of
from ijs_vetting.services.intake.deciding import mark_for_revetting, redecide_in_batches
from ijs_vetting.services.posting.withdrawal import withdraw_photo_items
from ijs_vetting.settings import coerce

_REDECIDE = {"faces.match_threshold", "faces.match_margin", "posting.channel"}
_REVET = {"faces.min_identify_width"}


def check_setting(key: str, raw: Any) -> Any:
    """`raw` as the value `key` would store, or InvalidInput saying why not: the Settings
    dialog asks before it starts the change, so a refusal is said beside the value typed."""
    try:
        return coerce(key, raw)
    except ValueError as exc:
        raise InvalidInput(f"Cannot set {key}: {exc}.") from exc


def set_setting(
    station: Station, actor: Actor, key: str, raw: Any, *, progress: Progress | None = None
) -> Any:
    """Change a setting for this station (admins only); returns the value stored.

    A match setting re-decides every undecided photo after the change is committed, in short
    batches (`redecide_in_batches`), so a school's four years of photos never hold the write
    lock for long; `progress` reports them and can cancel the rest (clearing decides a photo
    again anyway before it queues it)."""
    value = check_setting(key, raw)
    with station.write(actor, "settings.set", Role.ADMIN) as w:
        before = settings_of(w.session).values[key]
        row = w.session.get(Setting, key)
        if row is None:
            w.session.add(Setting(key=key, value={"value": value}, updated_by=actor.username))
        else:
            row.value, row.updated_by = {"value": value}, actor.username
        forget(w.session)
        w.session.flush()
        pulled: list[int] = []
        if key in _REDECIDE | _REVET:
            # Items already cleared were verified under the old values: they go back to
            # review to be cleared again (fail closed), before undecided photos are redone.
            pulled = withdraw_photo_items(w.session, f"the setting {key} changed")
        if key in _REVET:
            mark_for_revetting(w.session)
        w.audit(
            f"setting {key}: {before} -> {value}",
            target_type="setting",
            target_id=key,
            details={"before": before, "after": value, "withdrawn": pulled},
        )
    if key in _REDECIDE:
        redecide_in_batches(station, progress=progress)
    return value
