"""Handing the queue to the school's posting tool: `queue export OUTDIR`.

Every item still waiting to be posted (queued, and exported but not yet posted, so the manifest
is always the whole to-do list and exporting twice is harmless) is written to the posting folder
in the format `services.posting_folder` owns. The export runs in two transactions so that the
register knows what may be in the folder before anything is there:

1. intent: the waiting items' rows are locked (in id order), the folder and an entry per item
   are recorded and the folder is marked unsettled; committed before any file is written;
2. writing: the rows are locked again (a withdrawal that came in between has removed its item,
   which is skipped; one that comes now waits, then removes what was written), the folder is
   reconciled, each picture and caption is written and renamed into place, the manifest last;
   then the items are marked exported and the folder settled, with the audit entry.

A failure (a read-only folder, a full disk) rolls the second transaction back and leaves the
earlier export's files and manifest as they were; a crash leaves only files the register holds
or temporary files, and the folder unsettled, so the next start or export tidies it.
Each picture is checked again on the way out: its bytes must still hash to the vault name and
carry no metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import Anchor
from ijs_vetting.db.audit_log import chain_tip
from ijs_vetting.db.models import PostingEntry, QueueItem
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import QUEUE_WAITING, QueueStatus, ServiceError
from ijs_vetting.imaging.export import ExportError, check_clean
from ijs_vetting.json_report import JsonFields
from ijs_vetting.services.core.posting_folder import (
    caption_name,
    image_name,
    lock_folder,
    reconcile,
    register_folder,
    settle_folders,
    write_atomically,
    write_manifest,
)
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting.queue import QUEUE_ROLES
from ijs_vetting.services.posting.withdrawal import lock_items
from ijs_vetting.vault import VaultFileAltered, VaultFileMissing

log = logging.getLogger(__name__)
ACTION = "queue.export"


@dataclass(frozen=True)
class ExportedItem(JsonFields):
    id: int
    account: str
    image: str | None  # path relative to OUTDIR, None for a text-only post
    caption: str
    photo_id: int | None
    blurred_faces: int
    caption_file: str  # path relative to OUTDIR of the caption as UTF-8 text


@dataclass
class ExportReport:
    outdir: str
    items: list[ExportedItem] = field(default_factory=list)
    # Files of ours the register does not hold in this folder (withdrawn, posted, left by a
    # crash), and the ids of manifest entries removed for the same reason.
    removed: list[str] = field(default_factory=list)
    removed_entries: list[int] = field(default_factory=list)
    # The audit chain's tip as the export began: a copy outside the database to verify against.
    anchor: Anchor | None = None

    def manifest(self) -> dict[str, Any]:
        """The contract with the posting tool: exactly these fields."""
        anchor = {"audit_anchor": self.anchor.as_json()} if self.anchor else {}
        return {"items": [item.as_json() for item in self.items], **anchor}

    def as_json(self) -> dict[str, Any]:
        return {
            "outdir": self.outdir,
            **self.manifest(),
            "removed": self.removed,
            "removed_entries": self.removed_entries,
        }


def export_queue(station: Station, actor: Actor, outdir: Path) -> ExportReport:
    """Write the waiting items to `outdir` and mark them exported (SLT and admins)."""
    outdir = outdir.expanduser().resolve()
    station.require(actor, ACTION, *QUEUE_ROLES)
    station.require_vault()
    try:
        register_folder(station, outdir)
        _record_intent(station, outdir)
        return _write(station, actor, outdir)
    except OSError as exc:  # nothing is marked exported: the writing rolled back
        _tidy(station)
        raise ServiceError(f"Cannot write the export to {outdir}: {exc.strerror or exc}") from exc
    except ServiceError:
        _tidy(station)
        raise


def _tidy(station: Station) -> None:
    """After a failed export: take out at once the files it wrote for items it did not mark
    exported (else they would wait for the next start, readable by the posting tool). A folder
    that cannot be changed now stays unsettled; the original error is what the user hears."""
    try:
        settle_folders(station)
    except Exception:  # the database or the disk failing again: the next start tries
        log.warning("posting folders not tidied after a failed export", exc_info=True)


def _waiting(session: Session) -> list[QueueItem]:
    return lock_items(session, QueueItem.status.in_(QUEUE_WAITING))


def _record_intent(station: Station, outdir: Path) -> None:
    """Record every waiting item as going into `outdir`, committed before any file is written.

    Bookkeeping of the folder, not a change anyone sees in the queue (the items stay as they
    are until the writing commits, with the export's audit entry), hence a plain transaction.
    """
    with station.transaction() as session:
        items = _waiting(session)
        folder = lock_folder(session, outdir)
        known = set(
            session.scalars(select(PostingEntry.item_id).where(PostingEntry.folder_id == folder.id))
        )
        for item in items:
            if item.id not in known:
                session.add(PostingEntry(folder_id=folder.id, item_id=item.id))
        folder.unsettled = True


def _write(station: Station, actor: Actor, outdir: Path) -> ExportReport:
    with station.write(actor, ACTION, *QUEUE_ROLES) as w:
        items = _waiting(w.session)
        folder = lock_folder(w.session, outdir)
        tip = chain_tip(w.session)
        report = ExportReport(outdir=str(outdir), anchor=tip)
        report.removed, report.removed_entries = reconcile(w.session, folder)
        entries = {
            entry.item_id: entry
            for entry in w.session.scalars(
                select(PostingEntry).where(PostingEntry.folder_id == folder.id)
            )
        }
        for item in items:
            entry = entries.get(item.id)
            if entry is None:
                continue  # queued after the intent was recorded: the next export takes it
            report.items.append(_write_item(station, outdir, item))
            entry.written = True
            item.status, item.exported_at, item.exported_by = (
                QueueStatus.EXPORTED,
                utcnow(),
                actor.username,
            )
        write_manifest(outdir, [item.as_json() for item in report.items], tip.as_json())
        folder.unsettled = False
        w.audit(
            f"{len(report.items)} queue items exported to {outdir}",
            target_type="queue",
            details={
                "outdir": str(outdir),
                "items": [i.id for i in report.items],
                "removed": report.removed,
            },
        )
    return report


def _write_item(station: Station, outdir: Path, item: QueueItem) -> ExportedItem:
    """Write the item's picture (unless text only) and caption file into place."""
    handle = item.account.handle
    image = None
    if item.image_sha256 is not None:
        image = image_name(handle, item.id)
        write_atomically(outdir / image, _checked_image(station, item))
    caption = caption_name(handle, item.id)
    write_atomically(outdir / caption, item.caption.encode("utf-8"))
    return ExportedItem(
        item.id,
        handle,
        image,
        item.caption,
        item.photo_id,
        item.blurred_faces,
        caption,
    )


def _checked_image(station: Station, item: QueueItem) -> bytes:
    """The item's rendering from the vault, refused unless intact (the bytes its name says:
    a picture replaced in the vault would post a stranger's face) and free of metadata."""
    assert item.image_sha256 is not None
    photo = f" ({item.photo.filename})" if item.photo is not None else ""
    try:
        data = station.vault.read_bytes(item.image_sha256, f"The picture of queue item {item.id}")
    except (VaultFileMissing, VaultFileAltered) as exc:
        raise ServiceError(
            f"{exc}{photo}. Nothing was exported: withdraw the item and clear the photo again."
        ) from exc
    try:
        check_clean(data)
    except ExportError as exc:
        raise ServiceError(f"Queue item {item.id}{photo} cannot be exported: {exc}") from exc
    return data
