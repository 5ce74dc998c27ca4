"""One open station: its folders, database and vault, and the write transaction every service uses.

`Station.write` is the single doorway for changes. It checks the acting user's role (a refusal is
itself audited, in its own transaction, and raised as `PermissionDenied`), opens one transaction,
and insists the service records exactly one audit entry before committing — a service that
forgets to audit fails loudly in tests instead of silently in a school.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ijs_vetting.audit_anchor import anchor_path, write_anchor
from ijs_vetting.config import (
    StationPaths,
    database_url,
    resolve_home,
    station_name,
    write_station_file,
)
from ijs_vetting.crypto import (
    KEY_DIR_ENV,
    KeyDamaged,
    SealBroken,
    Sealer,
    create_key,
    discard_key,
    fingerprint,
    is_sealed,
    key_dir,
    key_location,
    read_key,
)
from ijs_vetting.db.audit_log import (
    STATION_NAME,
    TIP,
    append_entry,
    lock_for_writing,
)
from ijs_vetting.db.engine import IMMEDIATE, create_db_engine, session_factory, upgrade_to_head
from ijs_vetting.db.models import (
    AuditEntry,
    FaceTemplate,
    Form,
    Photo,
    RegisterChanges,
    Setting,
)
from ijs_vetting.db.record_seals import (
    KEY_PURPOSE,
    install,
    reseal_review_dates,
    seal_unsealed,
    seal_unsealed_children,
)
from ijs_vetting.domain import InvalidInput, PermissionDenied, Role, ServiceError
from ijs_vetting.faults import storage_fault
from ijs_vetting.services.core.anchoring import anchor_this_pc
from ijs_vetting.services.core.posting_folder import settle_folders
from ijs_vetting.vault import Vault

STATION_ID = "station.id"
SEALED = "station.sealed"  # legacy data sealed: the start-up scan is not needed again
RECORDS_SEALED = "station.records_sealed"  # consent records from before seals got theirs
REVIEW_DATES_SEALED = "station.review_dates_sealed"  # seals cover consent review dates
CHILDREN_SEALED = "station.children_sealed"  # children's rows from before their seals
KEY_FINGERPRINT = "station.key"  # the fingerprint of the key this station's data is sealed with
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
        install(self.sessions, sealer.subkey(KEY_PURPOSE))
        # The name this station signs its audit entries with (the PC's, unless one was set or
        # is given: a joining PC, which has no settings yet).
        self.name = name or station_name(paths.home)
        self._sign_as(self.name)
        # The audit chain's anchor file beside the key (None: not anchored, as in some tests).
        self.anchor = anchor
        event.listen(self.sessions, "after_commit", self._anchor_tip)
        event.listen(self.sessions, "after_rollback", _forget_tip)

    @property
    def database_label(self) -> str:
        """The database's URL for people to read (the password hidden): what `init` prints."""
        return self.engine.url.render_as_string(hide_password=True)

    def _anchor_tip(self, session: Session) -> None:
        """After a commit that audited, move the anchor to the chain's new tip. The commit
        stands even if this fails (the anchor then lags, which `audit verify` accepts)."""
        tip = session.info.pop(TIP, None)
        if tip is None or self.anchor is None:
            return
        try:
            write_anchor(self.anchor, tip)
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
            raise PermissionDenied(
                f"{actor.username} ({actor.role.value}) may not do this: "
                f"{action} needs the {' or '.join(r.value for r in allowed)} role."
            )

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
    except OSError as exc:
        _raise_plain(exc, paths.home.parent)
        raise
    engine = create_db_engine(url or database_url(paths))
    try:
        _upgrade(engine, paths)
        key = station_key(engine)
        with session_factory(engine)() as session:
            station_id = _station_id(session)  # recorded by `station_key`
        station = Station(paths, engine, Sealer(key), anchor_path(key_dir(), station_id))
        _attach_vault(station, station_id)
        seal_legacy_data(station)
        seal_legacy_records(station)
        anchor_this_pc(station)  # once per PC; a deleted anchor is reported, not remade
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


def station_key(engine: Engine) -> bytes:
    """This station's key, checked against the fingerprint its database records.

    A key is made only for a database that never had one (new, or from before encryption);
    recording its fingerprint in the same transaction makes that decision once, even for
    several stations starting together on one PostgreSQL database (the loser's key is
    discarded and it then asks for the winner's). Any other station whose key is missing,
    damaged or different refuses to start, saying which key it needs: making a new key then
    would seal new data that the real key cannot open, and vice versa.
    """
    with session_factory(engine)() as session:  # a plain read first: most starts need no lock
        known, recorded = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
        if known is not None and recorded is not None:
            return _recorded_key(str(known.value["id"]), str(recorded.value["fingerprint"]))
    for attempt in (1, 2):
        created: bytes | None = None
        try:
            with session_factory(engine).begin() as session:
                session.connection(execution_options=IMMEDIATE)
                key_id = _station_id(session)
                recorded = session.get(Setting, KEY_FINGERPRINT)
                if recorded is not None:
                    return _recorded_key(key_id, str(recorded.value["fingerprint"]))
                key = _unrecorded_key(session, key_id)
                if key is None:
                    key = created = create_key(key_id)
                session.add(
                    Setting(
                        key=KEY_FINGERPRINT,
                        value={"fingerprint": fingerprint(key)},
                        updated_by="system",
                    )
                )
            return key
        except BaseException as exc:
            if created is not None:
                discard_key(key_id, created)
            if attempt == 1 and isinstance(exc, IntegrityError):
                continue  # another station recorded its id or key first: use what it recorded
            raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StationKey:
    """Which key an open station uses, for the office to note and back up."""

    fingerprint: str
    location: str


def station_key_info(station: Station) -> StationKey:
    with station.read() as session:
        key_id, recorded = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
        assert key_id is not None and recorded is not None  # both made by `open_station`
        return StationKey(str(recorded.value["fingerprint"]), key_location(str(key_id.value["id"])))


def _station_id(session: Session) -> str:
    """This station's id (made once, kept in its database): it names the station's key."""
    setting = session.get(Setting, STATION_ID)
    if setting is None:
        setting = Setting(key=STATION_ID, value={"id": uuid.uuid4().hex}, updated_by="system")
        session.add(setting)
        session.flush()
    return str(setting.value["id"])


def _recorded_key(key_id: str, needed: str) -> bytes:
    where = key_location(key_id)
    again = f"(or set {KEY_DIR_ENV} to the folder that holds it) and start again"
    try:
        key = read_key(key_id)
    except KeyDamaged as exc:
        raise KeyDamaged(
            f"{exc} This station needs its key {needed}: restore that file from the key backup "
            f"{again}; nothing was changed."
        ) from exc
    if key is None:
        raise ServiceError(
            f"This station's data is sealed with the key {needed}, which is missing: it needs "
            f"{where}. Put the key back from its backup {again}; no new key was made and "
            "nothing was changed."
        )
    if fingerprint(key) != needed:
        raise ServiceError(
            f"The key in {where} is {fingerprint(key)}, not this station's key {needed}: put "
            f"the station's key back {again}; nothing was changed."
        )
    return key


def _unrecorded_key(session: Session, key_id: str) -> bytes | None:
    """The key of a database from before fingerprints were recorded, checked against what it
    sealed; None when the database never had a key (new, or from before encryption)."""
    try:
        key = read_key(key_id)
    except KeyDamaged as exc:
        raise KeyDamaged(
            f"{exc} Restore it from the key backup and start again; nothing was changed."
        ) from exc
    if key is None:
        if session.get(Setting, SEALED) is not None:
            raise ServiceError(
                "This station's data is sealed with a key that is missing: it needs "
                f"{key_location(key_id)}. Put the key back from its backup (or set "
                f"{KEY_DIR_ENV} to the folder that holds it) and start again; no new key was "
                "made and nothing was changed."
            )
        return None
    sample = session.scalars(select(FaceTemplate.encoding).limit(1)).first()
    if sample is not None and is_sealed(sample):
        try:
            Sealer(key).open(sample, b"template")
        except SealBroken as exc:
            raise ServiceError(
                f"The key in {key_location(key_id)} does not open this station's data: put "
                "the station's own key back and start again; nothing was changed."
            ) from exc
    return key


def _raise_plain(exc: BaseException, home: Path) -> None:
    """Raise a storage fault as its plain sentence (the details to the log); else return."""
    message = storage_fault(exc, home)
    if message is not None:
        log.warning("storage fault: %s", exc)
        raise ServiceError(message) from exc


def seal_legacy_data(station: Station) -> None:
    """Encrypt templates, forms and reference photos stored before encryption existed.

    Old blobs sat under their content's sha256, where a plain photo original of the same bytes
    may also live: the sealed copy gets its own key, the row follows it, and the plain file goes
    only when no photo uses it.
    """
    stale: set[str] = set()
    with station.read() as session:
        if session.get(Setting, SEALED) is not None:
            return  # most starts: no write lock taken
    with station.transaction() as session:
        if session.get(Setting, SEALED) is not None:
            return  # done once: everything written since is sealed as it is written
        for template in session.scalars(select(FaceTemplate)):
            if not is_sealed(template.encoding):
                template.encoding = station.sealer.seal(template.encoding, b"template")
            key = _reseal(station, template.reference_sha256, b"reference", stale)
            if key:
                template.reference_sha256 = key
        for form in session.scalars(select(Form)):
            key = _reseal(station, form.sha256, b"form", stale)
            if key:
                form.sha256 = key
        in_use = set(session.scalars(select(Photo.sha256).where(Photo.sha256.in_(stale))))
        session.add(Setting(key=SEALED, value={"done": True}, updated_by="system"))
    for sha in stale - in_use:
        station.vault.remove(sha)


def seal_legacy_records(station: Station) -> None:
    """Seal the consent, biometric and safeguarding records and the children's rows stored
    before seals existed, once: afterwards each is sealed as it is written, and an unsealed one
    is tampering. Then, once, cover the review dates of records sealed before seals covered
    them."""
    with station.transaction() as session:
        if session.get(Setting, RECORDS_SEALED) is None:
            sealed = seal_unsealed(session)
            session.add(Setting(key=RECORDS_SEALED, value={"sealed": sealed}, updated_by="system"))
        if session.get(Setting, CHILDREN_SEALED) is None:
            sealed = seal_unsealed_children(session)
            session.add(Setting(key=CHILDREN_SEALED, value={"sealed": sealed}, updated_by="system"))
        if session.get(Setting, REVIEW_DATES_SEALED) is None:
            dated = reseal_review_dates(session)
            if dated is not None:  # else a record was changed: its broken seal stays as found
                session.add(
                    Setting(key=REVIEW_DATES_SEALED, value={"dated": dated}, updated_by="system")
                )


def _reseal(station: Station, sha: str, purpose: bytes, stale: set[str]) -> str | None:
    """The new key of a blob that still needs sealing, or None when it is sealed already."""
    if not station.vault.contains(sha):
        return None
    blob = station.vault.stored_bytes(sha)
    if is_sealed(blob):
        return None
    stale.add(sha)
    return station.vault.put_sealed(blob, purpose)
