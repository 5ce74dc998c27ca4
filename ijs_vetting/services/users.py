"""Users and who is acting.

Until login exists (issue 6), the acting user is named by `IJS_VETTING_USER` or the OS login and
must be a registered user. The one exception is an empty station: its first user becomes its
admin, so a school can start from nothing with one command — that bootstrap is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ijs_vetting.config import acting_username
from ijs_vetting.db.models import AuditEntry, User
from ijs_vetting.domain import InvalidInput, NotFound, Role
from ijs_vetting.services.station import Actor, Station


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    role: Role
    active: bool


def current_actor(station: Station, username: str | None = None) -> Actor:
    """The registered user at the keyboard, bootstrapping the first admin on an empty station."""
    name = (username or acting_username()).strip()
    with station.sessions.begin() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            if session.scalar(select(func.count(User.id))):
                raise NotFound(
                    f"'{name}' is not a user of this station. Ask an admin to add you "
                    f"(ijs-vetting users add {name} --role staff)."
                )
            user = User(username=name, display_name=name, role=Role.ADMIN, active=True)
            session.add(user)
            session.add(
                AuditEntry(
                    actor=name,
                    action="user.bootstrap",
                    target_type="user",
                    target_id=name,
                    summary=f"{name} became the first admin of an empty station",
                )
            )
        if not user.active:
            raise InvalidInput(f"The user '{name}' is disabled.")
        return Actor(user.username, user.role)


def add_user(
    station: Station, actor: Actor, username: str, role: Role, display_name: str | None = None
) -> UserInfo:
    """Register a user with a role (admins only)."""
    username = username.strip()
    if not username:
        raise InvalidInput("A user needs a name.")
    with station.write(actor, "user.add", Role.ADMIN) as w:
        if w.session.scalar(select(User).where(User.username == username)):
            raise InvalidInput(f"The user '{username}' already exists.")
        user = User(
            username=username, display_name=display_name or username, role=role, active=True
        )
        w.session.add(user)
        w.audit(
            f"added user {username} as {role.value}",
            target_type="user",
            target_id=username,
            details={"role": role.value},
        )
        return UserInfo(user.username, user.display_name, user.role, True)


def ensure_admin(station: Station, username: str) -> tuple[UserInfo, bool]:
    """`init --admin NAME`: make sure NAME exists as an admin; True if it was created now.

    Allowed only while the station has no admin, or for a name that already is one, so `init`
    cannot be used to hand out admin rights on a running station.
    """
    username = username.strip()
    if not username:
        raise InvalidInput("The admin needs a name.")
    with station.sessions.begin() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.role == Role.ADMIN:
            return UserInfo(user.username, user.display_name, user.role, user.active), False
        if session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)):
            raise InvalidInput(
                "This station already has an admin; an admin can add users with 'users add'."
            )
        if user is None:
            user = User(username=username, display_name=username, role=Role.ADMIN, active=True)
            session.add(user)
        else:
            user.role = Role.ADMIN
        session.add(
            AuditEntry(
                actor=username,
                action="user.init_admin",
                target_type="user",
                target_id=username,
                summary=f"{username} set up as the first admin",
            )
        )
        return UserInfo(user.username, user.display_name, user.role, True), True


def list_users(station: Station) -> list[UserInfo]:
    with station.read() as session:
        return [
            UserInfo(u.username, u.display_name, u.role, u.active)
            for u in session.scalars(select(User).order_by(User.username))
        ]
