"""The audit chain's anchor: its length and newest hash, kept outside the database.

The hash chain shows an edited or removed entry *inside* the chain, but someone who can write to
the database can also delete its newest entries, every entry, or compute a whole new chain: each
still links up. The anchor, a small file beside the station key (where a copy of the database
does not reach), records how long the chain was and how it ended; `audit verify` checks that the
chain still holds that prefix.

It is written after each commit that added audit entries, by replacing the file atomically. A
crash between the commit and that write leaves the anchor one transaction behind, and several
stations sharing a PostgreSQL database each keep their own (behind the others' writes): so the
check accepts any chain that *extends* the anchored prefix, and never needs the anchor to be
current. The file only ever moves forward (a slower process never writes an older tip over a
newer one).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ijs_vetting.json_report import JsonFields


@dataclass(frozen=True)
class Anchor(JsonFields):
    """The chain at one moment: `entries` long, ending with entry `entry_id` hashed `entry_hash`.
    Its `as_json()` is what the anchor file holds and export manifests carry (`audit_anchor`)."""

    entries: int
    entry_id: int | None
    entry_hash: str | None


class AnchorUnreadable(Exception):
    """The anchor file exists but does not hold an anchor (damaged or replaced)."""


def anchor_path(key_folder: Path, station_id: str) -> Path:
    return key_folder / f"{station_id}.audit-anchor.json"


def read_anchor(path: Path) -> Anchor | None:
    """The anchor in `path`, None when there is no file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(int(raw["entries"]), raw["entry_id"], raw["entry_hash"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnchorUnreadable(f"the audit anchor {path} cannot be read: {exc}") from exc


def anchor_in_file(path: Path) -> Anchor:
    """The anchor an anchor file holds, or the `audit_anchor` an export manifest carries (a
    posting folder's or a subject access export's `manifest.json`): a copy of the chain's tip
    kept where the database does not reach, to check the chain against later."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw = raw.get("audit_anchor", raw)
        return Anchor(int(raw["entries"]), raw["entry_id"], raw["entry_hash"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnchorUnreadable(f"{path} holds no audit anchor: {exc}") from exc


def write_anchor(path: Path, anchor: Anchor, *, make: bool = False) -> bool:
    """Move the anchor forward to `anchor` unless the file already holds a longer chain; a
    missing or damaged file is made only when `make` says this is the moment to (otherwise
    deleting it would let the next change anchor a shortened chain). Whether it was written."""
    try:
        current = read_anchor(path)
    except AnchorUnreadable:
        if not make:
            return False
        current = None
    if current is None and not make:
        return False
    if current is not None and current.entries >= anchor.entries:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(anchor.as_json())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".anchor-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
