"""The station's own rows: its users, the audit log, settings, and the counter of write
transactions other stations' GUIs watch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ijs_vetting.db.models.base import Base, str_enum
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    Role,
)


class User(Base):
    """A person who uses the station; the role decides what the services let them do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str]
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(256))  # Argon2id
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]


class AuditEntry(Base):
    """One mutating service call (or a refused one): who, what, when, on which record."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The hash chain (see ijs_vetting.audit_chain): editing or removing a row breaks it.
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Text that must go when a child's record is erased (captions naming children): kept out of
    # the hashed fields, which hold only its salted digest (see ijs_vetting.db.audit_log).
    private: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The station (PC) the change was made on; hashed with the entry when set (audit_chain).
    station: Mapped[str | None] = mapped_column(String(64))


class Setting(Base):
    """A station setting an admin changed (defaults live in resources/defaults.toml)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    # HMAC over key and value (see ijs_vetting.db.config_seals) for the settings an admin may
    # change; the station's own markers (station.*) carry none.
    seal: Mapped[str | None] = mapped_column(String(64))


class RegisterChanges(Base):
    """One row counting write transactions: a station's GUI polls it to notice what another
    station changed, without reloading anything when nothing did."""

    __tablename__ = "register_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
