"""Reading the audit log (writing happens in `Station.write`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ijs_vetting.audit_anchor import AnchorUnreadable, read_anchor
from ijs_vetting.audit_chain import ChainReport, verify
from ijs_vetting.db.audit_log import chain_rows
from ijs_vetting.db.models import AuditEntry
from ijs_vetting.domain import Role
from ijs_vetting.services.station import Actor, Station


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "summary": self.summary,
            "details": self.details,
        }


def list_audit(
    station: Station,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_id: str | None = None,
    limit: int | None = None,
    reader: Actor | None = None,
) -> list[AuditRow]:
    """Audit entries, newest first, optionally filtered (action matches as a prefix).

    Staff readers see what happened but not the details (safeguarding reasons, captions and
    the like are for SLT and admins).
    """
    brief = reader is not None and reader.role is Role.STAFF
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if limit:
        query = query.limit(limit)
    with station.read() as session:
        return [
            AuditRow(
                e.id,
                e.at,
                e.actor,
                e.action,
                e.target_type,
                e.target_id,
                e.summary,
                {} if brief else dict(e.details),
            )
            for e in session.scalars(query)
        ]


def verify_chain(station: Station, actor: Actor) -> ChainReport:
    """Walk the hash chain (SLT and admins): the first edited or missing entry, if any, and
    whether the chain still holds what its anchor beside the station key recorded."""
    station.require(actor, "audit.verify", Role.ADMIN, Role.SLT)
    anchor = None
    if station.anchor is not None:
        try:
            anchor = read_anchor(station.anchor)
        except AnchorUnreadable as exc:
            return ChainReport(0, None, str(exc))
        if anchor is None:
            return ChainReport(0, None, f"the audit anchor {station.anchor} is missing")
    with station.read() as session:
        return verify(chain_rows(session), anchor)
