"""Current state read from the append-only histories: consent, biometric ledger, safeguarding.

"Current" is the newest record (highest id) per child and channel. These queries are batched
over many children at once because the children table, the roster import and (later) vetting
all need the state of a whole school, not one child at a time.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import (
    BiometricRecord,
    Channel,
    ConsentRecord,
    SafeguardingRecord,
)
from ijs_vetting.domain import BiometricEvent, BiometricState, fold_biometric_ledger


def current_consents(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[tuple[int, str], ConsentRecord]:
    """The newest consent record per (child id, channel code)."""
    newest = select(func.max(ConsentRecord.id)).group_by(
        ConsentRecord.child_id, ConsentRecord.channel_id
    )
    query = select(ConsentRecord, Channel.code).join(Channel).where(ConsentRecord.id.in_(newest))
    if child_ids is not None:
        query = query.where(ConsentRecord.child_id.in_(list(child_ids)))
    return {(rec.child_id, code): rec for rec, code in session.execute(query)}


def biometric_states(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[int, BiometricState]:
    """Biometric state per child id; children with no ledger entries are absent (no consent)."""
    query = select(BiometricRecord).order_by(BiometricRecord.id)
    if child_ids is not None:
        query = query.where(BiometricRecord.child_id.in_(list(child_ids)))
    ledgers: dict[int, list[tuple[str | None, BiometricEvent]]] = {}
    for record in session.scalars(query):
        ledgers.setdefault(record.child_id, []).append((record.parent_name, record.event))
    return {child: fold_biometric_ledger(events) for child, events in ledgers.items()}


def safeguarding_flags(
    session: Session, child_ids: Iterable[int] | None = None
) -> dict[int, SafeguardingRecord]:
    """The newest safeguarding record per child id that has one (active or lifted)."""
    newest = select(func.max(SafeguardingRecord.id)).group_by(SafeguardingRecord.child_id)
    query = select(SafeguardingRecord).where(SafeguardingRecord.id.in_(newest))
    if child_ids is not None:
        query = query.where(SafeguardingRecord.child_id.in_(list(child_ids)))
    return {rec.child_id: rec for rec in session.scalars(query)}
