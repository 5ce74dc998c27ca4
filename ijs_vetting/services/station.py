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

from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ijs_vetting.audit_anchor import anchor_path, read_anchor, write_anchor
from ijs_vetting.config import StationPaths, database_url, resolve_home
from ijs_vetting.crypto import Sealer, is_sealed, key_dir, load_key
from ijs_vetting.db.audit_log import TIP, append_entry, chain_tip
from ijs_vetting.db.engine import IMMEDIATE, create_db_engine, session_factory, upgrade_to_head
from ijs_vetting.db.models import AuditEntry, FaceTemplate, Form, Photo, Setting
from ijs_vetting.db.record_seals import KEY_PURPOSE, install, seal_unsealed
from ijs_vetting.domain import PermissionDenied, Role, ServiceError
from ijs_vetting.services.posting_folder import settle_folders
from ijs_vetting.vault import Vault

STATION_ID = "station.id"
SEALED = "station.sealed"  # legacy data sealed: the start-up scan is not needed again
RECORDS_SEALED = "station.records_sealed"  # consent records from before seals got theirs

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
    """A station's data home and database, opened and upgraded to the newest schema."""

    def __init__(
        self, paths: StationPaths, engine: Engine, sealer: Sealer, anchor: Path | None = None
    ) -> None:
        self.paths = paths
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.sealer = sealer
        self.vault = Vault(paths.vault, sealer)
        install(self.sessions, sealer.subkey(KEY_PURPOSE))
        # The audit chain's anchor file beside the key (None: not anchored, as in some tests).
        self.anchor = anchor
        event.listen(self.sessions, "after_commit", self._anchor_tip)
        event.listen(self.sessions, "after_rollback", _forget_tip)

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
        with self.sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction that holds the write lock from its start (SQLite: BEGIN
        IMMEDIATE), so what it read cannot change under it; committed at the end."""
        try:
            with self.sessions.begin() as session:
                session.connection(execution_options=IMMEDIATE)
                yield session
        except OperationalError as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise ServiceError(DATABASE_BUSY) from exc
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

    def close(self) -> None:
        self.engine.dispose()


def _forget_tip(session: Session) -> None:
    session.info.pop(TIP, None)


def open_station(home: str | None = None, url: str | None = None) -> Station:
    """Open (creating if needed) the station at `home`, upgrading its database to the newest schema.

    A database that cannot be reached or upgraded raises `ServiceError` with a message the office
    can act on; the details go to the log.
    """
    paths = resolve_home(home)
    paths.ensure()
    engine = create_db_engine(url or database_url(paths))
    try:
        upgrade_to_head(engine, paths.backups)
    except OperationalError as exc:
        log.exception("cannot open the database")
        engine.dispose()
        if "locked" in str(exc).lower():
            raise ServiceError(DATABASE_BUSY) from exc
        raise ServiceError(
            f"Cannot open the database ({engine.url.render_as_string()}): {exc.orig}"
        ) from exc
    station_id = _station_id(engine)
    station = Station(
        paths, engine, Sealer(load_key(station_id)), anchor_path(key_dir(), station_id)
    )
    seal_legacy_data(station)
    seal_legacy_records(station)
    _first_anchor(station)
    _settle_posting_folders(station)
    return station


def _first_anchor(station: Station) -> None:
    """Anchor the chain as found when this station has no anchor yet (a new station, or one
    from before anchoring, or a new PC joining a shared database); from then on it moves with
    every commit."""
    assert station.anchor is not None
    if read_anchor(station.anchor) is None:
        with station.read() as session:
            write_anchor(station.anchor, chain_tip(session))


def _settle_posting_folders(station: Station) -> None:
    """Tidy the posting folders an export or a removal left unsettled (a crash): nothing the
    register does not hold stays there. A busy database only postpones it to the next start
    (an export, which reconciles its folder first, may be running on another station)."""
    try:
        settle_folders(station)
    except ServiceError as exc:
        log.warning("posting folders not reconciled at start: %s", exc)


def _station_id(engine: Engine) -> str:
    """This station's id (made once, kept in its database): it names the station's key."""
    with session_factory(engine).begin() as session:
        setting = session.get(Setting, STATION_ID)
        if setting is None:
            setting = Setting(key=STATION_ID, value={"id": uuid.uuid4().hex}, updated_by="system")
            session.add(setting)
        return str(setting.value["id"])


def seal_legacy_data(station: Station) -> None:
    """Encrypt templates, forms and reference photos stored before encryption existed.

    Old blobs sat under their content's sha256, where a plain photo original of the same bytes
    may also live: the sealed copy gets its own key, the row follows it, and the plain file goes
    only when no photo uses it.
    """
    stale: set[str] = set()
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
    """Seal the consent, biometric and safeguarding records stored before seals existed, once:
    afterwards every record is sealed as it is added, and an unsealed one is tampering."""
    with station.transaction() as session:
        if session.get(Setting, RECORDS_SEALED) is not None:
            return
        sealed = seal_unsealed(session)
        session.add(Setting(key=RECORDS_SEALED, value={"sealed": sealed}, updated_by="system"))


def _reseal(station: Station, sha: str, purpose: bytes, stale: set[str]) -> str | None:
    """The new key of a blob that still needs sealing, or None when it is sealed already."""
    if not station.vault.contains(sha):
        return None
    blob = station.vault.read_bytes(sha)
    if is_sealed(blob):
        return None
    stale.add(sha)
    return station.vault.put_sealed(blob, purpose)
