"""Sealing, once, what was stored before sealing existed: forms and references written in clear,
consent records, review dates, children's rows, channels, accounts and settings from before
their seals.

Each step runs at start only while its setting is missing, so an up-to-date station pays one
read. Split from `station` because it is history, not the door every service goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.crypto import (
    is_sealed,
)
from ijs_vetting.db.audit_log import append_entry
from ijs_vetting.db.config_seals import seal_unsealed_config
from ijs_vetting.db.models import (
    Account,
    AuditEntry,
    BiometricRecord,
    Channel,
    Child,
    ConsentRecord,
    FaceTemplate,
    Form,
    Photo,
    SafeguardingRecord,
    Setting,
)
from ijs_vetting.db.record_seals import (
    reseal_review_dates,
    seal_unsealed,
    seal_unsealed_children,
)
from ijs_vetting.services.core.station_key import SEALED

if TYPE_CHECKING:
    from ijs_vetting.services.core.station import Station

log = logging.getLogger(__name__)

RECORDS_SEALED = "station.records_sealed"  # consent records from before seals got theirs
REVIEW_DATES_SEALED = "station.review_dates_sealed"  # seals cover consent review dates
CHILDREN_SEALED = "station.children_sealed"  # children's rows from before their seals
CONFIG_SEALED = "station.config_sealed"  # channels, accounts and settings from before theirs


def seal_legacy_data(station: Station) -> None:
    """Encrypt templates, forms and reference photos stored before encryption existed.

    Old blobs sat under their content's sha256, where a plain photo original of the same bytes
    may also live: the sealed copy gets its own key, the row follows it, and the plain file goes
    only when no photo uses it.
    """
    stale: set[str] = set()
    with station.read() as session:
        if session.get(Setting, SEALED) is not None:
            return  # most starts: no write lock taken
    with station.transaction() as session:
        if session.get(Setting, SEALED) is not None:
            return  # done once: everything written since is sealed as it is written
        templates = list(session.scalars(select(FaceTemplate)))
        if SEALED in _said_in_chain(session) or any(is_sealed(t.encoding) for t in templates):
            # A plain template put in beside a removed marker would be sealed as the child's
            # (a stranger's face then matches them): refuse, as for the records below.
            log.warning("%s is missing though templates were sealed before: nothing sealed", SEALED)
            return
        for template in templates:
            if not is_sealed(template.encoding):
                template.encoding = station.sealer.seal(template.encoding, b"template")
            key = _reseal(station, template.reference_sha256, b"reference", stale)
            if key:
                template.reference_sha256 = key
        for form in session.scalars(select(Form)):
            key = _reseal(station, form.sha256, b"form", stale)
            if key:
                form.sha256 = key
        in_use = set(session.scalars(select(Photo.sha256).where(Photo.sha256.in_(stale))))
        session.add(Setting(key=SEALED, value={"done": True}, updated_by="system"))
        _record_sealing(session, {SEALED: len(templates)})
    for sha in stale - in_use:
        station.vault.remove(sha)


SEALING_ACTION = "station.seals_made"  # the chain's word that a sealing step was done


def seal_legacy_records(station: Station) -> None:
    """Seal the consent, biometric and safeguarding records, the children's rows and the
    channels, accounts and settings stored before seals existed, once: afterwards each is sealed
    as it is written, and an unsealed one is tampering. Then, once, cover the review dates of
    records sealed before seals covered them.

    A step's marker is a row like any other: someone with the database could delete it, clear a
    record's seal, change the record, and let the next start seal the forgery. So a step runs
    only on rows that were never sealed (a table with a sealed row has been sealed before), and
    only if the audit chain, which an anchor outside the database guards, does not say it was
    done (`SEALING_ACTION`). A marker removed behind the station's back is logged and seals
    nothing: the unsealed rows stay refused wherever a decision reads them."""
    with station.transaction() as session:
        said = _said_in_chain(session)
        # Steps done before the chain said so are said now, but never into an empty chain:
        # an entry there would hide that someone emptied the log (`anchoring`).
        backfill = session.scalar(select(AuditEntry.id).limit(1)) is not None
        done: dict[str, int] = {}
        if backfill and session.get(Setting, SEALED) is not None and SEALED not in said:
            done[SEALED] = 0  # the data sealing
        for marker, seal, ever_sealed in _STEPS:
            if session.get(Setting, marker) is not None:
                if backfill and marker not in said:
                    done[marker] = 0
                continue
            if marker in said or ever_sealed(session):
                log.warning(
                    "%s is missing though its rows were sealed before: it was removed outside "
                    "the station; nothing is sealed again (unsealed rows stay refused)",
                    marker,
                )
                continue
            done[marker] = seal(session)
            session.add(Setting(key=marker, value={"sealed": done[marker]}, updated_by="system"))
        if done:
            _record_sealing(session, done)
        if session.get(Setting, REVIEW_DATES_SEALED) is None:
            dated = reseal_review_dates(session)
            if dated is not None:  # else a record was changed: its broken seal stays as found
                session.add(
                    Setting(key=REVIEW_DATES_SEALED, value={"dated": dated}, updated_by="system")
                )


def _record_sealing(session: Session, done: dict[str, int]) -> None:
    """Say in the chain which steps are done (and how many rows each sealed)."""
    append_entry(
        session,
        actor="system",
        action=SEALING_ACTION,
        summary="rows from before seals sealed (once)",
        target_type="station",
        details={"markers": sorted(done), "sealed": done},
    )


def _said_in_chain(session: Session) -> set[str]:
    """The markers whose steps the audit chain records as done."""
    entries = session.scalars(select(AuditEntry.details).where(AuditEntry.action == SEALING_ACTION))
    return {marker for details in entries for marker in details.get("markers", ())}


def _any_sealed(*models: type[Any]) -> Callable[[Session], bool]:
    def ever_sealed(session: Session) -> bool:
        return any(
            session.scalar(select(model.seal).where(model.seal.is_not(None)).limit(1))
            for model in models
        )

    return ever_sealed


_STEPS: list[tuple[str, Callable[[Session], int], Callable[[Session], bool]]] = [
    (
        RECORDS_SEALED,
        seal_unsealed,
        _any_sealed(ConsentRecord, BiometricRecord, SafeguardingRecord),
    ),
    (CHILDREN_SEALED, seal_unsealed_children, _any_sealed(Child)),
    (CONFIG_SEALED, seal_unsealed_config, _any_sealed(Channel, Account, Setting)),
]


def _reseal(station: Station, sha: str, purpose: bytes, stale: set[str]) -> str | None:
    """The new key of a blob that still needs sealing, or None when it is sealed already."""
    if not station.vault.contains(sha):
        return None
    blob = station.vault.stored_bytes(sha)
    if is_sealed(blob):
        return None
    stale.add(sha)
    return station.vault.put_sealed(blob, purpose)
