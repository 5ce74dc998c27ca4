"""Reading the audit log (writing happens in `Station.write`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import AnchorUnreadable, read_anchor
from ijs_vetting.audit_chain import ChainReport, ChainRow, verify
from ijs_vetting.db.audit_log import chain_rows, shown_details
from ijs_vetting.db.models import AuditEntry, BiometricRecord, ConsentRecord, SafeguardingRecord
from ijs_vetting.db.record_seals import all_records, first_broken
from ijs_vetting.domain import Role
from ijs_vetting.services import retention
from ijs_vetting.services.station import Actor, Station
from ijs_vetting.services.subject_rights import ERASE_ACTION

# The actions whose entries name the record they added (`details["record_id"]`).
RECORD_ACTIONS: dict[str, type[ConsentRecord | BiometricRecord | SafeguardingRecord]] = {
    "consent.set": ConsentRecord,
    "biometric.set": BiometricRecord,
    "safeguarding.set": SafeguardingRecord,
}


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
                {} if brief else shown_details(e),
            )
            for e in session.scalars(query)
        ]


def verify_chain(station: Station, actor: Actor) -> ChainReport:
    """Walk the hash chain (SLT and admins): the first edited or missing entry, if any, and
    whether the chain still holds what its anchor beside the station key recorded; then the
    consent register's seals, and that every record an entry added is still there."""
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
        added = _RecordsAdded()
        report = verify(added.noting(chain_rows(session)), anchor)
        if not report.ok:
            return report
        problem = first_broken(session, all_records(session)) or added.first_missing(session)
        return ChainReport(report.entries, None, problem) if problem else report


class _RecordsAdded:
    """What the chain says was added to the consent register, noted while it is walked (the
    entries themselves are not kept: four years of them do not fit in memory)."""

    def __init__(self) -> None:
        self.erased: set[str | None] = set()
        self.added: list[tuple[int, str, str | None, int]] = []  # entry, action, child, record

    def noting(self, rows: Iterable[ChainRow]) -> Iterator[ChainRow]:
        for row in rows:
            if row.action == ERASE_ACTION:
                self.erased.add(row.target_id)
            elif row.action == retention.ACTION:
                self.erased.update(row.details.get("leavers_erased", []))
            record_id = row.details.get("record_id")
            if row.action in RECORD_ACTIONS and isinstance(record_id, int):
                self.added.append((row.id, row.action, row.target_id, record_id))
            yield row

    def first_missing(self, session: Session) -> str | None:
        """A record an audited change added that is gone, though its child was never erased:
        the newest records of a history can be removed without breaking any seal. One query
        per table for the ids still there."""
        present: dict[str, set[int]] = {}
        for action, model in RECORD_ACTIONS.items():
            wanted = [r for _e, a, _t, r in self.added if a == action]
            present[action] = set()
            for start in range(0, len(wanted), _ID_CHUNK):
                ids = wanted[start : start + _ID_CHUNK]
                present[action].update(session.scalars(select(model.id).where(model.id.in_(ids))))
        for entry_id, action, target_id, record_id in self.added:
            if target_id in self.erased or record_id in present[action]:
                continue
            return (
                f"the record {record_id} that audit entry {entry_id} ({action} for "
                f"{target_id}) added is missing: it was removed outside the station"
            )
        return None


_ID_CHUNK = 5_000  # ids per IN list (well under SQLite's bound variables limit)
