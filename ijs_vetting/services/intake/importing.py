"""Importing photos from the school iPads: provenance, duplicates, then vetting.

An import walks a folder (an iPad's DCIM or a copy), stores each new original in the vault and
registers it as `pending` — one small transaction per photo, so a crash or Cancel keeps what was
done — then vets everything pending. Running the same import again therefore resumes it: known
files are recognised by their content hash and skipped, unfinished photos are vetted. A known
file whose original is missing from the vault (or altered there) is put back, so importing the
same file again restores it.

Only regular files inside the folder are read: links are not followed (a link to /etc/passwd or
/dev/zero named .jpg is refused, not stored), pipes and devices are refused without opening them
for a read that would never end, and a file over `MAX_PHOTO_BYTES` is refused unread. Sub-folders
that cannot be read, or links to folders elsewhere, are reported by name.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Device, ImportBatch, Photo
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    InvalidInput,
    NotFound,
    PhotoStatus,
)
from ijs_vetting.faces.pool import FacePool
from ijs_vetting.imaging.decode import ImageDecodeError, upright_size
from ijs_vetting.imaging.exif import read_capture_info
from ijs_vetting.progress import Cancelled, Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.vetting import VET_ROLES, vet_pending

log = logging.getLogger(__name__)

PHOTO_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".heif": "image/heif",
}
IMPORT_ROLES = VET_ROLES
# Far above any iPad photo (a 48 MP HEIC is ~10 MB, a JPEG ~25 MB); a bigger file is not a photo
# from a school device, and reading it whole would cost the station its memory.
MAX_PHOTO_BYTES = 200 * 1024 * 1024
NOT_A_FILE = "not imported: only regular files inside the folder are, and this is {what}"


@dataclass
class ImportReport:
    """What an import found and did; `failed` photos are stored too, with their reason."""

    folder: str
    batch_id: int
    found: int = 0
    imported: int = 0
    duplicates: int = 0
    restored: int = 0  # duplicates whose original was missing or altered in the vault: put back
    # photos stored whose picture cannot be read (at import, or when vetted; also in `failed`)
    unreadable: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # extension -> count
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)
    vetted: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    likeness: list[int] = field(default_factory=list)  # `VetReport.likeness`; not in the JSON

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "folder": self.folder,
            "found": self.found,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "restored": self.restored,
            "unreadable": self.unreadable,
            "skipped": dict(sorted(self.skipped.items())),
            "failed": [{"file": f, "reason": r} for f, r in self.failed],
            "skipped_folders": [{"folder": f, "reason": r} for f, r in self.skipped_folders],
            "vetted": self.vetted,
            "statuses": self.statuses,
            "cancelled": self.cancelled,
        }


@dataclass
class FolderScan:
    """What `walk_photos` found: photos to import, and what it left out and why."""

    photos: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # other files, by extension
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    skipped_folders: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)


class _NotAPhotoFile(Exception):
    """A photo-named entry that is not a regular file of a sane size (the message says why)."""


def walk_photos(folder: Path) -> FolderScan:
    """Photo files under `folder` in a stable order, everything else counted by extension, and
    the entries and sub-folders left out, by name, with the reason.

    Hidden files (macOS `._` companions, `.DS_Store`) are neither photos nor worth reporting.
    """
    scan = FolderScan()

    def unreadable(error: OSError) -> None:
        where = _relative(Path(error.filename or folder), folder)
        scan.skipped_folders.append((where, f"cannot be read: {error.strerror or error}"))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        for name in sorted(d for d in dirs if not d.startswith(".")):
            if os.path.islink(os.path.join(root, name)):
                where = _relative(Path(root) / name, folder)
                scan.skipped_folders.append((where, "a link to a folder elsewhere: not followed"))
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))
        )
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = Path(name).suffix.lower()
            if suffix not in PHOTO_TYPES:
                scan.skipped[suffix or "(no extension)"] += 1
                continue
            path = Path(root) / name
            try:
                _check_entry(os.lstat(path))
            except _NotAPhotoFile as refused:
                scan.refused.append((name, str(refused)))
            except OSError as exc:
                scan.refused.append((name, f"cannot read the file: {exc.strerror or exc}"))
            else:
                scan.photos.append(path)
    return scan


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _check_entry(info: os.stat_result) -> None:
    """Refuse links, pipes, devices and oversized files (`info` from lstat or fstat)."""
    if stat.S_ISLNK(info.st_mode):
        raise _NotAPhotoFile(NOT_A_FILE.format(what="a link (links are not followed)"))
    if not stat.S_ISREG(info.st_mode):
        raise _NotAPhotoFile(NOT_A_FILE.format(what="a pipe, device or socket"))
    if info.st_size > MAX_PHOTO_BYTES:
        raise _NotAPhotoFile(
            f"not imported: {info.st_size / 1e6:.0f} MB is more than any photo "
            f"(at most {MAX_PHOTO_BYTES / 1e6:.0f} MB)"
        )


def _read_photo(path: Path) -> bytes:
    """The file's bytes, opened without following a link or blocking on a pipe, and checked
    again on the open file (it may have been swapped since the folder was walked)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _NotAPhotoFile(NOT_A_FILE.format(what="a link (links are not followed)")) from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        _check_entry(os.fstat(handle.fileno()))
        data = handle.read(MAX_PHOTO_BYTES + 1)  # a file still growing stops here
    if len(data) > MAX_PHOTO_BYTES:
        raise _NotAPhotoFile(f"not imported: more than {MAX_PHOTO_BYTES / 1e6:.0f} MB")
    return data


def import_folder(
    station: Station,
    actor: Actor,
    folder: Path,
    *,
    device: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import and vet the photos in `folder` (staff, SLT and admins)."""
    station.require(actor, "photos.import", *IMPORT_ROLES)
    station.require_vault()
    progress = progress or Progress()
    if not folder.is_dir():
        raise InvalidInput(f"The folder '{folder}' does not exist.")
    # The start is audited with the batch it opens, so every photo registered after it (each
    # in its own transaction: a crash loses none of them) belongs to an audited import even
    # when the import never reaches its end.
    with station.write(actor, "photos.import", *IMPORT_ROLES) as w:
        device_id = _device_id(w.session, device)
        batch = ImportBatch(
            folder=str(folder), device_id=device_id, started_by=actor.username, counts={}
        )
        w.session.add(batch)
        w.session.flush()
        w.audit(
            f"import from {folder.name} started",
            target_type="import",
            target_id=str(batch.id),
            details={"folder": str(folder), "device": device},
        )
        report = ImportReport(folder=str(folder), batch_id=batch.id)
    scan = walk_photos(folder)
    files, report.skipped = scan.photos, scan.skipped
    report.failed.extend(scan.refused)
    report.skipped_folders = scan.skipped_folders
    report.found = len(files) + len(scan.refused)
    try:
        _copy_and_vet(station, actor, files, report, device_id, progress, workers)
    except Cancelled:
        report.cancelled = True
    except BaseException:
        # Whatever stopped the import, what it did so far is recorded before the error goes on
        # (if the database itself is the problem, the audit write fails too and says so).
        report.cancelled = True
        with contextlib.suppress(Exception):
            _finish(station, actor, report)
        raise
    _finish(station, actor, report)
    return report


def _copy_and_vet(
    station: Station,
    actor: Actor,
    files: list[Path],
    report: ImportReport,
    device_id: int | None,
    progress: Progress,
    workers: int | None,
) -> None:
    """Copy each file into the vault and register it, then vet everything pending; the
    workers load their models while the copying goes on."""
    with FacePool(workers) as pool:
        progress.start(len(files), "Copying photos into the station")
        for path in files:
            _register(
                station, actor, path, batch_id=report.batch_id, device_id=device_id, report=report
            )
            if report.imported:
                pool.start()
            progress.step(path.name)
        vetting = vet_pending(station, actor, progress=progress, pool=pool)
    report.vetted, report.statuses = vetting.vetted, vetting.statuses
    report.likeness = vetting.likeness
    report.failed.extend(vetting.failed)
    report.unreadable += len(vetting.failed)


def _device_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    found = session.scalar(select(Device).where(Device.name == name))
    if found is None:
        known = ", ".join(session.scalars(select(Device.name).order_by(Device.name))) or "none yet"
        raise NotFound(f"There is no registered device called '{name}' (registered: {known}).")
    return found.id


def _register(
    station: Station,
    actor: Actor,
    path: Path,
    *,
    batch_id: int,
    device_id: int | None,
    report: ImportReport,
) -> None:
    """Store one file in the vault and register it (pending, or failed if unreadable)."""
    try:
        data = _read_photo(path)
    except _NotAPhotoFile as refused:
        report.failed.append((path.name, str(refused)))
        return
    except OSError as exc:
        report.failed.append((path.name, f"cannot read the file: {exc.strerror or exc}"))
        return
    sha = hashlib.sha256(data).hexdigest()
    with station.transaction() as session:
        known = session.scalar(select(Photo).where(Photo.sha256 == sha))
        if known is not None:
            report.duplicates += 1
            if station.vault.restore(data):
                report.restored += 1
                log.warning("original of photo %s restored to the vault from %s", known.id, path)
                if known.status is PhotoStatus.FAILED:
                    known.status, known.status_note = PhotoStatus.PENDING, None  # vetted now
            return
        station.vault.put_bytes(data)
        photo = Photo(
            sha256=sha,
            filename=path.name,
            source_path=str(path),
            media_type=PHOTO_TYPES[path.suffix.lower()],
            batch_id=batch_id,
            device_id=device_id,
            imported_by=actor.username,
            status=PhotoStatus.PENDING,
        )
        try:
            photo.width, photo.height = upright_size(data)  # first: it refuses a huge picture
            info = read_capture_info(data)
            photo.taken_at = _as_utc(info.taken_at)
            photo.camera_make, photo.camera_model = info.make, info.model
        except ImageDecodeError as exc:
            photo.status, photo.status_note = PhotoStatus.FAILED, exc.reason
            report.failed.append((path.name, exc.reason))
            report.unreadable += 1
        session.add(photo)
        report.imported += 1


def _as_utc(taken: datetime | None) -> datetime | None:
    """EXIF times without an offset are the iPad's local time: read them in this PC's zone."""
    if taken is None:
        return None
    return taken if taken.tzinfo is not None else taken.astimezone()


def _finish(station: Station, actor: Actor, report: ImportReport) -> None:
    with station.write(actor, "photos.import", *IMPORT_ROLES) as w:
        batch = w.session.get(ImportBatch, report.batch_id)
        assert batch is not None
        batch.counts = report.as_json()
        batch.finished_at = utcnow()
        state = "cancelled" if report.cancelled else "finished"
        w.audit(
            f"import from {Path(report.folder).name} {state}: {report.imported} new, "
            f"{report.duplicates} already imported, {len(report.failed)} failed",
            target_type="import",
            target_id=str(report.batch_id),
            details=report.as_json(),
        )
