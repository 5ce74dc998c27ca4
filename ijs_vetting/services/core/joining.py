"""A new PC joins a register: `ijs-vetting station join`.

The new station brings nothing of its own: it connects to the register's database and vault and
takes the register's key from a key file an existing station exported (wrapped with a
passphrase; `ijs_vetting.key_wrap`). Everything is checked before anything is written — the
database must hold a register, the key file must be that register's key (its id and the
fingerprint the database records), and the vault folder must carry that register's marker — so
a wrong file, passphrase, database or share costs nothing. Only then is the key stored where
this PC keeps keys, the station's name and vault kept in its `station.json`, and the station
opened (which upgrades the database if this PC's program is newer) and the join audited.
The admin who joins it logs in first, against the register's users, before anything is kept:
a failed login leaves the PC unjoined.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from ijs_vetting.config import DB_ENV, VAULT_ENV, resolve_home, write_station_file
from ijs_vetting.crypto import Sealer, install_key, key_location, read_key
from ijs_vetting.db.engine import create_db_engine, session_factory
from ijs_vetting.db.models import Setting
from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.json_report import JsonFields
from ijs_vetting.key_wrap import unwrap_key
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import (
    VAULT,
    Actor,
    Station,
    checked_station_name,
    open_station,
)
from ijs_vetting.services.core.station_key import KEY_FINGERPRINT, STATION_ID, station_key_info
from ijs_vetting.vault import MARKER, read_marker

ACTION = "station.join"
NOTHING = "nothing was written on this PC"


@dataclass(frozen=True)
class JoinReport(JsonFields):
    name: str
    home: str
    database: str
    vault: str
    register: str
    key_fingerprint: str
    key_location: str


@dataclass(frozen=True)
class _Register:
    id: str
    fingerprint: str
    vault_claimed: bool


def join_station(
    home: str | None,
    url: str,
    key_file: bytes,
    passphrase: str,
    password: str,
    *,
    name: str,
    vault: str | None = None,
) -> tuple[Station, Actor]:
    """Check the database, key file, vault and the admin's login, then set this PC up as a
    station of the register and return it open with the admin logged in. `ServiceError` in one
    line, with nothing written on this PC, when any check fails."""
    require_shared_database(url)
    name = checked_station_name(name)
    paths = resolve_home(home, vault)
    engine = create_db_engine(url)
    try:
        register = _register(engine)
        unwrapped = unwrap_key(key_file, passphrase)
        _check_key(register, unwrapped.key_id, unwrapped.fingerprint)
        _check_vault(register, paths.vault)
        here = read_key(register.id)
        if here is not None and here != unwrapped.key:
            raise ServiceError(
                f"This PC already holds another key for register {register.id} "
                f"({key_location(register.id)}): remove it first; {NOTHING}."
            )
        admin = _admin_login(Station(paths, engine, Sealer(unwrapped.key), name=name), password)
    finally:
        engine.dispose()
    if here is None:
        install_key(register.id, unwrapped.key)
    paths.home.mkdir(parents=True, exist_ok=True)
    write_station_file(
        paths.home,
        name=name,
        vault=str(paths.vault) if paths.vault_override is not None else None,
    )
    return open_station(str(paths.home), url=url, vault=vault), admin


def _check_key(register: _Register, key_id: str, fingerprint: str) -> None:
    if key_id != register.id or fingerprint != register.fingerprint:
        raise ServiceError(
            f"This key file holds the key {fingerprint} of register {key_id}, "
            f"but the database is register {register.id} with the key {register.fingerprint}: "
            f"export the key from a station of this register; {NOTHING}."
        )


def _check_vault(register: _Register, folder: Path) -> None:
    found = read_marker(folder)
    if register.vault_claimed and found != register.id:
        where = f"set --vault or {VAULT_ENV} to the register's shared vault folder"
        what = "cannot be found" if not folder.is_dir() else f"has no {MARKER} of it"
        if found is not None:
            what = f"is the vault of another register ({found})"
        raise ServiceError(f"The folder {folder} {what}: {where}; {NOTHING}.")


def _admin_login(probe: Station, password: str) -> Actor:
    """Log the admin in on the register before this PC keeps anything: a station that exists
    only in memory (no key installed, no settings, no anchor), so a wrong password or a user
    who is no admin leaves the PC as it was. The failure is counted and audited in the
    register like any failed login, signed with the joining station's name."""
    try:
        actor = users.login(probe, None, password, record=False)
    except users.LoginRefused as exc:
        raise ServiceError(f"{exc} {NOTHING[0].upper()}{NOTHING[1:]}.") from exc
    probe.require(actor, ACTION, Role.ADMIN)
    return actor


def require_shared_database(url: str) -> None:
    """Only a shared database can be joined: a SQLite file is one PC's register."""
    if url.startswith("sqlite"):
        raise ServiceError(
            f"A station joins a shared register: set {DB_ENV} to the register's PostgreSQL "
            f"database (e.g. postgresql+psycopg://station@server/ijs); {NOTHING}."
        )


def _register(engine: Engine) -> _Register:
    """The register's id and key fingerprint, read without writing (no schema upgrade yet)."""
    try:
        has_settings = inspect(engine).has_table(Setting.__tablename__)
        if has_settings:
            with session_factory(engine)() as session:
                known, key = session.get(Setting, STATION_ID), session.get(Setting, KEY_FINGERPRINT)
                claimed = session.get(Setting, VAULT) is not None
    except DBAPIError as exc:  # an unreachable server, a refused login
        raise ServiceError(
            f"Cannot reach the register's database ({engine.url.render_as_string()}): "
            f"{exc.orig}; {NOTHING}."
        ) from exc
    if not has_settings or known is None or key is None:
        raise ServiceError(
            "This database holds no register yet: run `ijs-vetting init` on the first station "
            f"(with {DB_ENV} set to this database), then join the others; {NOTHING}."
        )
    return _Register(str(known.value["id"]), str(key.value["fingerprint"]), claimed)


def record_join(station: Station, actor: Actor, report: JoinReport) -> None:
    """Audit the join (admins: only they may add a PC to the register)."""
    with station.write(actor, ACTION, Role.ADMIN) as w:
        w.audit(
            f"station {report.name} joined the register",
            target_type="station",
            target_id=report.name,
            details={
                "vault": report.vault,
                "key_fingerprint": report.key_fingerprint,
                "home": report.home,
            },
        )


def station_report(station: Station) -> JoinReport:
    """What this station is: its name, database, vault, register and key."""
    key = station_key_info(station)
    with station.read() as session:
        register = session.get(Setting, STATION_ID)
        assert register is not None  # made by `open_station`
    return JoinReport(
        name=station.name,
        home=str(station.paths.home),
        database=station.engine.url.render_as_string(),
        vault=str(station.paths.vault),
        register=str(register.value["id"]),
        key_fingerprint=key.fingerprint,
        key_location=key.location,
    )
