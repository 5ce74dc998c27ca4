"""Users, passwords and logging in.

Passwords are stored as Argon2id hashes (argon2-cffi). Five failed logins in a row lock the
account for a while; every login, failure and lock is audited. An empty station has no one to
log in as, so its first user becomes its admin — with a password, and audited.

A name nobody has is recorded only as a keyed digest ("unknown user #3f9c2a71d0"): people type
their password into the name field, and the audit log must not keep it. The failure count is
raised by one UPDATE in the database, so wrong guesses from several stations at once all count.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ijs_vetting.config import acting_username
from ijs_vetting.db.audit_log import append_entry
from ijs_vetting.db.models import User
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, NotFound, Role, ServiceError
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current, settings_of
from ijs_vetting.settings import Settings

_hasher = PasswordHasher()
WRONG = "Unknown user or wrong password."
_NAME_KEY = b"ijs-vetting unknown user names v1"


class LoginRefused(ServiceError):
    """The login did not succeed (wrong password, locked or disabled account)."""


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    role: Role
    active: bool
    locked: bool = False


def _check_new_password(password: str | None, settings: Settings) -> str:
    minimum = settings.security["min_password_length"]
    if not password or len(password) < minimum:
        raise InvalidInput(f"A password needs at least {minimum} characters.")
    return password


def station_is_new(station: Station) -> bool:
    with station.read() as session:
        return not session.scalar(select(func.count(User.id)))


def login(
    station: Station, username: str | None, password: str | None, *, record: bool = True
) -> Actor:
    """Check a user's password; on an empty station, create the first admin with it.

    Failures are always audited; a success is when `record` (a GUI session starting), not for
    each scripted CLI command, whose changes are audited anyway.
    """
    name = (username or acting_username()).strip()
    with station.transaction() as session:
        if not session.scalar(select(func.count(User.id))):
            return _bootstrap(
                session,
                name,
                password,
                action="user.bootstrap",
                summary=f"{name} became the first admin of an empty station",
            )
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            name = unknown_name(station, name)
        problem = _refusal(session, user, name, password)
        if problem is None:
            assert user is not None
            user.failed_logins, user.locked_until = 0, None
            if record:
                append_entry(
                    session,
                    actor=name,
                    action="login",
                    target_type="user",
                    target_id=name,
                    summary=f"{name} logged in",
                )
            return Actor(user.username, user.role)
    raise LoginRefused(problem)


def unknown_name(station: Station, typed: str) -> str:
    """How the log names someone who typed a name no user has (perhaps their password): a
    digest keyed with the station key, the same for the same name, revealing nothing."""
    digest = hmac.new(station.sealer.subkey(_NAME_KEY), typed.encode("utf-8"), hashlib.sha256)
    return f"unknown user #{digest.hexdigest()[:10]}"


def _refusal(session: Session, user: User | None, name: str, password: str | None) -> str | None:
    """Why this login fails (recorded and committed), or None when it succeeds."""
    rules = settings_of(session).security
    now = utcnow()
    if user is None or not user.active:
        append_entry(
            session,
            actor=name,
            action="login.failed",
            target_type="user",
            target_id=name,
            summary=f"failed login as {name} (unknown or disabled)",
        )
        return WRONG
    if user.locked_until is not None and user.locked_until > now:
        append_entry(
            session,
            actor=name,
            action="login.failed",
            target_type="user",
            target_id=name,
            summary=f"login as {name} refused: account locked",
        )
        local = user.locked_until.astimezone()
        return (
            f"This account is locked after too many failed logins; try again after {local:%H:%M}."
        )
    if user.password_hash is None:
        return (
            f"{name} has no password yet; an admin can set one (ijs-vetting users passwd {name})."
        )
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        # Counted in the database, not from the row read above: stations guessing at once on
        # PostgreSQL would otherwise each write the same count back.
        failed = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins),
            execution_options={"synchronize_session": False},
        ).scalar_one()
        locked = failed >= rules["max_failed_logins"]
        if locked:
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(locked_until=now + timedelta(minutes=rules["lockout_minutes"])),
                execution_options={"synchronize_session": False},
            )
        append_entry(
            session,
            actor=name,
            action="login.failed",
            target_type="user",
            target_id=name,
            summary=f"wrong password for {name}" + ("; account locked" if locked else ""),
            details={"failed_logins": failed, "locked": locked},
        )
        return WRONG
    return None


def _bootstrap(
    session: Session, name: str, password: str | None, *, action: str, summary: str
) -> Actor:
    """Create the station's first admin, audited as `action` (on the first login, or by init)."""
    user = User(
        username=name,
        display_name=name,
        role=Role.ADMIN,
        active=True,
        password_hash=_hasher.hash(_check_new_password(password, settings_of(session))),
        failed_logins=0,
    )
    session.add(user)
    append_entry(
        session,
        actor=name,
        action=action,
        target_type="user",
        target_id=name,
        summary=summary,
    )
    return Actor(name, Role.ADMIN)


def add_user(
    station: Station,
    actor: Actor,
    username: str,
    role: Role,
    password: str | None,
    display_name: str | None = None,
) -> UserInfo:
    """Register a user with a role and a first password (admins only)."""
    username = username.strip()
    if not username:
        raise InvalidInput("A user needs a name.")
    secret = _check_new_password(password, current(station))
    with station.write(actor, "user.add", Role.ADMIN) as w:
        if w.session.scalar(select(User).where(User.username == username)):
            raise InvalidInput(f"The user '{username}' already exists.")
        w.session.add(
            User(
                username=username,
                display_name=display_name or username,
                role=role,
                active=True,
                password_hash=_hasher.hash(secret),
                failed_logins=0,
            )
        )
        w.audit(
            f"added user {username} as {role.value}",
            target_type="user",
            target_id=username,
            details={"role": role.value},
        )
        return UserInfo(username, display_name or username, role, True)


def set_password(station: Station, actor: Actor, username: str, password: str | None) -> None:
    """Set a password (admins for anyone, everyone for themselves); it also lifts a lock."""
    secret = _check_new_password(password, current(station))
    roles = tuple(Role) if actor.username == username else (Role.ADMIN,)
    with station.write(actor, "user.password", *roles) as w:
        user = w.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"There is no user '{username}'.")
        user.password_hash = _hasher.hash(secret)
        user.failed_logins, user.locked_until = 0, None
        w.audit(f"password set for {username}", target_type="user", target_id=username)


def ensure_admin(station: Station, username: str, password: str | None) -> tuple[UserInfo, bool]:
    """`init --admin NAME`: create the first admin; True if created now.

    Allowed only while the station has no admin (or for the admin who exists, whose password
    must then match), so `init` cannot hand out admin rights on a running station.
    """
    username = username.strip()
    if not username:
        raise InvalidInput("The admin needs a name.")
    with station.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.role != Role.ADMIN:
            if session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)):
                raise InvalidInput(
                    "This station already has an admin; an admin can add users with 'users add'."
                )
            # checked and created in one transaction, so two inits cannot both succeed
            _bootstrap(
                session,
                username,
                password,
                action="user.init_admin",
                summary=f"{username} set up as the first admin",
            )
            return UserInfo(username, username, Role.ADMIN, True), True
    login(station, username, password, record=False)
    return UserInfo(username, username, Role.ADMIN, True), False


def list_users(station: Station, actor: Actor) -> list[UserInfo]:
    station.require(actor, "users.list", Role.ADMIN)
    now = utcnow()
    with station.read() as session:
        return [
            UserInfo(
                u.username,
                u.display_name,
                u.role,
                u.active,
                bool(u.locked_until and u.locked_until > now),
            )
            for u in session.scalars(select(User).order_by(User.username))
        ]
