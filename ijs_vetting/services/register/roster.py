"""Roster import: the admin's first job, and the one that must never half-happen.

The whole file is parsed and checked before anything is written; one bad row means nothing is
imported and every problem is listed with its line. Re-importing the same file changes nothing
(consent is appended only where it differs from the current record), and children missing from
the file are marked as leavers only when asked, because MIS reports are often filtered.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import BiometricRecord, Child, ConsentRecord
from ijs_vetting.db.state import biometric_states, current_consents
from ijs_vetting.domain import (
    NO_BIOMETRIC_CONSENT,
    BiometricEvent,
    InvalidInput,
    Role,
    ServiceError,
)
from ijs_vetting.roster_csv import ParsedRoster, RosterFileError, RosterRow, parse_roster
from ijs_vetting.services.core.lookup import channel_names, checked_channels
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting.reroute import reroute_moved_up
from ijs_vetting.services.register.consent_cascade import on_consent_change
from ijs_vetting.services.register.consent_review import LAPSED_SOURCE
from ijs_vetting.services.register.roster_report import ChildDiff, ConsentDiff, RosterReport
from ijs_vetting.services.register.templates import delete_templates
from ijs_vetting.vault import sha256_file

ACTION = "roster.import"
_FIELDS = ("first_name", "last_name", "preferred_name", "year_group", "class_name")


class RosterError(ServiceError):
    """The roster has row problems; nothing was imported. `problems` are (line, reason)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"The roster has {count} problem{'s' if count != 1 else ''}; nothing was imported. "
            + "; ".join(f"line {line}: {reason}" for line, reason in problems[:5])
            + (f"; and {count - 5} more" if count > 5 else "")
        )


def import_roster(
    station: Station,
    actor: Actor,
    path: Path,
    *,
    dry_run: bool = False,
    mark_leavers: bool = False,
) -> RosterReport:
    """Import (or preview, with `dry_run`) a roster CSV in one transaction."""
    data = _read(path)
    if dry_run:
        station.require(actor, ACTION, Role.ADMIN)
        with station.read() as session:
            return _plan(
                session,
                _parse(session, data),
                path,
                dry_run=True,
                mark_leavers=mark_leavers,
                apply_as=None,
            )
    with station.write(actor, ACTION, Role.ADMIN) as w:
        report = _plan(
            w.session,
            _parse(w.session, data),
            path,
            dry_run=False,
            mark_leavers=mark_leavers,
            apply_as=actor.username,
        )
        w.audit(
            f"roster import from {path.name}: {len(report.added)} added, "
            f"{len(report.updated)} updated, {len(report.consent_changes)} consent changes, "
            f"{len(report.left)} left",
            target_type="roster",
            target_id=sha256_file(path)[:16],
            details=report.audit_details(),
        )
        return report


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput(f"The roster file '{path}' does not exist.")
    return path.read_bytes()


def _parse(session: Session, data: bytes) -> ParsedRoster:
    channels = {c.code: channel_names(c) for c in checked_channels(session)}
    try:
        parsed = parse_roster(data, channels)
    except RosterFileError as exc:
        raise InvalidInput(str(exc)) from exc
    if parsed.problems:
        raise RosterError(parsed.problems)
    return parsed


def _plan(
    session: Session,
    parsed: ParsedRoster,
    path: Path,
    *,
    dry_run: bool,
    mark_leavers: bool,
    apply_as: str | None,
) -> RosterReport:
    """Compare the file with the register; when `apply_as` names a user, also make the changes.

    One pass per row decides and (when applying) does the same thing, so a dry run reports
    exactly what the import would change."""
    report = RosterReport(
        dry_run=dry_run,
        file=str(path),
        encoding=parsed.encoding,
        channel_columns=parsed.channel_columns,
        ignored_columns=parsed.ignored_columns,
    )
    existing = {c.mis_id: c for c in session.scalars(select(Child))}
    planner = _Planner(session, report, existing, apply_as)
    for row in parsed.rows:
        name = f"{row.preferred_name or row.first_name} {row.last_name}"
        child = planner.child(row, name)
        planner.consents(row, name, child)
        planner.biometric(row, name, child)
    if mark_leavers:
        planner.leavers({row.mis_id for row in parsed.rows})
    report.consent_changes.sort(key=lambda c: (c.mis_id, c.channel))
    if apply_as:
        session.flush()
        _after_changes(session, report, existing)
    return report


class _Planner:
    """The register as it was before the file, and the report (and changes) made row by row."""

    def __init__(
        self,
        session: Session,
        report: RosterReport,
        existing: dict[str, Child],
        apply_as: str | None,
    ) -> None:
        ids = [c.id for c in existing.values()]
        self.session, self.report, self.existing, self.apply_as = (
            session,
            report,
            existing,
            apply_as,
        )
        self.current = current_consents(session, ids)
        self.biometric_states = biometric_states(session, ids)
        self.channel_ids = {c.code: c.id for c in checked_channels(session)}

    def child(self, row: RosterRow, name: str) -> Child | None:
        """The row's child, added or updated (None: a new child in a dry run)."""
        child = self.existing.get(row.mis_id)
        if child is None:
            added = {
                f: (None, getattr(row, f)) for f in _FIELDS if getattr(row, f) not in (None, "")
            }
            self.report.added.append(ChildDiff(row.mis_id, name, added))
            if self.apply_as:
                child = _new_child(row)
                self.session.add(child)
                self.session.flush()
            return child
        changes = {
            f: (getattr(child, f), getattr(row, f))
            for f in _FIELDS
            if getattr(child, f) != getattr(row, f)
        }
        if changes:
            self.report.updated.append(ChildDiff(row.mis_id, name, changes))
        if not child.on_roll:
            self.report.returned.append(ChildDiff(row.mis_id, name, {"on_roll": (False, True)}))
        if self.apply_as:
            for f, (_old, new) in changes.items():
                setattr(child, f, new)
            child.on_roll, child.date_left = True, None
        if not changes and child.on_roll:
            self.report.unchanged += 1
        return child

    def consents(self, row: RosterRow, name: str, child: Child | None) -> None:
        pk = child.id if child is not None else None
        for code, granted in row.consents.items():
            before = self.current.get((pk, code)) if pk is not None else None
            fresh = _fresher(before, row.consent_date)
            if before is not None and before.granted == granted and not (granted and fresh):
                continue
            if (
                granted
                and before is not None
                and not before.granted
                and (before.source == "manual" or (before.source == LAPSED_SOURCE and not fresh))
            ):
                # A "no" recorded by hand (a parent's letter) is newer evidence than an MIS
                # export that still says yes: the roster never overturns it. Nor does an export
                # that says yes with no newer date renew consent that lapsed at its review.
                self.report.kept_withdrawals.append(
                    ConsentDiff(row.mis_id, name, code, before.granted, granted)
                )
                continue
            if before is not None and before.granted == granted:
                self.report.renewed.append(
                    ConsentDiff(row.mis_id, name, code, True, True, row.consent_date)
                )
            else:
                was = before.granted if before else None
                self.report.consent_changes.append(
                    ConsentDiff(row.mis_id, name, code, was, granted)
                )
            if self.apply_as and child is not None:
                self.session.add(
                    ConsentRecord(
                        child_id=child.id,
                        channel_id=self.channel_ids[code],
                        granted=granted,
                        given_on=row.consent_date,
                        recorded_by=self.apply_as,
                        source="roster",
                    )
                )

    def biometric(self, row: RosterRow, name: str, child: Child | None) -> None:
        if row.biometric is None:
            return
        pk = child.id if child is not None else None
        state = self.biometric_states.get(pk, NO_BIOMETRIC_CONSENT) if pk else None
        before = state.parent_consent if state and pk in self.biometric_states else None
        if before == row.biometric or (before is None and not row.biometric):
            return
        self.report.consent_changes.append(
            ConsentDiff(row.mis_id, name, "biometric", before, row.biometric)
        )
        if self.apply_as and child is not None:
            event = (
                BiometricEvent.PARENT_CONSENT if row.biometric else BiometricEvent.PARENT_WITHDRAWAL
            )
            self.session.add(
                BiometricRecord(
                    child_id=child.id,
                    event=event,
                    given_on=row.consent_date,
                    recorded_by=self.apply_as,
                    source="roster",
                )
            )

    def leavers(self, in_file: set[str]) -> None:
        for mis_id, child in self.existing.items():
            if child.on_roll and mis_id not in in_file:
                self.report.left.append(
                    ChildDiff(mis_id, child.display_name, {"on_roll": (True, False)})
                )
                if self.apply_as:
                    child.on_roll, child.date_left = False, date.today()


def _after_changes(session: Session, report: RosterReport, existing: dict[str, Child]) -> None:
    """Leavers and biometric withdrawals lose their templates; changed children's photos are
    re-decided (a withdrawn consent or a leaver must not stay "ready")."""
    touched = {c.mis_id for c in (*report.consent_changes, *report.renewed)}
    touched |= {d.mis_id for d in (*report.left, *report.returned, *report.updated)}
    ids = [existing[m].id for m in touched if m in existing]
    withdrawn = {
        c.mis_id for c in report.consent_changes if c.channel == "biometric" and not c.after
    }
    for mis_id in withdrawn | {d.mis_id for d in report.left}:
        if mis_id in existing:
            delete_templates(session, existing[mis_id].id)
    on_consent_change(session, ids)
    moved = {
        existing[d.mis_id].id: int(d.changes["year_group"][0])
        for d in report.updated
        if "year_group" in d.changes and d.mis_id in existing
    }
    report.rerouted = reroute_moved_up(session, moved)


def _fresher(before: ConsentRecord | None, consent_date: date | None) -> bool:
    """Whether the roster's consent date is newer than the current record's: a fresh form."""
    if before is None or consent_date is None:
        return False
    return consent_date > (before.given_on or before.recorded_at.date())


def _new_child(row: RosterRow) -> Child:
    return Child(
        mis_id=row.mis_id,
        first_name=row.first_name,
        last_name=row.last_name,
        preferred_name=row.preferred_name,
        year_group=row.year_group,
        class_name=row.class_name,
        on_roll=True,
    )
