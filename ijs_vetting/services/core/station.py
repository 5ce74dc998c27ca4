"""One open station: its folders, database and vault, and the write transaction every service uses.

`Station.write` is the single doorway for changes. It checks the acting user's role (a refusal is
itself audited, in its own transaction, and raised as `PermissionDenied`), opens one transaction,
and insists the service records exactly one audit entry before committing — a service that
forgets to audit fails loudly in tests instead of silently in a school.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ijs_vetting import scratch
from ijs_vetting.audit_anchor import anchor_path, write_anchor
from ijs_vetting.config import (
    StationPaths,
    database_url,
    resolve_home,
    station_name,
    write_station_file,
)
from ijs_vetting.crypto import (
    Sealer,
    key_dir,
)
from ijs_vetting.db import config_seals, record_seals
from ijs_vetting.db.audit_log import (
    MAKE_ANCHOR,
    STATION_NAME,
    TIP,
    append_entry,
    lock_for_writing,
)
from ijs_vetting.db.engine import IMMEDIATE, create_db_engine, session_factory, upgrade_to_head
from ijs_vetting.db.models import (
    AuditEntry,
    RegisterChanges,
    Setting,
)
from ijs_vetting.domain import InvalidInput, PermissionDenied, Role, ServiceError
from ijs_vetting.faults import storage_fault
from ijs_vetting.services.core.anchoring import anchor_this_pc
from ijs_vetting.services.core.legacy_seals import seal_legacy_data, seal_legacy_records
from ijs_vetting.services.core.permissions import refusal
from ijs_vetting.services.core.posting_folder import settle_folders
from ijs_vetting.services.core.station_key import recorded_station_id, station_key
from ijs_vetting.vault import Vault

STATION_NAME_CHARS = 64  # audit_entries.station
VAULT = "station.vault"  # set once the register's vault folder is claimed (its marker written)

log = logging.getLogger(__name__)

DATABASE_BUSY = (
    "The database is busy: another station or program is writing to it. "
    "Nothing was changed; try again in a moment."
)


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a service runs."""

    username: str
    role: Role


@dataclass
class Write:
    """An open write transaction; call `audit` once before the block ends."""

    session: Session
    actor: Actor
    action: str
    _entry: AuditEntry | None = field(default=None, init=False)

    def audit(
        self,
        summary: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Record what this call did; exactly once per write."""
        if self._entry is not None:
            raise RuntimeError(f"{self.action}: audited twice in one write")
        self._entry = append_entry(
            self.session,
            actor=self.actor.username,
            action=self.action,
            target_type=target_type,
            target_id=target_id,
            summary=summary,
            details=details,
        )
        return self._entry


class Station:
    """A station's data home and database, opened and upgraded to the newest schema.

    `engine`, `sessions` and `vault` are for the services alone: the fronts (GUI, CLI, demo) ask
    services for what they show, so every read that matters goes through one checked road
    (tests/test_fronts.py holds this)."""

    def __init__(
        self,
        paths: StationPaths,
        engine: Engine,
        sealer: Sealer,
        anchor: Path | None = None,
        name: str | None = None,
    ) -> None:
        self.paths = paths
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.sealer = sealer
        self.own_writes = 0  # write transactions this station committed (see services.changes)
        self.vault = Vault(paths.vault, sealer)
        record_seals.install(self.sessions, sealer.subkey(record_seals.KEY_PURPOSE))
        config_seals.install(self.sessions)
        # The name this station signs its audit entries with (the PC's, unless one was set or
        # is given: a joining PC, which has no settings yet).
        self.name = name or station_name(paths.home)
        self._sign_as(self.name)
        # The audit chain's anchor file beside the key (None: not anchored, as in some tests).
        self.anchor = anchor
        self.anchor_fault: str | None = None  # why the anchor is missing or unreadable at start
        event.listen(self.sessions, "after_commit", self._anchor_tip)
        event.listen(self.sessions, "after_rollback", _forget_tip)

    @property
    def database_label(self) -> str:
        """The database's URL for people to read (the password hidden): what `init` prints."""
        return self.engine.url.render_as_string(hide_password=True)

    def _anchor_tip(self, session: Session) -> None:
        """After a commit that audited, move the anchor to the chain's new tip. The commit
        stands even if this fails (the anchor then lags, which `audit verify` accepts)."""
        tip, make = session.info.pop(TIP, None), session.info.pop(MAKE_ANCHOR, False)
        if tip is None or self.anchor is None:
            return
        try:
            if not write_anchor(self.anchor, tip, make=make) and self.anchor_fault is not None:
                log.warning("audit anchor not moved: %s", self.anchor_fault)
        except OSError:
            log.exception("cannot update the audit anchor %s", self.anchor)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        try:
            with self.sessions() as session:
                yield session
        except (OSError, DBAPIError) as exc:
            _raise_plain(exc, self.paths.home)
            raise

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction that holds the write lock from its start (SQLite: BEGIN
        IMMEDIATE), so what it read cannot change under it; committed at the end. A storage
        fault inside it (the disk full, the folder read-only) rolls it back and is raised as
        one plain `ServiceError`."""
        try:
            with self.sessions.begin() as session:
                session.connection(execution_options=IMMEDIATE)
                lock_for_writing(session)
                yield session
                # Every write transaction counts, so other stations' GUIs notice it
                # (services.changes).
                session.execute(
                    update(RegisterChanges)
                    .where(RegisterChanges.id == 1)
                    .values(counter=RegisterChanges.counter + 1)
                )
            self.own_writes += 1
        except OperationalError as exc:
            if any(word in str(exc).lower() for word in ("locked", "busy", "lock timeout")):
                raise ServiceError(DATABASE_BUSY) from exc
            _raise_plain(exc, self.paths.home)
            raise
        except (OSError, DBAPIError) as exc:
            _raise_plain(exc, self.paths.home)
            raise

    @contextmanager
    def write(self, actor: Actor, action: str, *allowed: Role) -> Iterator[Write]:
        """One audited transaction for `action`, open only to the `allowed` roles."""
        self.require(actor, action, *allowed)
        with self.transaction() as session:
            write = Write(session, actor, action)
            yield write
            if write._entry is None:
                raise RuntimeError(f"{action}: a write must record an audit entry")

    def require(self, actor: Actor, action: str, *allowed: Role) -> None:
        """Refuse (audited) unless the actor has one of the `allowed` roles; for previews too."""
        if actor.role not in allowed:
            self._audit_refusal(actor, action, allowed)
            raise PermissionDenied(refusal(action, allowed))

    def _audit_refusal(self, actor: Actor, action: str, allowed: tuple[Role, ...]) -> None:
        with self.transaction() as session:
            append_entry(
                session,
                actor=actor.username,
                action=action,
                summary=f"refused: role {actor.role.value} may not {action}",
                details={"refused": True, "needs": [r.value for r in allowed]},
            )

    def _sign_as(self, name: str) -> None:
        self.name = name
        self.sessions.configure(info={**self.sessions.kw["info"], STATION_NAME: name})

    def keep_setup(self, name: str | None) -> None:
        """Keep this PC's name (when given) and its vault folder (when it is not the home's) in
        its own settings, so the next start needs no flags: `init --name`, `--vault`."""
        vault = str(self.paths.vault) if self.paths.vault_override is not None else None
        checked = checked_station_name(name) if name is not None else None
        write_station_file(self.paths.home, name=checked, vault=vault)
        if checked:
            self._sign_as(checked)

    def require_vault(self) -> None:
        """Refuse (`VaultUnavailable`, one line) when this station's vault folder is missing or
        another register's: vetting, clearing and exporting need it, keeping the register not."""
        self.vault.require()

    @property
    def vault_fault(self) -> str | None:
        """Why the vault cannot be used now, or None."""
        return self.vault.fault

    def close(self) -> None:
        self.engine.dispose()


def checked_station_name(name: str) -> str:
    """A station's name as audit entries keep it: 1 to 64 characters."""
    name = name.strip()
    if not 1 <= len(name) <= STATION_NAME_CHARS:
        raise InvalidInput(
            f"A station's name has 1 to {STATION_NAME_CHARS} characters, e.g. HEAD-OFFICE."
        )
    return name


def _forget_tip(session: Session) -> None:
    session.info.pop(TIP, None)
    session.info.pop(MAKE_ANCHOR, None)


def open_station(
    home: str | None = None, url: str | None = None, vault: str | None = None
) -> Station:
    """Open (creating if needed) the station at `home`, upgrading its database to the newest schema.

    `vault` is a vault folder outside the home (else `IJS_VETTING_VAULT`, the station's setting,
    or the home's own). The register's first station claims its vault; every other station
    checks its marker and, when it is missing or another register's, opens with the vault
    refused (`Station.require_vault`) rather than not at all.

    A database that cannot be reached or upgraded, a key that is missing, damaged or not this
    station's, and a storage fault (a full disk, a read-only or damaged file) raise `ServiceError`
    with one sentence the office can act on; the details go to the log. Nothing is changed then.
    """
    paths = resolve_home(home, vault)
    try:
        paths.ensure()
        # Children's data a crashed process left in its scratch folder (a face crop, a copy
        # of the database) goes before anything else is done.
        if swept := scratch.sweep(paths):
            log.warning("removed %d scratch folder(s) of processes that ended", len(swept))
    except OSError as exc:
        _raise_plain(exc, paths.home.parent)
        raise
    engine = create_db_engine(url or database_url(paths))
    try:
        _upgrade(engine, paths)
        key = station_key(engine)
        with session_factory(engine)() as session:
            station_id = recorded_station_id(session)  # recorded by `station_key`
        station = Station(paths, engine, Sealer(key), anchor_path(key_dir(), station_id))
        _attach_vault(station, station_id)
        seal_legacy_data(station)
        seal_legacy_records(station)
        # Once per PC; a deleted anchor is reported, not remade.
        station.anchor_fault = anchor_this_pc(station)
    except BaseException as exc:
        engine.dispose()
        _raise_plain(exc, paths.home)
        raise
    _settle_posting_folders(station)
    return station


def _upgrade(engine: Engine, paths: StationPaths) -> None:
    try:
        upgrade_to_head(engine, paths.backups)
    except DBAPIError as exc:
        log.exception("cannot open the database")
        if storage_fault(exc):
            raise
        if "locked" in str(exc).lower():
            raise ServiceError(DATABASE_BUSY) from exc
        raise ServiceError(
            f"Cannot open the database ({engine.url.render_as_string()}): {exc.orig}"
        ) from exc


def _attach_vault(station: Station, register: str) -> None:
    """Check the vault's marker against the register, claiming the folder when the register has
    no vault yet (a new register, or one from before vaults were marked). Claimed once: the
    setting's row decides it even for two stations starting together."""
    with station.read() as session:
        claimed = session.get(Setting, VAULT) is not None
    if not claimed:
        try:
            with station.transaction() as session:
                if session.get(Setting, VAULT) is None:
                    session.add(
                        Setting(
                            key=VAULT,
                            value={"register": register, "first_path": str(station.paths.vault)},
                            updated_by="system",
                        )
                    )
                    station.vault.attach(register, claim=True)
                    log.info("vault %s claimed for register %s", station.paths.vault, register)
                    return
        except IntegrityError:
            pass  # another station claimed its vault at the same moment: check ours against it
    station.vault.attach(register, claim=False)
    if station.vault.fault is not None:
        log.warning("vault refused: %s", station.vault.fault)


def _settle_posting_folders(station: Station) -> None:
    """Tidy the posting folders an export or a removal left unsettled (a crash): nothing the
    register does not hold stays there. A busy database only postpones it to the next start
    (an export, which reconciles its folder first, may be running on another station)."""
    try:
        settle_folders(station)
    except ServiceError as exc:
        log.warning("posting folders not reconciled at start: %s", exc)


def _raise_plain(exc: BaseException, home: Path) -> None:
    """Raise a storage fault as its plain sentence (the details to the log); else return."""
    message = storage_fault(exc, home)
    if message is not None:
        log.warning("storage fault: %s", exc)
        raise ServiceError(message) from exc
