"""Restoring a backup archive onto an empty station (or, with force, over one).

Everything is checked before anything on the target changes: the passphrase opens the wrapped
key, the key's MAC over the manifest holds (the archive is the one a station with this key
wrote), every file matches its SHA-256, the database is this key's register and upgrades to the
newest schema, and its audit chain and record seals verify against the archived anchor. Only
then does the restore switch over, in the order that leaves a usable station at every step:
vault files first (content-addressed, so an extra file is harmless), then the key, then the
database (SQLite: one rename; PostgreSQL: one transaction that makes the schema and copies every
row), then the anchor. The target is whatever the station would open: `--home`,
`IJS_VETTING_DB` and `IJS_VETTING_KEY_DIR`; restoring a SQLite station's archive onto an empty
PostgreSQL database is how a school moves to several stations.

No user is logged in: an empty station has none, and the archive and its passphrase are the
authority (they are the register and its key). The restore is recorded in the restored audit
log, by the operating-system user who ran it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import OperationalError

from ijs_vetting.audit_anchor import Anchor
from ijs_vetting.config import StationPaths, acting_username, database_url, resolve_home
from ijs_vetting.crypto import KEY_DIR_ENV, Sealer, key_dir, read_key
from ijs_vetting.db.audit_log import append_entry
from ijs_vetting.db.engine import (
    alembic_config,
    create_db_engine,
    current_revision,
    upgrade_to_head,
)
from ijs_vetting.db.models import AuditEntry, Child, Photo, Setting, User
from ijs_vetting.db.table_copy import count_rows
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.json_report import JsonFields
from ijs_vetting.key_wrap import KeyFileRefused, unwrap_key
from ijs_vetting.progress import Progress
from ijs_vetting.scratch import scratch_dir
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.core.station_key import KEY_FINGERPRINT, STATION_ID
from ijs_vetting.services.privacy.audit import check_chain
from ijs_vetting.services.privacy.backup import SUFFIX, make_backup
from ijs_vetting.services.privacy.backup_archive import (
    ANCHOR,
    DATABASE,
    WRAPPED_KEY,
    ArchiveReader,
    vault_name,
)
from ijs_vetting.services.privacy.restore_switch import Switched, switch_over
from ijs_vetting.vault import read_marker

ACTION = "backup.restore"
NOTHING = "nothing was restored"


@dataclass
class RestoreReport(JsonFields):
    archive: Path
    made_at: str
    station_id: str
    key_fingerprint: str
    source_backend: str
    target_backend: str
    target: str
    schema_revision: str
    upgraded: bool
    tables: dict[str, int]
    vault_files: int
    vault_written: int = 0
    vault_missing_at_backup: int = 0
    audit_entries: int = 0
    replaced: bool = False  # a register was on the target (--force)
    # Where the replaced register was kept: SQLite, a copy of its file; PostgreSQL, a backup
    # archive of it wrapped with the same passphrase (both in the home's backups folder).
    previous_database: str | None = None
    previous_anchor: str | None = None  # an older anchor for this register, moved aside
    key_installed: bool = False  # False: the target already had this very key

    def switched(self, done: Switched) -> None:
        """What the switch-over wrote and kept aside (a shared database's register was kept
        before it, by `_keep_register`; SQLite's replaced file is kept by the switch)."""
        self.vault_written, self.key_installed = done.vault_written, done.key
        if done.previous_database is not None:
            self.previous_database = done.previous_database
        self.previous_anchor = done.previous_anchor


def restore_backup(
    archive: Path,
    passphrase: str,
    *,
    home: str | None = None,
    url: str | None = None,
    vault: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    by: str | None = None,
) -> RestoreReport:
    """Check `archive` completely, then make it the station at `home` / `url` with its vault in
    `vault` (else the usual: `IJS_VETTING_VAULT`, the station's setting, the home's own); `by`
    names who restored it in the restored audit log (default: the operating-system user).

    The refusals come first and in one place, each before anything is changed (a register
    already there, another register's vault, another key under this id); the switch-over
    follows only once the whole archive has been checked. Split, that order would be harder to
    see."""
    progress = progress or Progress()
    by = by or f"restore ({acting_username()})"
    paths = resolve_home(home, vault)
    target_url = url or database_url(paths)
    reader = ArchiveReader(archive.expanduser().resolve())
    try:
        key, station_id = _open_key(reader, passphrase)
        sealer = Sealer(key)
        reader.check_mac(sealer)
        target = create_db_engine(target_url)
        try:
            held = _register_on(target)
            if held and not force:
                raise ServiceError(
                    f"The target station already holds a register ({held}); restore onto an "
                    f"empty station, or add --force to replace it; {NOTHING}."
                )
            owner = read_marker(paths.vault)
            if owner is not None and owner != station_id:
                raise ServiceError(
                    f"The vault folder {paths.vault} belongs to another register ({owner}); "
                    f"restore into an empty folder; {NOTHING}."
                )
            present = read_key(station_id)
            in_file = (key_dir() / f"{station_id}.key").is_file()
            if present is not None and present != key and not (force and in_file):
                where = key_dir() if in_file else "The system keyring"
                raise ServiceError(
                    f"{where} already holds a different key for this register's id "
                    f"{station_id}; point {KEY_DIR_ENV} elsewhere"
                    f"{' or add --force' if in_file else ' or remove that entry'}; {NOTHING}."
                )
            with scratch_dir(paths, "restore") as scratch:
                staged = scratch / "station.db"
                report = _check(reader, staged, sealer, station_id, progress)
                report.target_backend = target.dialect.name
                report.target = target.url.render_as_string(hide_password=True)
                report.replaced = bool(held)
                if held and target.dialect.name != "sqlite":
                    report.previous_database = _keep_register(
                        home, target_url, vault, passphrase, by, progress
                    )
                progress.check()  # the last moment Cancel can stop it: switching must finish
                steps = progress.uncancellable()
                done = switch_over(reader, station_id, paths, target, staged, key, steps)
                report.switched(done)
        finally:
            target.dispose()
    finally:
        reader.close()
    _record(home, url, report, by)
    return report


def _keep_register(
    home: str | None, url: str, vault: str | None, passphrase: str, by: str, progress: Progress
) -> str:
    """Back up the register a forced restore is about to replace on a shared database into the
    home's backups folder, with the restore's passphrase: its rows are overwritten in place
    (no file to keep, as on SQLite), and a wrong archive restored over the school's register
    must be undoable. A register that cannot be backed up (its key not on this PC) is not
    replaced."""
    try:
        station = open_station(home, url=url, vault=vault)
    except ServiceError as exc:
        raise ServiceError(
            f"The register on the target cannot be kept before it is replaced ({exc}); {NOTHING}."
        ) from exc
    try:
        out = station.paths.backups / f"register-before-restore-{utcnow():%Y%m%dT%H%M%S%f}Z{SUFFIX}"
        out.parent.mkdir(parents=True, exist_ok=True)
        make_backup(station, Actor(by, Role.ADMIN), out, passphrase, progress)
    finally:
        station.close()
    return str(out)


def restore_over(
    station: Station,
    actor: Actor,
    archive: Path,
    passphrase: str,
    progress: Progress | None = None,
) -> RestoreReport:
    """Restore `archive` over the open `station` (admins; the app's Admin > Restore…). Its
    database connections are closed first, so no connection of the running app holds the file
    being replaced; a refused restore leaves the station working (they reopen on demand)."""
    station.require(actor, ACTION, Role.ADMIN)
    url = station.engine.url.render_as_string(hide_password=False)
    station.engine.dispose()
    return restore_backup(
        archive,
        passphrase,
        home=str(station.paths.home),
        url=url,
        vault=str(station.paths.vault),
        force=True,
        progress=progress,
        by=f"{actor.username} (restore)",
    )


def _open_key(reader: ArchiveReader, passphrase: str) -> tuple[bytes, str]:
    try:
        unwrapped = unwrap_key(reader.read(WRAPPED_KEY), passphrase)
    except KeyFileRefused as exc:
        if "passphrase is wrong" in str(exc):
            raise ServiceError(
                f"The passphrase is wrong for the backup {reader.path.name} (or its key was "
                f"changed); {NOTHING}."
            ) from exc
        raise reader.damaged(str(exc).rstrip(".")) from exc
    manifest = reader.manifest
    if unwrapped.key_id != manifest.get("station_id") or unwrapped.fingerprint != manifest.get(
        "key_fingerprint"
    ):
        raise reader.damaged("its key is not the one its manifest names")
    return unwrapped.key, unwrapped.key_id


def _register_on(engine: Engine) -> str:
    """What register the target already holds, in words ("" for none). A SQLite file that is
    not there is not created by looking."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or not Path(database).is_file():
            return ""
    try:
        with engine.connect() as conn:
            if "audit_entries" not in inspect(conn).get_table_names():
                return ""
            counts = {
                name: int(conn.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (
                    ("children", Child),
                    ("photos", Photo),
                    ("users", User),
                    ("audit entries", AuditEntry),
                )
            }
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        why = " ".join(str(exc.orig).split())  # the driver's message may span lines
        raise ServiceError(f"Cannot reach the target database {where}: {why}; {NOTHING}.") from exc
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n)


def _check(
    reader: ArchiveReader, staged: Path, sealer: Sealer, station_id: str, progress: Progress
) -> RestoreReport:
    """Verify everything in the archive, leaving the upgraded database at `staged`."""
    manifest = reader.manifest
    vault_keys = reader.vault_keys()
    progress.start(len(vault_keys) + 1, "Checking the archive…")
    reader.extract(DATABASE, staged)
    for key in vault_keys:
        reader.read(vault_name(key))
        progress.step()
    anchor = None
    if ANCHOR in reader.files:
        raw = json.loads(reader.read(ANCHOR))
        anchor = Anchor(int(raw["entries"]), raw["entry_id"], raw["entry_hash"])
    engine = create_db_engine(f"sqlite:///{staged}")
    try:
        revision = current_revision(engine)
        known = {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if revision not in known:
            raise ServiceError(
                f"The backup {reader.path.name} was made by a newer version of IJS Vetting "
                f"(schema {revision}); update this station first; {NOTHING}."
            )
        upgraded = upgrade_to_head(engine)
        staging = Station(StationPaths(staged.parent), engine, sealer)
        with staging.read() as session:
            ident = session.get(Setting, STATION_ID)
            recorded = session.get(Setting, KEY_FINGERPRINT)
            if ident is None or str(ident.value["id"]) != station_id:
                raise reader.damaged("its database is not the register its key belongs to")
            if recorded is None or recorded.value["fingerprint"] != manifest["key_fingerprint"]:
                raise reader.damaged("its database records another key")
            chain = check_chain(session, anchor)
            if not chain.ok:
                raise ServiceError(
                    f"The backup's audit chain does not verify ({chain.reason}); {NOTHING}."
                )
            tables = count_rows(session.connection())
    finally:
        engine.dispose()
    progress.step()
    return RestoreReport(
        archive=reader.path,
        made_at=str(manifest.get("made_at")),
        station_id=station_id,
        key_fingerprint=str(manifest["key_fingerprint"]),
        source_backend=str(manifest.get("source_backend")),
        target_backend="",
        target="",
        schema_revision=str(manifest.get("schema_revision")),
        upgraded=upgraded,
        tables=tables,
        vault_files=len(vault_keys),
        vault_missing_at_backup=len(manifest.get("vault_missing", [])),
        audit_entries=chain.entries,
    )


def _record(home: str | None, url: str | None, report: RestoreReport, by: str) -> None:
    """Open the restored station as any start would (key, anchor and schema checked) and
    record the restore in its audit log."""
    station = open_station(home, url)
    try:
        with station.transaction() as session:
            append_entry(
                session,
                actor=by,
                action=ACTION,
                target_type="backup",
                target_id=report.archive.name,
                summary=f"restored the backup made {report.made_at} from {report.archive.name}",
                details=report.as_json(),
            )
    finally:
        station.close()
