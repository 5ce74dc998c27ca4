"""Storage faults in words: a full disk, a read-only folder, a damaged database file.

The station's fronts show a refusal as one line (CLI) or one dialog (GUI). Faults of the disk
or the database file arrive as `OSError` or as the database driver's error, deep inside a
service; `storage_fault` turns the ones the office can act on into that one sentence, and says
that nothing was changed (every write is one transaction, rolled back when the fault hits).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from sqlalchemy.exc import DBAPIError

_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)
_DENIED = (errno.EROFS, errno.EACCES, errno.EPERM)
UNCHANGED = "Nothing was changed"
# SQLite meets a full disk as a "disk I/O error" when it cannot grow its shared-memory file.
_NEARLY_FULL = 1 << 20
DISK_FULL = f"The disk is full{{where}}. {UNCHANGED}; free some space and try again."


def storage_fault(exc: BaseException, folder: Path | None = None) -> str | None:
    """The sentence for a storage fault, or None when `exc` is not one (a bug stays a bug).
    `folder` is where the data lives: an I/O error there while its disk is full is that."""
    full = folder is not None and _nearly_full(folder)
    if isinstance(exc, OSError):
        return _os_fault(exc, full)
    if isinstance(exc, DBAPIError):
        return _database_fault(str(exc.orig).lower(), full)
    return None


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def _os_fault(exc: OSError, full: bool) -> str | None:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in _FULL or (exc.errno == errno.EIO and full):
        return DISK_FULL.format(where=where)
    if exc.errno in _DENIED:
        return (
            f"The station may not write to its data{where}: the folder is read-only or belongs "
            f"to another user. {UNCHANGED}; make it writable and try again."
        )
    if exc.errno == errno.EIO:
        return f"The disk reported a read or write error{where}. {UNCHANGED}; check the disk."
    return None


def _database_fault(message: str, full: bool) -> str | None:
    if "disk is full" in message or "no space left" in message or ("i/o" in message and full):
        return DISK_FULL.format(where=" (the database's disk)")
    if "readonly" in message or "read-only" in message or "unable to open" in message:
        return (
            "The station cannot write to its database: the data folder is read-only, belongs "
            f"to another user or is gone. {UNCHANGED}; make it writable and try again."
        )
    if "not a database" in message or "malformed" in message:
        return (
            "The station's database file is damaged. Nothing more was changed; restore it from "
            "the latest backup (README, 'Where data lives') and start again."
        )
    if "disk i/o error" in message:
        return f"The disk reported an error while using the database. {UNCHANGED}; check the disk."
    return None
