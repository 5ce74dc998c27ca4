"""The posting folder: an outbox whose contents the register owns.

`queue export OUTDIR` hands items to the school's posting tool as files: `<account>/<item id>.jpg`
(the verified rendering), `<account>/<item id>.txt` (its caption, UTF-8) and `manifest.json`, the
to-do list the tool reads. This module owns that format and keeps the folder honest:

- the register records the folder (`PostingFolder`) and every item going into it
  (`PostingEntry`) before any file is written, so a crash at any point leaves nothing the
  register cannot find;
- each file is written under a temporary name, flushed to disk and renamed, the manifest last;
- `reconcile` removes every file of ours (the names above and temporary files) and every
  manifest entry the register does not hold as waiting in that folder. It runs before every
  export and, for folders an export or a removal left unsettled, at every station start;
- `take_out` removes a posted or withdrawn item from every folder it was exported to.

Files that are not ours (a note the school keeps there) are never touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ijs_vetting.db.models import PostingEntry, PostingFolder, QueueItem
from ijs_vetting.domain import QUEUE_WAITING

if TYPE_CHECKING:
    from ijs_vetting.services.core.station import Station

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TEMP_PREFIX = ".incoming-"
_OURS = re.compile(r"^\d+\.(jpg|txt)$")


def image_name(handle: str, item_id: int) -> str:
    """Where an item's picture goes, relative to OUTDIR: `<account>/<item id>.jpg`."""
    return f"{handle}/{item_id}.jpg"


def caption_name(handle: str, item_id: int) -> str:
    """Where an item's caption goes, relative to OUTDIR: `<account>/<item id>.txt`."""
    return f"{handle}/{item_id}.txt"


def item_files(item: QueueItem) -> list[str]:
    """An exported item's files in a folder (relative): its picture (unless text only), caption."""
    handle = item.account.handle
    picture = [image_name(handle, item.id)] if item.image_sha256 is not None else []
    return [*picture, caption_name(handle, item.id)]


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file that is flushed to disk and renamed, so the posting tool never
    reads half a file and a crash leaves either the old file, the new one or a temporary file
    (which `reconcile` removes).

    The file is then read back: the folder must hold exactly the bytes that were checked (a
    verified rendering), whatever the disk, the share or another program did to them on the
    way. A file that reads back different is removed and the write fails (`OSError`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    if hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(data).digest():
        path.unlink(missing_ok=True)
        # No errno: not a fault of the station's own disk (`faults.storage_fault`), but of this one.
        raise OSError(f"{path} did not read back as it was written (the file was removed)")


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open a folder and commits renames itself."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_manifest(
    outdir: Path, entries: list[dict[str, Any]], anchor: dict[str, Any] | None = None
) -> None:
    """The manifest: the items, and the audit chain's tip when they were exported
    (`audit_anchor`, which `audit verify --anchor` checks the chain against later)."""
    body: dict[str, Any] = {"items": entries}
    if anchor is not None:
        body["audit_anchor"] = anchor
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    write_atomically(outdir / MANIFEST, text.encode("utf-8"))


def register_folder(station: Station, outdir: Path) -> None:
    """Make sure the register knows `outdir` (its own transaction: two stations exporting to a
    new folder at once both end up with the one row)."""
    try:
        with station.transaction() as session:
            if session.scalar(select(PostingFolder.id).where(PostingFolder.path == str(outdir))):
                return
            session.add(PostingFolder(path=str(outdir)))
    except IntegrityError:
        pass  # the other station registered it first


def lock_folder(session: Session, outdir: Path) -> PostingFolder:
    """The registered folder, its row locked (after the items: the lock order everywhere)."""
    return session.scalars(
        select(PostingFolder)
        .where(PostingFolder.path == str(outdir))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def held(session: Session, folder: PostingFolder) -> list[QueueItem]:
    """The items the register holds as exported to `folder` and still waiting: only their files
    may be there. An item whose intent alone is recorded was being written when an export
    failed or was killed; its files go (the next export writes them again)."""
    return list(
        session.scalars(
            select(QueueItem)
            .join(PostingEntry, PostingEntry.item_id == QueueItem.id)
            .where(
                PostingEntry.folder_id == folder.id,
                PostingEntry.written.is_(True),
                QueueItem.status.in_(QUEUE_WAITING),
            )
            .order_by(QueueItem.id)
        )
    )


def reconcile(session: Session, folder: PostingFolder) -> tuple[list[str], list[int]]:
    """Remove from the folder every file of ours and every manifest entry the register does not
    hold there: (relative paths removed, manifest entry ids removed). Call with the folder's row
    locked. Raises `OSError` when the folder cannot be cleaned (then nothing may be written)."""
    items = held(session, folder)
    allowed = {name for item in items for name in item_files(item)}
    root = Path(folder.path)
    if not root.is_dir():
        return [], []
    removed: list[str] = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(TEMP_PREFIX) and path.is_file():
            path.unlink()
            removed.append(path.name)
        elif path.is_dir() and not path.is_symlink():
            for file in sorted(path.iterdir()):
                name = f"{path.name}/{file.name}"
                ours = file.name.startswith(TEMP_PREFIX) or _OURS.match(file.name)
                if ours and name not in allowed and file.is_file():
                    file.unlink()
                    removed.append(name)
    dropped = _drop_from_manifest(root, keep={item.id for item in items})
    return removed, dropped


def _drop_from_manifest(
    root: Path, *, keep: Collection[int] | None = None, drop: Collection[int] = ()
) -> list[int]:
    """Rewrite the manifest without the entries not in `keep` (or in `drop`); their ids. An
    unreadable manifest is replaced by an empty one (the next export writes the whole list)."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        return []
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        entries, anchor = raw.get("items", []), raw.get("audit_anchor")
        ids = [entry["id"] for entry in entries]
    except (ValueError, AttributeError, KeyError, TypeError):
        write_manifest(root, [])
        return []
    gone = [i for i in ids if (keep is not None and i not in keep) or i in drop]
    if gone:
        write_manifest(root, [e for e in entries if e["id"] not in gone], anchor)
    return gone


def take_out(session: Session, items: Iterable[QueueItem]) -> None:
    """Remove these items (posted or withdrawn, rows locked by the caller) from every folder they
    were exported to, including one an export is writing (it holds the items' rows while it
    writes, so the caller's lock waited for it), and forget the entries. A folder that cannot be
    changed now (a share offline) is marked unsettled: the next start reconciles it. So is one
    this PC cannot see at all — another station's own folder, where nothing to remove is not
    the same as nothing left — so that station takes the files out when it next starts."""
    by_id = {item.id: item for item in items}
    if not by_id:
        return
    entries = list(session.scalars(select(PostingEntry).where(PostingEntry.item_id.in_(by_id))))
    folder_ids = sorted({entry.folder_id for entry in entries})
    folders = session.scalars(
        select(PostingFolder)
        .where(PostingFolder.id.in_(folder_ids))
        .order_by(PostingFolder.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for folder in folders:
        mine = [by_id[e.item_id] for e in entries if e.folder_id == folder.id]
        root = Path(folder.path)
        if not root.is_dir() or not _remove(root, mine):
            folder.unsettled = True
    for entry in entries:
        session.delete(entry)


def _remove(root: Path, items: list[QueueItem]) -> bool:
    """Take the items out of the manifest first (the posting tool then no longer sees them),
    then delete their files; each step tried even if another failed. False if any failed."""
    steps: list[tuple[str, Callable[[], object]]] = [
        ("manifest", lambda: _drop_from_manifest(root, drop={item.id for item in items}))
    ]
    for item in items:
        steps += [(name, (root / name).unlink) for name in item_files(item)]
    done = True
    for name, step in steps:
        try:
            step()
        except FileNotFoundError:
            pass
        except OSError as exc:
            done = False
            log.warning("could not remove %s from posting folder %s: %s", name, root, exc)
    return done


def settle_folders(station: Station) -> list[str]:
    """At start: reconcile the folders an export or a removal left unsettled (a crash, a share
    that was offline); the files removed, as `folder/relative path`. Cheap when all is well: one
    query. A folder still unreachable stays unsettled; a busy database is left for next time."""
    with station.read() as session:
        if session.scalar(select(PostingFolder.id).where(PostingFolder.unsettled)) is None:
            return []
    removed: list[str] = []
    with station.transaction() as session:
        folders = session.scalars(
            select(PostingFolder)
            .where(PostingFolder.unsettled)
            .order_by(PostingFolder.id)
            .with_for_update(skip_locked=True)  # one being exported: the export reconciles it
        )
        for folder in folders:
            if not Path(folder.path).is_dir():
                continue  # a share offline looks like no folder: try again at the next start
            try:
                files, entries = reconcile(session, folder)
            except OSError as exc:
                log.warning("posting folder %s cannot be reconciled yet: %s", folder.path, exc)
                continue
            folder.unsettled = False
            removed += [f"{folder.path}/{name}" for name in files]
            if files or entries:
                log.warning(
                    "posting folder %s: removed %s and manifest entries %s, which the register "
                    "does not hold there",
                    folder.path,
                    files,
                    entries,
                )
    return removed
