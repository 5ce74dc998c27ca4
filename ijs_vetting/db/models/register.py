"""The consent register: children, channels, scanned forms, and the consent, biometric and
safeguarding records appended (never overwritten) for each child, with their face templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ijs_vetting.db.models.base import Base, str_enum
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    BiometricEvent,
)

if TYPE_CHECKING:
    pass


class Child(Base):
    """A pupil as the school's MIS knows them."""

    __tablename__ = "children"
    __table_args__ = (CheckConstraint("year_group BETWEEN 0 AND 6", name="year_group_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mis_id: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    year_group: Mapped[int] = mapped_column(Integer)
    class_name: Mapped[str] = mapped_column(String(32), default="")
    on_roll: Mapped[bool] = mapped_column(Boolean, default=True)
    date_left: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # HMAC of what decides whether the child may be shown (on roll, left, year), with the
    # station's record key (see ijs_vetting.db.record_seals): a leaver put back on roll in the
    # database behind the station's back is found before it counts.
    seal: Mapped[str | None] = mapped_column(String(64))

    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="child", order_by="ConsentRecord.id"
    )

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"


class Channel(Base):
    """Where a photo may be published. A table, not an enum: the school can add channels."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Comma-separated header words that name this channel in an MIS export ("social media").
    csv_aliases: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # HMAC over the row (see ijs_vetting.db.config_seals): which channel a consent record is for
    # decides what it allows, so an edit outside the station is found.
    seal: Mapped[str | None] = mapped_column(String(64))


class Form(Base):
    """A scanned permission form; the bytes live once in the vault under their sha256."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str]
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64))


class ConsentRecord(Base):
    """A parent's answer for one channel. A newer record supersedes; a refusal is a record too."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    granted: Mapped[bool] = mapped_column(Boolean)
    given_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"))
    source: Mapped[str] = mapped_column(String(32))
    # HMAC of the row with the station's record key, chained per child (see
    # ijs_vetting.db.record_seals): an edit made outside the station is found before it counts.
    seal: Mapped[str | None] = mapped_column(String(64))
    # When this consent must be re-confirmed, if the record says (else the school's rule does:
    # see ijs_vetting.renewal).
    review_on: Mapped[date | None]

    child: Mapped[Child] = relationship(back_populates="consents")
    channel: Mapped[Channel] = relationship()
    form: Mapped[Form | None] = relationship()


class BiometricRecord(Base):
    """One event in a child's biometric ledger; see `BiometricEvent` for how state is read."""

    __tablename__ = "biometric_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    event: Mapped[BiometricEvent] = mapped_column(str_enum(BiometricEvent, 32))
    # Which parent wrote (each parent's latest word counts; one objection outweighs a consent).
    parent_name: Mapped[str | None] = mapped_column(String(100))
    given_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"))
    source: Mapped[str] = mapped_column(String(32))
    # HMAC of the row with the station's record key, chained per child (see
    # ijs_vetting.db.record_seals): an edit made outside the station is found before it counts.
    seal: Mapped[str | None] = mapped_column(String(64))


class SafeguardingRecord(Base):
    """The "never publish" flag (looked-after or adopted children, court orders), with history.

    Separate from consent on purpose: a parent's yes never overrides it.
    """

    __tablename__ = "safeguarding_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))
    # HMAC of the row with the station's record key, chained per child (see
    # ijs_vetting.db.record_seals): an edit made outside the station is found before it counts.
    seal: Mapped[str | None] = mapped_column(String(64))


class FaceTemplate(Base):
    """A child's 128-d reference encoding: biometric data, kept only under biometric consent.

    Photo faces never get a row here (or anywhere): their encodings live in memory for matching.
    """

    __tablename__ = "face_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    encoding: Mapped[bytes] = mapped_column(LargeBinary)
    reference_sha256: Mapped[str] = mapped_column(String(64))  # the reference photo, in the vault
    reference_name: Mapped[str]
    face_width: Mapped[float] = mapped_column(Float)
    sharpness: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
