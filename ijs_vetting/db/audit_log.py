"""Appending to the audit log, chained: the one way any code writes an audit entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import Anchor
from ijs_vetting.audit_chain import GENESIS, ChainRow, entry_hash
from ijs_vetting.db.models import AuditEntry
from ijs_vetting.db.types import utcnow

# Any constant: PostgreSQL's transaction-level advisory lock serialises appends across stations,
# so two stations never chain onto the same previous entry. SQLite serialises writers itself.
_CHAIN_LOCK = 7_241_915
# Where `append_entry` leaves the chain's new tip for the station to anchor after the commit.
TIP = "audit_tip"


def append_entry(
    session: Session,
    *,
    actor: str,
    action: str,
    summary: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry linked to the newest one (inside the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    previous = (
        session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
        or GENESIS
    )
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "summary": summary,
        "details": details or {},
    }
    entry = AuditEntry(**fields, prev_hash=previous, entry_hash=entry_hash(previous, **fields))
    session.add(entry)
    session.flush()
    # Counted under the chain's lock, so the count and the tip belong together.
    count = session.scalar(select(func.count(AuditEntry.id))) or 0
    session.info[TIP] = Anchor(count, entry.id, entry.entry_hash)
    return entry


def chain_tip(session: Session) -> Anchor:
    """The chain as it stands: its length and newest entry."""
    # One statement, so another station's commit cannot fall between the count and the id.
    count, newest = session.execute(
        select(func.count(AuditEntry.id), func.max(AuditEntry.id))
    ).one()
    if newest is None:
        return Anchor(0, None, None)
    return Anchor(count, newest, session.get_one(AuditEntry, newest).entry_hash)


def chain_rows(session: Session) -> list[ChainRow]:
    return [
        ChainRow(
            e.id,
            e.at,
            e.actor,
            e.action,
            e.target_type,
            e.target_id,
            e.summary,
            dict(e.details),
            e.prev_hash,
            e.entry_hash,
        )
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
