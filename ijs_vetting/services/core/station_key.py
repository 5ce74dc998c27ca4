"""Which key seals the register, and the rule that a key is made only for a new register.

The database records the station id and the key's fingerprint. A station opening a register
whose key is missing, damaged or another's must refuse in plain words and never make a new one:
a fresh key would leave every sealed template, form and record unreadable. Split from `station`
so the door (`Station.write`) and the key's rules can each be read whole.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ijs_vetting.crypto import (
    KEY_DIR_ENV,
    KeyDamaged,
    SealBroken,
    Sealer,
    create_key,
    discard_key,
    fingerprint,
    is_sealed,
    key_location,
    read_key,
)
from ijs_vetting.db.engine import IMMEDIATE, session_factory
from ijs_vetting.db.models import (
    FaceTemplate,
    Setting,
)
from ijs_vetting.domain import ServiceError

if TYPE_CHECKING:
    from ijs_vetting.services.core.station import Station

log = logging.getLogger(__name__)

STATION_ID = "station.id"
SEALED = "station.sealed"  # legacy data sealed: the start-up scan is not needed again
KEY_FINGERPRINT = "station.key"  # the fingerprint of the key this station's data is sealed with


def station_key(engine: Engine) -> bytes:
    """This station's key, checked against the fingerprint its database records.

    A key is made only for a database that never had one (new, or from before encryption);
    recording its fingerprint in the same transaction makes that decision once, even for
    several stations starting together on one PostgreSQL database (the loser's key is
    discarded and it then asks for the winner's). Any other station whose key is missing,
    damaged or different refuses to start, saying which key it needs: making a new key then
    would seal new data that the real key cannot open, and vice versa.
    """
    with session_factory(engine)() as session:  # a plain read first: most starts need no lock
        known, recorded = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
        if known is not None and recorded is not None:
            return _recorded_key(str(known.value["id"]), str(recorded.value["fingerprint"]))
    for attempt in (1, 2):
        created: bytes | None = None
        try:
            with session_factory(engine).begin() as session:
                session.connection(execution_options=IMMEDIATE)
                key_id = recorded_station_id(session)
                recorded = session.get(Setting, KEY_FINGERPRINT)
                if recorded is not None:
                    return _recorded_key(key_id, str(recorded.value["fingerprint"]))
                key = _unrecorded_key(session, key_id)
                if key is None:
                    key = created = create_key(key_id)
                session.add(
                    Setting(
                        key=KEY_FINGERPRINT,
                        value={"fingerprint": fingerprint(key)},
                        updated_by="system",
                    )
                )
            return key
        except BaseException as exc:
            if created is not None:
                discard_key(key_id, created)
            if attempt == 1 and isinstance(exc, IntegrityError):
                continue  # another station recorded its id or key first: use what it recorded
            raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StationKey:
    """Which key an open station uses, for the office to note and back up."""

    fingerprint: str
    location: str


def station_key_info(station: Station) -> StationKey:
    with station.read() as session:
        key_id, recorded = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
        assert key_id is not None and recorded is not None  # both made by `open_station`
        return StationKey(str(recorded.value["fingerprint"]), key_location(str(key_id.value["id"])))


def recorded_station_id(session: Session) -> str:
    """This station's id (made once, kept in its database): it names the station's key."""
    setting = session.get(Setting, STATION_ID)
    if setting is None:
        setting = Setting(key=STATION_ID, value={"id": uuid.uuid4().hex}, updated_by="system")
        session.add(setting)
        session.flush()
    return str(setting.value["id"])


def _recorded_key(key_id: str, needed: str) -> bytes:
    where = key_location(key_id)
    again = f"(or set {KEY_DIR_ENV} to the folder that holds it) and start again"
    try:
        key = read_key(key_id)
    except KeyDamaged as exc:
        raise KeyDamaged(
            f"{exc} This station needs its key {needed}: restore that file from the key backup "
            f"{again}; nothing was changed."
        ) from exc
    if key is None:
        raise ServiceError(
            f"This station's data is sealed with the key {needed}, which is missing: it needs "
            f"{where}. Put the key back from its backup {again}; no new key was made and "
            "nothing was changed."
        )
    if fingerprint(key) != needed:
        raise ServiceError(
            f"The key in {where} is {fingerprint(key)}, not this station's key {needed}: put "
            f"the station's key back {again}; nothing was changed."
        )
    return key


def _unrecorded_key(session: Session, key_id: str) -> bytes | None:
    """The key of a database from before fingerprints were recorded, checked against what it
    sealed; None when the database never had a key (new, or from before encryption)."""
    try:
        key = read_key(key_id)
    except KeyDamaged as exc:
        raise KeyDamaged(
            f"{exc} Restore it from the key backup and start again; nothing was changed."
        ) from exc
    if key is None:
        if session.get(Setting, SEALED) is not None:
            raise ServiceError(
                "This station's data is sealed with a key that is missing: it needs "
                f"{key_location(key_id)}. Put the key back from its backup (or set "
                f"{KEY_DIR_ENV} to the folder that holds it) and start again; no new key was "
                "made and nothing was changed."
            )
        return None
    sample = session.scalars(select(FaceTemplate.encoding).limit(1)).first()
    if sample is not None and is_sealed(sample):
        try:
            Sealer(key).open(sample, b"template")
        except SealBroken as exc:
            raise ServiceError(
                f"The key in {key_location(key_id)} does not open this station's data: put "
                "the station's own key back and start again; nothing was changed."
            ) from exc
    return key
