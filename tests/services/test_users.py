"""People and passwords: Argon2 hashes, lockout after failed logins, the audit hash chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update

from ijs_vetting.db.models import AuditEntry, User
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, PermissionDenied, Role
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit

PASSWORD = "correct horse battery"


@pytest.fixture
def staffed(station: Station) -> Station:
    admin = users.login(station, "office-admin", PASSWORD)  # bootstraps the first admin
    users.add_user(station, admin, "mr.lee", Role.STAFF, "lee-password-1")
    return station


def test_the_first_user_becomes_admin_with_a_password(station: Station) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        users.login(station, "office-admin", "short")
    actor = users.login(station, "office-admin", PASSWORD)
    assert actor == Actor("office-admin", Role.ADMIN)
    with station.read() as s:
        user = s.scalar(select(User))
    assert user is not None and user.password_hash and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_wrong_passwords_lock_the_account(staffed: Station) -> None:
    for _ in range(4):
        with pytest.raises(users.LoginRefused, match="wrong password"):
            users.login(staffed, "mr.lee", "guess-guess")
    assert users.login(staffed, "mr.lee", "lee-password-1").role is Role.STAFF  # resets count
    for _ in range(5):
        with pytest.raises(users.LoginRefused):
            users.login(staffed, "mr.lee", "guess-guess")
    with pytest.raises(users.LoginRefused, match="locked"):
        users.login(staffed, "mr.lee", "lee-password-1")
    with staffed.sessions.begin() as s:  # the lock runs out
        s.execute(
            update(User)
            .where(User.username == "mr.lee")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert users.login(staffed, "mr.lee", "lee-password-1").username == "mr.lee"
    with staffed.read() as s:
        failures = list(
            s.scalars(select(AuditEntry.summary).where(AuditEntry.action == "login.failed"))
        )
    assert len(failures) == 10
    assert sum("account locked" in f for f in failures) == 2


def test_unknown_users_get_the_same_answer(staffed: Station) -> None:
    with pytest.raises(users.LoginRefused, match="Unknown user or wrong password"):
        users.login(staffed, "nobody", "whatever-1")


def test_passwords_are_changed_by_their_owner_or_an_admin(staffed: Station) -> None:
    lee = users.login(staffed, "mr.lee", "lee-password-1")
    users.set_password(staffed, lee, "mr.lee", "a-new-password")
    assert users.login(staffed, "mr.lee", "a-new-password") == lee
    with pytest.raises(PermissionDenied):
        users.set_password(staffed, lee, "office-admin", "taken-over!")
    admin = users.login(staffed, "office-admin", PASSWORD)
    users.set_password(staffed, admin, "mr.lee", "reset-by-admin")
    assert users.login(staffed, "mr.lee", "reset-by-admin") == lee
    with pytest.raises(PermissionDenied):
        users.list_users(staffed, lee)
    assert [u.username for u in users.list_users(staffed, admin)] == ["mr.lee", "office-admin"]


def test_audit_chain_catches_an_edited_row(staffed: Station) -> None:
    admin = users.login(staffed, "office-admin", PASSWORD)
    report = audit.verify_chain(staffed, admin)
    assert report.ok and report.entries >= 2
    with staffed.sessions.begin() as s:
        first = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id))
        s.execute(update(AuditEntry).where(AuditEntry.id == first).values(summary="nothing"))
    report = audit.verify_chain(staffed, admin)
    assert (report.ok, report.broken_at, report.reason) == (False, first, "this entry was edited")


def test_audit_chain_catches_a_deleted_row(staffed: Station) -> None:
    admin = users.login(staffed, "office-admin", PASSWORD)
    users.add_user(staffed, admin, "ms.kay", Role.SLT, "kay-password-1")
    with staffed.sessions.begin() as s:
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        s.execute(delete(AuditEntry).where(AuditEntry.id == ids[1]))
    report = audit.verify_chain(staffed, admin)
    assert (report.broken_at, report.reason) == (
        ids[2],
        "an entry before it was removed or changed",
    )


def test_only_slt_and_admins_verify(staffed: Station) -> None:
    lee = users.login(staffed, "mr.lee", "lee-password-1")
    with pytest.raises(PermissionDenied):
        audit.verify_chain(staffed, lee)


def test_chain_survives_the_database_round_trip(staffed: Station) -> None:
    """Hashes are computed before insert; what the database gives back must hash the same."""
    admin = users.login(staffed, "office-admin", PASSWORD)
    with staffed.read() as s:
        rows = s.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
    report = audit.verify_chain(staffed, admin)
    assert report.ok and report.entries == rows


def test_staff_read_the_audit_log_without_details(staffed: Station) -> None:
    admin = users.login(staffed, "office-admin", PASSWORD)
    lee = users.login(staffed, "mr.lee", "lee-password-1")
    full = audit.list_audit(staffed, action="user.add", reader=admin)
    brief = audit.list_audit(staffed, action="user.add", reader=lee)
    assert full[0].details == {"role": "staff"} and brief[0].details == {}
    assert brief[0].summary == full[0].summary


def test_a_password_typed_as_the_user_name_is_not_logged(staffed: Station) -> None:
    """People type their password into the name field: an unknown name is logged as a digest."""
    for _ in range(2):
        with pytest.raises(users.LoginRefused):
            users.login(staffed, "lee-password-1", "whatever-1")
    with staffed.read() as s:
        failed = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")))
        everything = " ".join(
            f"{e.actor} {e.target_id} {e.summary} {e.details}"
            for e in s.scalars(select(AuditEntry))
        )
    assert "lee-password-1" not in everything
    assert len(failed) == 2 and failed[0].actor == failed[1].actor  # the same name, one digest
    assert failed[0].actor.startswith("unknown user #") and failed[0].actor in failed[0].summary
