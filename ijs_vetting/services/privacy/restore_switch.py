"""The last step of a restore: the checked archive made the target station.

Nothing here checks anything: `services.privacy.restore` has verified the passphrase, the
archive's MAC and hashes, the database's register, schema, chain and seals before it calls
`switch_over`. What is replaced is kept aside, never overwritten: a different key file, the
database file (copied to the home's backups folder) and the anchor.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import anchor_path, write_anchor
from ijs_vetting.config import StationPaths
from ijs_vetting.crypto import install_key, key_dir, read_key
from ijs_vetting.db.audit_log import chain_tip
from ijs_vetting.db.engine import create_db_engine
from ijs_vetting.db.table_copy import copy_rows, empty_schema
from ijs_vetting.db.types import utcnow
from ijs_vetting.progress import Progress
from ijs_vetting.services.privacy.backup_archive import ArchiveReader, vault_name
from ijs_vetting.vault import Vault, write_marker


class Switched(NamedTuple):
    vault_written: int  # vault files written (those already there are not)
    key: bool  # the key was installed (it was not already there)
    previous_database: str | None  # where the database it replaced was kept
    previous_anchor: str | None  # where the anchor it replaced was moved


def switch_over(
    reader: ArchiveReader,
    station_id: str,
    paths: StationPaths,
    target: Engine,
    staged: Path,
    key: bytes,
    progress: Progress,
) -> Switched:
    """Make the checked archive the target station, in the order that leaves a usable station
    at every step: vault files, the key, the database, the anchor."""
    moment = f"{utcnow():%Y%m%dT%H%M%S}"
    paths.ensure()
    vault = Vault(paths.vault)
    keys = reader.vault_keys()
    progress.start(len(keys) + 1, "Restoring the vault…")
    written = 0
    for name in keys:
        written += vault.put_stored(name, reader.read(vault_name(name)))
        progress.step()
    write_marker(paths.vault, station_id)  # the register's vault, as on the old PC
    installed = _install_key(station_id, key, moment)
    previous_database = None
    if target.dialect.name == "sqlite":
        previous_database = _replace_sqlite(target, staged, paths, moment)
    else:
        source = create_db_engine(f"sqlite:///{staged}")
        try:
            with source.connect() as rows, target.begin() as conn:
                empty_schema(conn)
                copy_rows(rows, conn)
        finally:
            source.dispose()
    progress.step()
    return Switched(
        written, installed, previous_database, _replace_anchor(station_id, target, moment)
    )


def _install_key(station_id: str, key: bytes, moment: str) -> bool:
    present = read_key(station_id)
    if present == key:
        return False
    if present is not None:  # --force: a different key file under this id is kept aside
        path = key_dir() / f"{station_id}.key"
        path.rename(path.with_name(f"{path.name}.before-restore-{moment}"))
    install_key(station_id, key)
    return True


def _replace_sqlite(target: Engine, staged: Path, paths: StationPaths, moment: str) -> str | None:
    """Put the staged database in place of the target file with one rename; an existing file
    is first copied to the home's backups folder (SQLite's online backup, WAL included)."""
    database = target.url.database
    assert database
    file = Path(database)
    file.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    target.dispose()
    if file.is_file():
        paths.backups.mkdir(parents=True, exist_ok=True)
        copy = paths.backups / f"station-before-restore-{moment}.db"
        with closing(sqlite3.connect(file)) as src, closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        kept = str(copy)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.restore-")
    os.close(fd)
    try:
        with closing(sqlite3.connect(staged)) as src, closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
        for stale in (Path(f"{file}-wal"), Path(f"{file}-shm")):  # the old file's journal
            stale.unlink(missing_ok=True)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return kept


def _replace_anchor(station_id: str, target: Engine, moment: str) -> str | None:
    """Anchor the restored chain. An anchor this key folder kept for the register (a newer
    chain than the backup's, or the one replaced) is moved aside, not silently overwritten."""
    path = anchor_path(key_dir(), station_id)
    aside = None
    if path.exists():
        aside = path.with_name(f"{path.name}.before-restore-{moment}")
        path.rename(aside)
    with Session(target) as session:
        tip = chain_tip(session)
    write_anchor(path, tip, make=True)
    return str(aside) if aside else None
