"""The audit log's hash chain: each entry's hash covers its content and the previous hash.

Editing a row changes its hash; deleting one breaks the link to the next. `verify` walks the
chain and reports the first entry where it breaks, so an edit made directly in the database
(bypassing the station) is visible. The format is versioned: entries hashed as "v1" must always
be verified as "v1", so never change `entry_hash` for an existing version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
VERSION = "v1"


def entry_hash(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    summary: str,
    details: dict[str, Any],
) -> str:
    """The v1 hash of an entry: SHA-256 over canonical JSON of its fields and the previous hash.

    The time is hashed as naive UTC with microseconds, exactly as both databases store it.
    """
    moment = (at.astimezone(UTC) if at.tzinfo else at).replace(tzinfo=None)
    canonical = json.dumps(
        [
            VERSION,
            prev_hash,
            moment.isoformat(timespec="microseconds"),
            actor,
            action,
            target_type,
            target_id,
            summary,
            details,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # the id of the first entry whose link or content does not hold
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(rows: Iterable[ChainRow]) -> ChainReport:
    """Check rows in id order: each links to the previous hash and hashes to its stored value."""
    previous = GENESIS
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != previous:
            return ChainReport(count, row.id, "an entry before it was removed or changed")
        expected = entry_hash(
            row.prev_hash,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            summary=row.summary,
            details=row.details,
        )
        if expected != row.entry_hash:
            return ChainReport(count, row.id, "this entry was edited")
        previous = row.entry_hash
    return ChainReport(count, None, None)
