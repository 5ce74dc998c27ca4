"""Logging to a rotating file in the data home, so a school's IT support can see what happened."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from ijs_vetting.config import StationPaths

LOG_FILE = "ijs-vetting.log"


def setup_logging(paths: StationPaths, level: int = logging.INFO) -> None:
    """Send the station's log records to `logs/ijs-vetting.log` (5 files of 2 MB)."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    target = paths.logs / LOG_FILE
    root = logging.getLogger("ijs_vetting")
    for old in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
        if old.baseFilename == str(target.resolve()):
            return
        root.removeHandler(old)  # another station's home: log there no more
        old.close()
    handler = RotatingFileHandler(target, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
