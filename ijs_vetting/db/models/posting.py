"""Posting: the year-group accounts, the queue of cleared items (and the children each
shows), and the posting folders an export wrote them to."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ijs_vetting.db.models.base import Base, str_enum
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    QueueStatus,
)

if TYPE_CHECKING:
    from ijs_vetting.db.models.photos import Photo
    from ijs_vetting.db.models.register import Child


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
    status: Mapped[QueueStatus] = mapped_column(str_enum(QueueStatus, 16), index=True)
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
