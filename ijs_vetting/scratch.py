"""A private scratch folder in the station's home, for files that hold children's data for a
moment: a face crop being enrolled as a reference, reference photos being checked, the copy of
the database a backup or a restore works on.

The system temp folder is the wrong place for them: it is shared by every login of the PC and a
crash (kill -9, a power cut) leaves whatever was there, readable, for good. Here each process
works in its own sub-folder (named by its process id, readable by this user only), removed when
the work ends; the next start removes the sub-folders of processes that are gone (`sweep`), and
never those of a process still running (the GUI and a command may share a home).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ijs_vetting.config import StationPaths


@contextlib.contextmanager
def scratch_dir(paths: StationPaths, purpose: str) -> Iterator[Path]:
    """A new private folder for `purpose` (a word, in its name), removed afterwards."""
    paths.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix=f"{os.getpid()}-{purpose}-", dir=paths.scratch
    ) as folder:
        yield Path(folder)


def sweep(paths: StationPaths) -> list[Path]:
    """Remove what processes that are gone left in the scratch folder; what was removed."""
    if not paths.scratch.is_dir():
        return []
    removed = []
    for entry in paths.scratch.iterdir():
        pid, _, _rest = entry.name.partition("-")
        if pid.isdigit() and _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (psutil: `os.kill(pid, 0)` would end it on Windows)."""
    import psutil  # only when there is something to sweep

    return pid == os.getpid() or bool(psutil.pid_exists(pid))
