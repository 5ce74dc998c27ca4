"""Photos as they come in from the school's devices: the devices, import batches, photos and
the faces found in them with their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ijs_vetting.db.models.base import Base, str_enum
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    FaceDecision,
    FaceOrigin,
    FaceOverride,
    FaceReason,
    PhotoStatus,
)
from ijs_vetting.imaging.box import Box


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
    status: Mapped[PhotoStatus] = mapped_column(str_enum(PhotoStatus, 20), index=True)
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
    decision: Mapped[FaceDecision] = mapped_column(str_enum(FaceDecision, 8))
    reason: Mapped[FaceReason] = mapped_column(str_enum(FaceReason, 24))
    # What a reviewer said; kept across re-vetting (carried to the re-detected face).
    origin: Mapped[FaceOrigin] = mapped_column(
        str_enum(FaceOrigin, 16), default=FaceOrigin.DETECTED, server_default="detected"
    )
    manual_child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    override: Mapped[FaceOverride | None] = mapped_column(str_enum(FaceOverride, 16))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]

    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def box(self) -> Box:
        """The face's box in upright-original pixels."""
        return Box(self.left, self.top, self.right, self.bottom)
