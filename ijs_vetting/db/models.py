"""ORM models of the consent register.

History is never overwritten: consent, biometric and safeguarding changes are appended as new
records and the current state is the newest record (highest id) per child and channel. That keeps
the evidence an ICO inquiry or a parent's question needs — who recorded what, when, from which
form — while the queries for "current" stay one GROUP BY away (see `ijs_vetting.db.state`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ijs_vetting.db.types import UTCDateTime, utcnow
from ijs_vetting.domain import (
    BiometricEvent,
    FaceDecision,
    FaceOrigin,
    FaceOverride,
    FaceReason,
    PhotoStatus,
    QueueStatus,
    Role,
)
from ijs_vetting.imaging.box import Box

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so Alembic batch mode can alter SQLite tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        str: String(200),
        dict[str, Any]: JSON(),
    }


def _str_enum(kind: type[enum.StrEnum], length: int) -> Enum:
    """A Python enum stored as its string values (no native DB enum: simple to migrate)."""
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class User(Base):
    """A person who uses the station; the role decides what the services let them do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str]
    role: Mapped[Role] = mapped_column(_str_enum(Role, 16))
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
    event: Mapped[BiometricEvent] = mapped_column(_str_enum(BiometricEvent, 32))
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


class Account(Base):
    """A posting account (the policy's @year3ijs ... @Year6IJS) and the year groups it serves."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # HMAC over the row and its year groups (see ijs_vetting.db.config_seals): it decides where
    # a photo is posted, so an edit outside the station is found.
    seal: Mapped[str | None] = mapped_column(String(64))

    year_groups: Mapped[list[AccountYearGroup]] = relationship(
        back_populates="account",
        cascade="all, delete-orphan",
        order_by="AccountYearGroup.year_group",
    )


class AccountYearGroup(Base):
    __tablename__ = "account_year_groups"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    year_group: Mapped[int] = mapped_column(Integer, primary_key=True)

    account: Mapped[Account] = relationship(back_populates="year_groups")


class Device(Base):
    """A registered school device; photos from any other camera go to review."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    make: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64))


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


class ImportBatch(Base):
    """One run of importing a folder; an interrupted one is finished by the next run."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(Text)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Photo(Base):
    """An imported original (stored read-only in the vault) and where vetting left it."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str]
    source_path: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)  # upright, in pixels
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None]
    camera_make: Mapped[str | None] = mapped_column(String(64))
    camera_model: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[PhotoStatus] = mapped_column(_str_enum(PhotoStatus, 20), index=True)
    status_note: Mapped[str | None] = mapped_column(Text)
    vetted_at: Mapped[datetime | None]
    # Review: how many people the reviewer counted (the photo cannot be cleared while fewer
    # faces are marked), and who accepted a photo from an unregistered camera.
    head_count: Mapped[int | None] = mapped_column(Integer)
    camera_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    # An SLT rejection is a person's decision: re-vetting never lifts it.
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    rejected_at: Mapped[datetime | None]
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    # Why the photo was sent back to review (failed verification, a withdrawn consent): it
    # stays in review, whatever re-deciding says, until a person accepts it again.
    hold_reason: Mapped[str | None] = mapped_column(Text)

    faces: Mapped[list[PhotoFace]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", order_by="PhotoFace.id"
    )
    device: Mapped[Device | None] = relationship()


class PhotoFace(Base):
    """A face in a photo: its box, what matching found and the decision. Never an encoding."""

    __tablename__ = "photo_faces"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), index=True)
    left: Mapped[int] = mapped_column(Integer)
    top: Mapped[int] = mapped_column(Integer)
    right: Mapped[int] = mapped_column(Integer)
    bottom: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    too_small: Mapped[bool] = mapped_column(Boolean)
    candidate_child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    distance: Mapped[float | None] = mapped_column(Float)
    runner_up_distance: Mapped[float | None] = mapped_column(Float)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    decision: Mapped[FaceDecision] = mapped_column(_str_enum(FaceDecision, 8))
    reason: Mapped[FaceReason] = mapped_column(_str_enum(FaceReason, 24))
    # What a reviewer said; kept across re-vetting (carried to the re-detected face).
    origin: Mapped[FaceOrigin] = mapped_column(
        _str_enum(FaceOrigin, 16), default=FaceOrigin.DETECTED, server_default="detected"
    )
    manual_child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    override: Mapped[FaceOverride | None] = mapped_column(_str_enum(FaceOverride, 16))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]

    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def box(self) -> Box:
        """The face's box in upright-original pixels."""
        return Box(self.left, self.top, self.right, self.bottom)


class QueueItem(Base):
    """One post waiting for, or gone to, a year-group account: a verified rendering (or text only).

    The image is the masked, metadata-free rendering stored in the vault under its sha256 (never
    the original). Timestamps and people for each step are kept on the row, so the queue itself
    answers "who cleared this, when was it exported, posted, withdrawn or taken down, and why".
    """

    __tablename__ = "queue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"), index=True)
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(Text, default="")
    blurred_faces: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[QueueStatus] = mapped_column(_str_enum(QueueStatus, 16), index=True)
    cleared_by: Mapped[str] = mapped_column(String(64))
    cleared_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_at: Mapped[datetime | None]
    exported_by: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[str | None] = mapped_column(String(64))
    post_url: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    # A posted item showing a child who may no longer be shown: listed until taken down.
    takedown_requested_at: Mapped[datetime | None]
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    taken_down_at: Mapped[datetime | None]
    taken_down_by: Mapped[str | None] = mapped_column(String(64))

    account: Mapped[Account] = relationship()
    photo: Mapped[Photo | None] = relationship()
    children: Mapped[list[QueueItemChild]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="QueueItemChild.child_id"
    )


class QueueItemChild(Base):
    """A child identified in a queued photo, and the consent the clearance relied on.

    `shown` children appear unmasked: `consent_record_id` is their consent record at clearing
    time and `by_reviewer` says whether a person (not a face match) identified them, which decides
    whether withdrawing biometric consent matters. Masked children are recorded too, because a
    safeguarding flag pulls every photo a child is in, masked or not.
    """

    __tablename__ = "queue_item_children"

    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), primary_key=True, index=True)
    shown: Mapped[bool] = mapped_column(Boolean)
    by_reviewer: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_record_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))

    item: Mapped[QueueItem] = relationship(back_populates="children")
    child: Mapped[Child] = relationship()


class PostingFolder(Base):
    """A folder `queue export` writes to. The register owns what is in it: only the files of its
    entries may be there (`services.posting_folder.reconcile` removes anything else of ours)."""

    __tablename__ = "posting_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)  # absolute
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An export or a removal did not finish here: the next start reconciles the folder.
    unsettled: Mapped[bool] = mapped_column(Boolean, default=False)


class PostingEntry(Base):
    """An item the register holds as exported to a folder: its picture, caption file and
    manifest entry may be there. Recorded before any of them is written, deleted when the item
    is posted or withdrawn (its files are removed with it)."""

    __tablename__ = "posting_entries"

    folder_id: Mapped[int] = mapped_column(ForeignKey("posting_folders.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), primary_key=True, index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # False while only the intent is recorded; True once an export to the folder finished.
    written: Mapped[bool] = mapped_column(Boolean, default=False)

    folder: Mapped[PostingFolder] = relationship()
    item: Mapped[QueueItem] = relationship()


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
