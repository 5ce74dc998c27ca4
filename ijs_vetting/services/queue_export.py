"""Handing the queue to the school's posting tool: a folder of pictures and a manifest.

`queue export OUTDIR` writes every item still waiting to be posted (queued, and exported but not
yet posted, so the manifest is always the whole to-do list and exporting twice is harmless) as
`OUTDIR/<account>/<item id>.jpg`, then `OUTDIR/manifest.json` last, so a tool that waits for the
manifest never sees a half-written export. Pictures of items withdrawn since an earlier export to
the same folder are deleted from it. Each picture is checked again on the way out: its bytes
must still hash to the vault name and carry no metadata.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ijs_vetting.db.models import QueueItem
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import QueueStatus, ServiceError
from ijs_vetting.imaging.export import ExportError, check_clean
from ijs_vetting.services.queue import (
    ACTIVE,
    MANIFEST,
    QUEUE_ROLES,
    export_dirs,
    export_file,
    write_atomically,
)
from ijs_vetting.services.station import Actor, Station


@dataclass(frozen=True)
class ExportedItem:
    id: int
    account: str
    image: str | None  # path relative to OUTDIR, None for a text-only post
    caption: str
    photo_id: int | None
    blurred_faces: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "image": self.image,
            "caption": self.caption,
            "photo_id": self.photo_id,
            "blurred_faces": self.blurred_faces,
        }


@dataclass
class ExportReport:
    outdir: str
    items: list[ExportedItem] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # stale pictures of withdrawn items

    def manifest(self) -> dict[str, Any]:
        """The contract with the posting tool: exactly these fields."""
        return {"items": [item.as_json() for item in self.items]}

    def as_json(self) -> dict[str, Any]:
        return {"outdir": self.outdir, **self.manifest(), "removed": self.removed}


def export_queue(station: Station, actor: Actor, outdir: Path) -> ExportReport:
    """Write the waiting items to `outdir` and mark them exported (SLT and admins)."""
    outdir = outdir.expanduser().resolve()
    try:
        return _export(station, actor, outdir)
    except OSError as exc:  # nothing is marked exported: the write rolled back
        raise ServiceError(f"Cannot write the export to {outdir}: {exc.strerror or exc}") from exc


def _export(station: Station, actor: Actor, outdir: Path) -> ExportReport:
    """Mark the waiting items exported first (taking their rows: a withdrawal at the same
    moment waits, then retracts them from this folder), then write the files; if anything
    fails, the files written so far are removed again and nothing is marked."""
    written: list[Path] = []
    try:
        with station.write(actor, "queue.export", *QUEUE_ROLES) as w:
            report = ExportReport(outdir=str(outdir))
            query = select(QueueItem).order_by(QueueItem.id)
            items = list(
                w.session.scalars(query.where(QueueItem.status.in_(ACTIVE)).with_for_update())
            )
            for item in items:
                item.status, item.exported_at, item.exported_by = (
                    QueueStatus.EXPORTED,
                    utcnow(),
                    actor.username,
                )
                folders = {str(p) for p in export_dirs(item)} | {str(outdir)}
                item.export_dir = "\n".join(sorted(folders))
            w.session.flush()
            for item in items:
                image = None
                if item.image_sha256 is not None:
                    target = export_file(outdir, item.account.handle, item.id)
                    write_atomically(target, _checked_image(station, item))
                    written.append(target)
                    image = target.relative_to(outdir).as_posix()
                report.items.append(
                    ExportedItem(
                        item.id,
                        item.account.handle,
                        image,
                        item.caption,
                        item.photo_id,
                        item.blurred_faces,
                    )
                )
            gone = (QueueStatus.WITHDRAWN, QueueStatus.TAKEN_DOWN)
            for item in w.session.scalars(query.where(QueueItem.status.in_(gone))):
                if str(outdir) not in {str(p) for p in export_dirs(item)}:
                    continue
                stale = export_file(outdir, item.account.handle, item.id)
                if stale.exists():
                    stale.unlink()
                    report.removed.append(stale.relative_to(outdir).as_posix())
            text = json.dumps(report.manifest(), indent=2, ensure_ascii=False) + "\n"
            write_atomically(outdir / MANIFEST, text.encode("utf-8"))
            w.audit(
                f"{len(report.items)} queue items exported to {outdir}",
                target_type="queue",
                details={"outdir": str(outdir), "items": [i.id for i in report.items]},
            )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return report


def _checked_image(station: Station, item: QueueItem) -> bytes:
    """The item's rendering from the vault, refused unless intact and free of metadata."""
    assert item.image_sha256 is not None
    try:
        data = station.vault.read_bytes(item.image_sha256)
    except OSError as exc:
        raise ServiceError(
            f"The picture of queue item {item.id} is missing from the vault ({exc})."
        ) from exc
    if hashlib.sha256(data).hexdigest() != item.image_sha256:
        raise ServiceError(f"The picture of queue item {item.id} is damaged in the vault.")
    try:
        check_clean(data)
    except ExportError as exc:
        raise ServiceError(f"Queue item {item.id} cannot be exported: {exc}") from exc
    return data
