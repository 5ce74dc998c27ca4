"""Logging to a rotating file in the data home, so a school's IT support can see what happened.

The log is a help, never a condition: a log folder that is read-only, gone or on a full disk
must not stop a command (nor print a traceback over its one line of output), so the file is
opened only when the first record arrives and a record that cannot be written is dropped.
"""

from __future__ import annotations

import contextlib
import logging
from logging.handlers import RotatingFileHandler

from ijs_vetting.config import StationPaths

LOG_FILE = "ijs-vetting.log"


class _StationLog(RotatingFileHandler):
    """A rotating file that drops what it cannot write instead of reporting it on stderr."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def setup_logging(paths: StationPaths, level: int = logging.INFO) -> None:
    """Send the station's log records to `logs/ijs-vetting.log` (5 files of 2 MB)."""
    target = paths.logs / LOG_FILE
    root = logging.getLogger("ijs_vetting")
    for old in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
        if old.baseFilename == str(target.resolve()):
            return
        root.removeHandler(old)  # another station's home: log there no more
        old.close()
    with contextlib.suppress(OSError):  # the station itself reports a folder it cannot write
        paths.logs.mkdir(parents=True, exist_ok=True)
    handler = _StationLog(target, maxBytes=2_000_000, backupCount=5, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
