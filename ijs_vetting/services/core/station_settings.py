"""The station's settings as read inside a transaction (changing them: `register.configure`).

Each row is checked against its seal (`db.config_seals`) as it is read: a threshold raised in
the database behind the station's back stops the decision instead of showing faces.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.config_seals import checked_config
from ijs_vetting.db.models import Setting
from ijs_vetting.services.core.station import Station
from ijs_vetting.settings import Settings, defaults

_CACHE = "ijs_settings"


def settings_of(session: Session) -> Settings:
    """The settings in force, read once per session (so a whole decision uses one set)."""
    cached = session.info.get(_CACHE)
    if isinstance(cached, Settings):
        return cached
    known = defaults()
    rows = checked_config(
        session, list(session.scalars(select(Setting).where(Setting.key.in_(list(known)))))
    )
    settings = Settings({row.key: row.value["value"] for row in rows})
    session.info[_CACHE] = settings
    return settings


def list_settings(station: Station) -> dict[str, tuple[Any, Any]]:
    """Every setting: (value in force, shipped default). Here, not beside the changes in
    `register.configure`, so reading them needs none of what a change re-decides."""
    shipped = defaults()
    with station.read() as session:
        values = settings_of(session).values
    return {key: (values[key], shipped[key]) for key in sorted(shipped)}


def current(station: Station) -> Settings:
    with station.read() as session:
        return settings_of(session)


def forget(session: Session) -> None:
    """Drop the session's cached settings (after changing one in it)."""
    session.info.pop(_CACHE, None)
