"""Retention: deleting what the station no longer needs, on the periods in the settings.

One run (admins only, one audited transaction) applies every rule:
- rejected photos, N days after their rejection: the original, the record and its faces (a
  rejected photo that once had a queue item keeps a bare record, since the item refers to it);
- originals of posted photos, M days after posting: the posted rendering and the queue item stay
  as the record of what went public; the photo's record shows its original is gone;
- face templates of children no longer on roll (their reference photos too);
- leavers whose `date_left` is older than the leaver period: erased entirely, exactly as
  `child erase` does (`services.subject_rights`);
- vault files no row refers to (left by an interrupted run, or a rendering that failed its
  check), once they are a day old so a file being imported right now is never taken.

Photo-face encodings are never stored (they exist only in memory while a photo is matched), so
there are none to delete; the report says so rather than pretending. The audit trail is never
deleted. `dry_run` reports what a run would delete and changes nothing (and is not audited).
`now` exists so tests (and a DPO's "what if") can run the rules at a chosen moment.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, FaceTemplate, Photo, QueueItem
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, PhotoStatus, Role
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.privacy.subject_rights import (
    delete_blobs,
    erase_in_session,
    referenced_blobs,
)
from ijs_vetting.services.register.templates import delete_templates
from ijs_vetting.settings import Retention

ACTION = "retention.run"
ORPHAN_MIN_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Cutoffs:
    """Anything dated before these is past its period."""

    rejected: datetime
    posted: datetime
    left: date

    @classmethod
    def at(cls, now: datetime, periods: Retention) -> Cutoffs:
        return cls(
            rejected=now - timedelta(days=periods.rejected_originals_days),
            posted=now - timedelta(days=periods.posted_originals_days),
            left=years_before(now.date(), periods.leaver_records_years),
        )


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass
class RetentionReport:
    dry_run: bool
    now: datetime
    cutoffs: Cutoffs
    rejected_photos: list[int] = field(default_factory=list)  # photo ids purged
    posted_originals: list[int] = field(default_factory=list)  # photo ids whose original went
    template_children: list[str] = field(default_factory=list)  # MIS ids not on roll
    templates_deleted: int = 0
    leavers_erased: list[str] = field(default_factory=list)  # MIS ids
    takedowns: list[int] = field(default_factory=list)  # posted items showing erased leavers
    withdrawn: list[int] = field(default_factory=list)  # queue items stopped for erased leavers
    backups_deleted: int = 0  # pre-upgrade database copies past their period
    unreferenced_files: int = 0  # vault files nothing refers to (deleted, or would be)
    files_deleted: int = 0
    file_errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "now": self.now.isoformat(),
            "cutoffs": {
                "rejected_before": self.cutoffs.rejected.isoformat(),
                "posted_before": self.cutoffs.posted.isoformat(),
                "left_before": self.cutoffs.left.isoformat(),
            },
            "rejected_photos": self.rejected_photos,
            "posted_originals": self.posted_originals,
            "templates": {"children": self.template_children, "deleted": self.templates_deleted},
            "leavers_erased": self.leavers_erased,
            "withdrawn": self.withdrawn,
            "takedowns": self.takedowns,
            "photo_face_encodings": 0,  # never stored: nothing to delete
            "unreferenced_files": self.unreferenced_files,
            "backups_deleted": self.backups_deleted,
            "files_deleted": self.files_deleted,
            "file_errors": self.file_errors,
        }

    def audit_details(self) -> dict[str, Any]:
        """Ids and counts only (no names): the audit row outlives everything it mentions. File
        counts are left out: files go after the commit, and failures are logged."""
        details = self.as_json()
        for key in ("dry_run", "unreferenced_files", "files_deleted", "file_errors"):
            details.pop(key)
        return details

    @property
    def summary(self) -> str:
        return (
            f"retention: {len(self.rejected_photos)} rejected photos purged, "
            f"{len(self.posted_originals)} posted originals deleted, "
            f"{self.templates_deleted} templates of children not on roll deleted, "
            f"{len(self.leavers_erased)} leavers erased"
        )


def run_retention(
    station: Station, actor: Actor, *, dry_run: bool = False, now: datetime | None = None
) -> RetentionReport:
    """Apply the retention periods (admins only); see the module doc for what goes."""
    station.require(actor, ACTION, Role.ADMIN)
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidInput("The retention clock must be a UTC-aware time.")
    report = RetentionReport(
        dry_run, now.astimezone(UTC), Cutoffs.at(now, current(station).retention)
    )
    if dry_run:
        with station.read() as session:
            _plan(station, session, report, actor.username, apply=False)
        return report
    with station.write(actor, ACTION, Role.ADMIN) as w:
        blobs, originals = _plan(station, w.session, report, actor.username, apply=True)
        w.audit(report.summary, target_type="retention", details=report.audit_details())
    report.files_deleted, report.file_errors = delete_blobs(station, blobs, originals)
    report.backups_deleted = _old_backups(station, now, apply=True)
    swept, errors = _sweep_unreferenced(station, apply=True)
    report.unreferenced_files = swept + len(errors)
    report.files_deleted += swept
    report.file_errors += errors
    return report


def _plan(
    station: Station, session: Session, report: RetentionReport, username: str, *, apply: bool
) -> tuple[set[str], set[str]]:
    """Fill `report` with what is past its period; with `apply`, delete the rows too. Returns
    the vault files to delete once the transaction has committed: files whose rows went, and
    photo originals (whose photo's record may stay)."""
    blobs = _leavers(session, report, username, apply=apply)
    blobs |= _templates_off_roll(session, report, apply=apply)
    originals = _rejected(station, session, report, apply=apply)
    originals |= _posted(station, session, report)
    if not apply:
        report.unreferenced_files = _sweep_unreferenced(station, apply=False)[0]
        report.backups_deleted = _old_backups(station, report.now, apply=False)
    return blobs, originals


def _old_backups(station: Station, now: datetime, *, apply: bool) -> int:
    """Pre-upgrade copies of the database older than `retention.backup_days`: they hold what
    retention and erasure removed, so they cannot be kept for ever either."""
    days = int(current(station).values["retention.backup_days"])
    cutoff = (now - timedelta(days=days)).timestamp()
    old = [p for p in station.paths.backups.glob("station-*.db") if p.stat().st_mtime < cutoff]
    if apply:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)


def _leavers(session: Session, report: RetentionReport, username: str, *, apply: bool) -> set[str]:
    """Leavers past the leaver period: erased (first, so their templates count there)."""
    leavers = list(
        session.scalars(
            select(Child)
            .where(
                Child.on_roll.is_(False),
                Child.date_left.is_not(None),
                Child.date_left < report.cutoffs.left,
            )
            .order_by(Child.mis_id)
        )
    )
    blobs: set[str] = set()
    for child in leavers:
        report.leavers_erased.append(child.mis_id)
        if apply:
            erasure = erase_in_session(session, child, username)
            report.withdrawn += erasure.withdrawn
            report.takedowns += erasure.takedown_ids
            blobs |= erasure.blobs
    return blobs


def _templates_off_roll(session: Session, report: RetentionReport, *, apply: bool) -> set[str]:
    """Templates of children not on roll (the roster import deletes them on leaving; this
    catches any made or kept since)."""
    rows = session.execute(
        select(Child.id, Child.mis_id, FaceTemplate.reference_sha256)
        .join(FaceTemplate, FaceTemplate.child_id == Child.id)
        .where(Child.on_roll.is_(False), Child.mis_id.not_in(report.leavers_erased))
        .order_by(Child.mis_id)
    ).all()
    children = dict.fromkeys((pk, mis_id) for pk, mis_id, _ in rows)
    report.template_children = [mis_id for _, mis_id in children]
    report.templates_deleted = len(rows)
    if apply:
        for pk, _ in children:
            delete_templates(session, pk)
    return {sha for _, _, sha in rows}


def _rejected(
    station: Station, session: Session, report: RetentionReport, *, apply: bool
) -> set[str]:
    """Rejected photos past the period: by SLT (`rejected_at`) or by the policy (a
    safeguarding flag: `vetted_at`, the last time the policy confirmed the rejection)."""
    cutoff = report.cutoffs.rejected
    photos = list(
        session.scalars(
            select(Photo)
            .where(
                Photo.status == PhotoStatus.REJECTED,
                or_(
                    Photo.rejected_at <= cutoff,
                    Photo.rejected_at.is_(None) & (Photo.vetted_at <= cutoff),
                ),
            )
            .order_by(Photo.id)
        )
    )
    with_items = set(
        session.scalars(
            select(QueueItem.photo_id).where(QueueItem.photo_id.in_([p.id for p in photos]))
        )
    )
    blobs: set[str] = set()
    for photo in photos:
        stored = station.vault.contains(photo.sha256)
        keep_record = photo.id in with_items
        if keep_record and not stored and not photo.faces:
            continue  # purged by an earlier run; the bare record stays for its queue item
        report.rejected_photos.append(photo.id)
        blobs.add(photo.sha256)
        if apply:
            if keep_record:
                photo.faces.clear()
                photo.status_note = "original deleted under the retention policy"
            else:
                session.delete(photo)
    if apply:
        session.flush()
    return blobs


def _posted(station: Station, session: Session, report: RetentionReport) -> set[str]:
    """Originals of photos posted before the cutoff (no row changes: the photo's record and
    the posted rendering stay)."""
    posted = select(QueueItem.photo_id).where(
        QueueItem.photo_id.is_not(None), QueueItem.posted_at <= report.cutoffs.posted
    )
    blobs: set[str] = set()
    for photo_id, sha in session.execute(
        select(Photo.id, Photo.sha256).where(Photo.id.in_(posted)).order_by(Photo.id)
    ):
        if station.vault.contains(sha):
            report.posted_originals.append(photo_id)
            blobs.add(sha)
    return blobs


def _sweep_unreferenced(station: Station, *, apply: bool) -> tuple[int, list[str]]:
    """Vault files (and crash leftovers `.incoming-*`) no row refers to, at least a day old.

    The age guard matters: an import writes the file just before committing its row."""
    root = station.vault.root
    if station.vault_fault is not None or not root.is_dir():
        return 0, []  # never sweep a folder that is not this register's vault
    limit = time.time() - ORPHAN_MIN_AGE_SECONDS
    candidates: dict[str, list[os.DirEntry[str]]] = {}
    for folder in os.scandir(root):
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        for entry in os.scandir(folder.path):
            if entry.is_file() and entry.stat().st_mtime < limit:
                key = "" if entry.name.startswith(".") else folder.name + entry.name
                candidates.setdefault(key, []).append(entry)
    with station.read() as session:
        # Every referenced name at once: one IN list per vault file would outgrow what the
        # database takes in a query once the vault is large.
        needed = referenced_blobs(session)
    doomed = [(key, e) for key, entries in candidates.items() if key not in needed for e in entries]
    if not apply:
        return len(doomed), []
    deleted, errors = 0, []
    for key, entry in doomed:
        try:
            if key:
                station.vault.remove(key)
            else:  # a write that never finished, so never made read-only
                os.unlink(entry.path)
            deleted += 1
        except OSError as exc:
            errors.append(f"{entry.name[:12]}: {exc.strerror or exc}")
    return deleted, errors
