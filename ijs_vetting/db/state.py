"""Current state read from the append-only histories: consent, biometric ledger, safeguarding.

"Current" is the newest record (highest id) per child and channel. These queries are batched
over many children at once because the children table, the roster import and (later) vetting
all need the state of a whole school, not one child at a time. Each reads the children's whole
history and checks its seals (`ijs_vetting.db.record_seals`) before anything relies on it: a
record changed outside the station raises `RecordTampered` instead of counting.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.config_seals import checked_config
from ijs_vetting.db.models import (
    BiometricRecord,
    Channel,
    ConsentRecord,
    SafeguardingRecord,
)
from ijs_vetting.db.record_seals import checked
from ijs_vetting.domain import BiometricEvent, BiometricState, fold_biometric_ledger


def current_consents(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[tuple[int, str], ConsentRecord]:
    """The newest consent record per (child id, channel code); which channel an id is counts as
    much as the record, so the channels' seals are checked too."""
    codes = {c.id: c.code for c in checked_config(session, list(session.scalars(select(Channel))))}
    query = select(ConsentRecord).order_by(ConsentRecord.id)
    if child_ids is not None:
        query = query.where(ConsentRecord.child_id.in_(list(child_ids)))
    records = checked(session, list(session.scalars(query)))
    return {(r.child_id, codes[r.channel_id]): r for r in records}  # the newest wins


def biometric_states(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[int, BiometricState]:
    """Biometric state per child id; children with no ledger entries are absent (no consent)."""
    query = select(BiometricRecord).order_by(BiometricRecord.id)
    if child_ids is not None:
        query = query.where(BiometricRecord.child_id.in_(list(child_ids)))
    ledgers: dict[int, list[tuple[str | None, BiometricEvent]]] = {}
    for record in checked(session, list(session.scalars(query))):
        ledgers.setdefault(record.child_id, []).append((record.parent_name, record.event))
    return {child: fold_biometric_ledger(events) for child, events in ledgers.items()}


def safeguarding_flags(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[int, SafeguardingRecord]:
    """The newest safeguarding record per child id that has one (active or lifted)."""
    query = select(SafeguardingRecord).order_by(SafeguardingRecord.id)
    if child_ids is not None:
        query = query.where(SafeguardingRecord.child_id.in_(list(child_ids)))
    records = checked(session, list(session.scalars(query)))
    return {record.child_id: record for record in records}  # the newest wins
