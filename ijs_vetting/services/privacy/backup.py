"""Backing a station up into one archive, to a file or a folder that keeps the last N (admins).

The archive (see `backup_archive`) holds a consistent snapshot of the register, the vault files
that snapshot names, the audit chain's anchor and the key wrapped with a passphrase. The anchor
is read *before* the snapshot is taken: it only moves forward after a commit, so the snapshot's
chain always extends it, and a restore can check the chain against it.

A vault file is checked as it is read (an original against its SHA-256, a sealed file against
its authentication tag): a file changed in the vault is left out and named in the report rather
than carried into the backup as if it were good. Files the register still names but retention
removed (posted originals) are listed as not in the vault.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import AnchorUnreadable, read_anchor
from ijs_vetting.crypto import read_key
from ijs_vetting.db.audit_log import chain_tip
from ijs_vetting.db.engine import create_db_engine, current_revision
from ijs_vetting.db.models import AuditEntry, FaceTemplate, Form, Photo, QueueItem, Setting
from ijs_vetting.db.table_copy import count_rows, snapshot
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, Role, ServiceError
from ijs_vetting.json_report import JsonFields
from ijs_vetting.key_wrap import check_passphrase, wrap_key
from ijs_vetting.progress import Progress
from ijs_vetting.scratch import scratch_dir
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_key import KEY_FINGERPRINT, STATION_ID
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.privacy.backup_archive import (
    ANCHOR,
    DATABASE,
    WRAPPED_KEY,
    ArchiveWriter,
    vault_name,
)
from ijs_vetting.services.register.forms import FORM
from ijs_vetting.services.register.templates import REFERENCE
from ijs_vetting.vault import VaultFileAltered, VaultFileMissing

ACTION = "backup.create"
KEY_EXPORT_ACTION = "key.export"
SUFFIX = ".ijsbackup"
_SCHEDULED = re.compile(r"^ijs-vetting-\d{8}T\d{12}Z" + re.escape(SUFFIX) + "$")


@dataclass
class BackupReport(JsonFields):
    file: Path
    made_at: datetime
    snapshot: str  # how the database was copied (sqlite-online-backup | postgresql-repeatable-read)
    schema_revision: str
    tables: dict[str, int]
    vault_files: int = 0
    vault_missing: list[str] = field(default_factory=list)  # named by the register, not stored
    vault_altered: list[str] = field(default_factory=list)  # changed in the vault: left out
    audit_entries: int = 0
    key_fingerprint: str = ""
    bytes: int = 0
    sha256: str = ""
    deleted: list[str] = field(default_factory=list)  # older archives a --keep removed


def _station_key(station: Station) -> tuple[str, bytes, str]:
    """The station's id, key and fingerprint, as `open_station` checked them."""
    with station.read() as session:
        ident, recorded = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
        assert ident is not None and recorded is not None  # made by `open_station`
    station_id = str(ident.value["id"])
    key = read_key(station_id)
    if key is None:
        raise ServiceError("This station's key cannot be read now; nothing was backed up.")
    return station_id, key, str(recorded.value["fingerprint"])


def make_backup(
    station: Station,
    actor: Actor,
    out: Path,
    passphrase: str,
    progress: Progress | None = None,
) -> BackupReport:
    """Write the station's backup archive to `out` (admins; audited once it is written).

    The steps stay in one function because their order is the promise: the database is copied
    and counted first, then the files it names, the key (locked with the passphrase) and the
    anchor are added, and only a complete archive is moved into place and audited."""
    station.require(actor, ACTION, Role.ADMIN)
    check_passphrase(passphrase)
    progress = progress or Progress()
    out = out.expanduser().resolve()
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder; give the archive's file name (or --to-folder).")
    station_id, key, key_fingerprint = _station_key(station)
    anchor = None
    if station.anchor is not None:
        try:
            anchor = read_anchor(station.anchor)
        except AnchorUnreadable as exc:
            raise ServiceError(f"{exc}; nothing was backed up.") from exc
    made_at = utcnow()
    with scratch_dir(station.paths, "backup") as scratch:
        copy = scratch / "station.db"
        progress.start(0, "Copying the database…")
        how = snapshot(station.engine, copy, lambda table, n: progress.check())
        engine = create_db_engine(f"sqlite:///{copy}")
        try:
            with Session(engine) as session:
                revision = current_revision(engine) or ""
                tables = count_rows(session.connection())
                wanted = _referenced(session)
                tip = chain_tip(session)
        finally:
            engine.dispose()
        report = BackupReport(out, made_at, how, revision, tables, key_fingerprint=key_fingerprint)
        report.audit_entries = tip.entries
        with ArchiveWriter(out) as archive:
            archive.add_file(DATABASE, copy, compress=True)
            progress.start(len(wanted), "Copying the vault…")
            for name, purpose in sorted(wanted.items()):
                _add_vault_file(station, archive, name, purpose, report)
                progress.step()
            archive.add_bytes(WRAPPED_KEY, wrap_key(key, station_id, passphrase))
            if anchor is not None:
                archive.add_bytes(ANCHOR, json.dumps(anchor.as_json()).encode("utf-8"))
            progress.check()
            report.sha256 = archive.finish(
                {
                    "made_at": made_at.isoformat(),
                    "made_by": actor.username,
                    "station_id": station_id,
                    "key_fingerprint": key_fingerprint,
                    "schema_revision": revision,
                    "source_backend": station.engine.dialect.name,
                    "snapshot": how,
                    "tables": tables,
                    "audit": {"entries": tip.entries, "tip_id": tip.entry_id},
                    "vault_missing": report.vault_missing,
                    "vault_altered": report.vault_altered,
                },
                station.sealer,
            )
    report.bytes = out.stat().st_size
    _audit(station, actor, report)
    return report


def _referenced(session: Session) -> dict[str, bytes | None]:
    """Every vault file the snapshot names, with its seal's purpose (None: a plain file)."""
    wanted: dict[str, bytes | None] = {}
    for column, purpose in (
        (Photo.sha256, None),
        (QueueItem.image_sha256, None),
        (Form.sha256, FORM),
        (FaceTemplate.reference_sha256, REFERENCE),
    ):
        for sha in session.scalars(select(column).where(column.is_not(None))):
            if sha:
                wanted[sha] = purpose
    return wanted


def _add_vault_file(
    station: Station,
    archive: ArchiveWriter,
    name: str,
    purpose: bytes | None,
    report: BackupReport,
) -> None:
    try:
        if purpose is None:
            data = station.vault.read_bytes(name)
        else:
            station.vault.read_sealed(name, purpose)
            data = station.vault.stored_bytes(name)
    except VaultFileMissing:
        report.vault_missing.append(name)
        return
    except VaultFileAltered:
        report.vault_altered.append(name)
        return
    archive.add_bytes(vault_name(name), data)
    report.vault_files += 1


def _audit(station: Station, actor: Actor, report: BackupReport) -> None:
    with station.write(actor, ACTION, Role.ADMIN) as w:
        w.audit(
            f"backed the station up to {report.file.name}",
            target_type="backup",
            target_id=report.sha256[:16],
            details={
                "file": str(report.file),
                "sha256": report.sha256,
                "bytes": report.bytes,
                "snapshot": report.snapshot,
                "vault_files": report.vault_files,
                "vault_missing": len(report.vault_missing),
                "vault_altered": report.vault_altered,
                "audit_entries": report.audit_entries,
                "deleted": report.deleted,
            },
        )


def backup_to_folder(
    station: Station,
    actor: Actor,
    folder: Path,
    passphrase: str,
    keep: int | None = None,
    progress: Progress | None = None,
) -> BackupReport:
    """A new archive in `folder` named by the time, then only the newest `keep` (default the
    `backup.keep` setting) of the archives this command wrote there are kept. Other files in
    the folder are never touched; an older archive is deleted only once the new one is whole."""
    keep = int(current(station).values["backup.keep"]) if keep is None else keep
    if keep < 1:
        raise InvalidInput("--keep must be at least 1 (the archive just made).")
    folder = folder.expanduser().resolve()
    made = utcnow()
    out = folder / f"ijs-vetting-{made:%Y%m%dT%H%M%S%f}Z{SUFFIX}"  # sorts by time
    station.require(actor, ACTION, Role.ADMIN)  # before the folder is made
    folder.mkdir(parents=True, exist_ok=True)
    report = make_backup(station, actor, out, passphrase, progress)
    archives = sorted(p for p in folder.iterdir() if _SCHEDULED.match(p.name) and p.is_file())
    for old in archives[:-keep]:
        if old != out:
            old.unlink()
            report.deleted.append(old.name)
    return report


def last_backup(station: Station) -> datetime | None:
    """When this register was last backed up (its newest audited backup)."""
    with station.read() as session:
        return session.scalar(
            select(AuditEntry.at)
            .where(AuditEntry.action == ACTION, AuditEntry.target_type == "backup")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )


def backup_reminder(station: Station, now: datetime | None = None) -> str | None:
    """A sentence for the admin when no backup was made for `backup.remind_days`, else None."""
    days = int(current(station).values["backup.remind_days"])
    last = last_backup(station)
    now = now or utcnow()
    if last is not None and now - last < timedelta(days=days):
        return None
    when = "has never been backed up" if last is None else f"was last backed up {last:%d %B %Y}"
    return (
        f"This station {when}. Back it up now (Admin > Backup…): a dead PC would otherwise "
        "lose the school's record of every consent."
    )


def export_key(station: Station, actor: Actor, out: Path, passphrase: str) -> tuple[Path, str]:
    """Write the station key wrapped with `passphrase` to `out` (admins; audited): for a new
    station joining this register or a key kept apart from the backups. Never in clear."""
    station.require(actor, KEY_EXPORT_ACTION, Role.ADMIN)
    check_passphrase(passphrase)
    out = out.expanduser().resolve()
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder; give the key file's name.")
    station_id, key, key_fingerprint = _station_key(station)
    wrapped = wrap_key(key, station_id, passphrase)
    try:
        with station.write(actor, KEY_EXPORT_ACTION, Role.ADMIN) as w:
            _write_atomically(out, wrapped)
            w.audit(
                f"exported the station key {key_fingerprint} (wrapped with a passphrase)",
                target_type="key",
                target_id=key_fingerprint,
                details={"file": str(out)},
            )
    except BaseException:
        out.unlink(missing_ok=True)  # an export the audit does not record must not stand
        raise
    return out, key_fingerprint


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
