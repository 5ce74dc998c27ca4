"""Reading the audit log (writing happens in `Station.write`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import Anchor, AnchorUnreadable, anchor_in_file, read_anchor
from ijs_vetting.audit_chain import ChainReport, ChainRow, verify
from ijs_vetting.db.audit_log import chain_rows, shown_details
from ijs_vetting.db.config_seals import all_config, first_broken_config
from ijs_vetting.db.models import (
    AuditEntry,
    BiometricRecord,
    Child,
    ConsentRecord,
    Photo,
    SafeguardingRecord,
)
from ijs_vetting.db.record_seals import all_records, first_broken, first_broken_child
from ijs_vetting.domain import InvalidInput, Role
from ijs_vetting.json_report import JsonFields
from ijs_vetting.services.core.anchoring import missing_anchor
from ijs_vetting.services.core.posting_folder import write_atomically
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.privacy import retention
from ijs_vetting.services.privacy.subject_rights import ERASE_ACTION

# The actions whose entries name the record they added (`details["record_id"]`).
RECORD_ACTIONS: dict[str, type[ConsentRecord | BiometricRecord | SafeguardingRecord]] = {
    "consent.set": ConsentRecord,
    "biometric.set": BiometricRecord,
    "safeguarding.set": SafeguardingRecord,
}
SETTING_ACTION = "settings.set"  # its details carry the value it set ("after")


@dataclass(frozen=True)
class AuditRow(JsonFields):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details: dict[str, Any]
    station: str | None = None  # the station it was done on (None: before stations were named)


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
                e.station,
            )
            for e in session.scalars(query)
        ]


def verify_chain(station: Station, actor: Actor, anchor_file: Path | None = None) -> ChainReport:
    """Walk the hash chain (SLT and admins): the first edited or missing entry, if any, and
    whether the chain still holds what its anchor beside the station key recorded (and the
    anchor in `anchor_file`: an export's manifest, kept where the database does not reach);
    then the consent register's seals and those of channels, accounts and settings, that every
    record an entry added is still there, and that each setting holds what its last audited
    change set."""
    station.require(actor, "audit.verify", Role.ADMIN, Role.SLT)
    against = None
    if anchor_file is not None:
        try:
            against = anchor_in_file(anchor_file)
        except AnchorUnreadable as exc:
            raise InvalidInput(f"{exc}.") from exc
    anchor = None
    if station.anchor is not None:
        try:
            anchor = read_anchor(station.anchor)
        except AnchorUnreadable as exc:
            return ChainReport(0, None, str(exc))
        if anchor is None:
            with station.read() as session:
                return ChainReport(0, None, missing_anchor(session, station.anchor))
    with station.read() as session:
        return check_chain(
            session, anchor, (against, f"in {anchor_file}") if against is not None else None
        )


def check_chain(
    session: Session, anchor: Anchor | None, against: tuple[Anchor, str] | None = None
) -> ChainReport:
    """The checks of `verify_chain` on one session's database (a restore runs them on the
    staged copy before it switches over); the session must carry the record key. `against`:
    another anchor to hold the chain to, and where it was found (for the words)."""
    added = _RecordsAdded()  # the walk notes what it needs: the entries are not kept
    report = verify(added.noting(chain_rows(session)), anchor)
    if report.ok and against is not None:
        report = verify(chain_rows(session), *against)
    if not report.ok:
        return report
    problem = (
        first_broken(session, all_records(session))
        or first_broken_child(session, session.scalars(select(Child).order_by(Child.id)))
        or first_broken_config(session, all_config(session))
        or added.first_missing(session)
        or added.first_setting_moved(session)
    )
    return ChainReport(report.entries, None, problem) if problem else report


def _details(row: ChainRow) -> dict[str, Any]:
    """A row's details, or none when they are not JSON: the walk reports that row edited."""
    try:
        return row.details
    except ValueError:
        return {}


class _RecordsAdded:
    """What the chain says was added to the consent register and which value each setting was
    last set to, noted while it is walked (the entries themselves are not kept: four years of
    them do not fit in memory)."""

    def __init__(self) -> None:
        self.erased: set[str | None] = set()
        self.added: list[tuple[int, str, str | None, int]] = []  # entry, action, child, record
        self.settings: dict[str, tuple[int, Any]] = {}  # key -> (entry, value it set)

    def noting(self, rows: Iterable[ChainRow]) -> Iterator[ChainRow]:
        for row in rows:  # the details are decoded only for the few actions that need them
            if row.action == ERASE_ACTION:
                self.erased.add(row.target_id)
            elif row.action == retention.ACTION:
                self.erased.update(_details(row).get("leavers_erased", []))
            elif row.action in RECORD_ACTIONS:
                record_id = _details(row).get("record_id")
                if isinstance(record_id, int):
                    self.added.append((row.id, row.action, row.target_id, record_id))
            elif row.action == SETTING_ACTION and row.target_id:
                details = _details(row)
                if "after" in details:
                    self.settings[row.target_id] = (row.id, details["after"])
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

    def first_setting_moved(self, session: Session) -> str | None:
        """A setting that no longer holds what its last audited change set: a sealed row cannot
        be edited unseen, but a removed one puts the shipped default back."""
        values = settings_of(session).values
        for key, (entry_id, value) in sorted(self.settings.items()):
            if key in values and values[key] != value:
                return (
                    f"the setting {key} is {values[key]!r}, but audit entry {entry_id} set it to "
                    f"{value!r}: it was changed outside the station"
                )
        return None


_ID_CHUNK = 5_000  # ids per IN list (well under SQLite's bound variables limit)


_MIS_LIKE = re.compile(r"\b[A-Za-z0-9]{3,20}\b")  # a word that may be an MIS id


@dataclass(frozen=True)
class AuditNames:
    """What the audit's record ids stand for, so people read names: MIS id -> child's name,
    photo id -> file name."""

    children: dict[str, str]
    photos: dict[str, str]

    def summary(self, row: AuditRow) -> str:
        """The summary as people read it: each child's MIS id followed by their name ("D100001
        (Grace Hopper)"). The log itself keeps the ids: names change, and it is evidence."""
        if not self.children:
            return row.summary
        return _MIS_LIKE.sub(
            lambda m: f"{m[0]} ({self.children[m[0]]})" if m[0] in self.children else m[0],
            row.summary,
        )

    def record(self, row: AuditRow) -> str:
        if not row.target_id:
            return ""
        if row.target_type == "child" and row.target_id in self.children:
            return f"{self.children[row.target_id]} ({row.target_id})"
        if row.target_type == "photo" and row.target_id in self.photos:
            return Path(self.photos[row.target_id]).name
        return f"{row.target_type} {row.target_id}"


def audit_names(station: Station) -> AuditNames:
    with station.read() as session:
        kids = {c.mis_id: c.display_name for c in session.scalars(select(Child))}
        files = {str(pk): name for pk, name in session.execute(select(Photo.id, Photo.filename))}
    return AuditNames(kids, files)


_NAMED_IN_SUMMARY = 20  # children a name matches whose MIS ids are searched for in summaries


def search_audit(
    station: Station,
    reader: Actor,
    text: str = "",
    *,
    since: date | None = None,
    until: date | None = None,
    limit: int | None = 5000,
) -> list[AuditRow]:
    """Entries, newest first, that mention `text` (in the summary, action or user, or as the
    record of a child whose name, or a photo whose file name, contains it) on the days from
    `since` to `until` (local days, both included)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    needle = text.strip()
    with station.read() as session:
        if needle:
            like = f"%{needle.lower()}%"
            kids = select(Child.mis_id).where(
                func.lower(Child.first_name + " " + Child.last_name).like(like)
                | func.lower(func.coalesce(Child.preferred_name, "") + " " + Child.last_name).like(
                    like
                )
            )
            files = select(func.cast(Photo.id, String)).where(func.lower(Photo.filename).like(like))
            # entries about a child's face or photo name the child by MIS id in their summary
            named = [
                func.lower(AuditEntry.summary).like(f"%{mis_id.lower()}%")
                for mis_id in session.scalars(kids.limit(_NAMED_IN_SUMMARY))
            ]
            query = query.where(
                or_(
                    *named,
                    func.lower(AuditEntry.summary).like(like),
                    func.lower(AuditEntry.action).like(like),
                    func.lower(AuditEntry.actor).like(like),
                    func.lower(func.coalesce(AuditEntry.station, "")).like(like),
                    func.lower(func.coalesce(AuditEntry.target_id, "")).like(like),
                    (AuditEntry.target_type == "child") & AuditEntry.target_id.in_(kids),
                    (AuditEntry.target_type == "photo") & AuditEntry.target_id.in_(files),
                )
            )
        if since is not None:
            query = query.where(AuditEntry.at >= _local_midnight(since))
        if until is not None:
            query = query.where(AuditEntry.at < _local_midnight(until + timedelta(days=1)))
        if limit:
            query = query.limit(limit)
        brief = reader.role is Role.STAFF
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
                e.station,
            )
            for e in session.scalars(query)
        ]


def _local_midnight(day: date) -> datetime:
    """The start of `day` on the station's clock, as the UTC time the audit stores."""
    return datetime.combine(day, time()).astimezone().astimezone(UTC)


EXPORT_ACTION = "audit.export"
EXPORT_ROLES = (Role.ADMIN, Role.SLT)


def export_audit_csv(
    station: Station, actor: Actor, path: Path, rows: list[AuditRow], names: AuditNames
) -> int:
    """Write `rows` (as searched) to a CSV file for the school's records or an inspector;
    audited, as the file leaves the station. Returns the number of rows written."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(["id", "when", "user", "station", "action", "record", "what"])
    for row in rows:
        out.writerow(
            [
                row.id,
                row.at.astimezone().isoformat(timespec="seconds"),
                row.actor,
                row.station or "",
                row.action,
                names.record(row),
                row.summary,
            ]
        )
    with station.write(actor, EXPORT_ACTION, *EXPORT_ROLES) as w:
        write_atomically(path, buffer.getvalue().encode("utf-8-sig"))
        w.audit(
            f"{len(rows)} audit entries exported to {path.name}",
            target_type="audit",
            details={"entries": len(rows), "file": path.name},
        )
    return len(rows)
