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
from typing import Any, NamedTuple

from ijs_vetting.audit_anchor import Anchor

GENESIS = "0" * 64
VERSION = "v1"
# The key in an entry's (hashed) details that holds the digest of its redactable text.
PRIVATE_DIGEST = "private_sha256"


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
    station: str | None = None,
) -> str:
    """The v1 hash of an entry: SHA-256 over canonical JSON of its fields and the previous hash.

    The time is hashed as naive UTC with microseconds, exactly as both databases store it. The
    station's name, when the entry has one, is hashed as a last field: entries from before
    stations were named (None) hash exactly as they always did.
    """
    moment = at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
    head = _head(
        prev_hash,
        moment.isoformat(timespec="microseconds"),
        actor,
        action,
        target_type,
        target_id,
        summary,
    )
    return _digest(head, canonical_json(details), station)


def stored_hash(row: ChainRow) -> str | None:
    """`entry_hash` of a stored row, its details taken as the text stored: the same digest,
    without decoding and encoding them again, when that text is their canonical JSON (as the
    station stores them: `db.engine.stored_json`). A digest that matches proves the text is
    what was hashed; one that does not says nothing, and the row is hashed as `entry_hash`.

    None when the text holds what the station's field is hashed as: stored details could then
    end with a station field taken from the row, and match with the row's own field emptied."""
    if _STATION_FIELD in row.details_text:
        return None
    head = _head(
        row.prev_hash,
        row.moment,
        row.actor,
        row.action,
        row.target_type,
        row.target_id,
        row.summary,
    )
    return _digest(head, row.details_text, row.station)


_STATION_FIELD = ',{"station":'


def _head(
    prev_hash: str,
    moment: str,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    summary: str,
) -> str:
    """The canonical JSON of the fields before the details, as an open list, written as the
    canonical encoder writes text (`encode_basestring`) and null: the encoder itself, called
    per entry, took 1.6 of a walk's 6 s."""
    kind = "null" if target_type is None else _text(target_type)
    target = "null" if target_id is None else _text(target_id)
    return (
        f'["{VERSION}",{_text(prev_hash)},{_text(moment)},{_text(actor)},{_text(action)},'
        f"{kind},{target},{_text(summary)}"
    )


def _digest(head: str, details_json: str, station: str | None) -> str:
    tail = "]" if station is None else f"{_STATION_FIELD}{_text(station)}}}]"
    return hashlib.sha256((head + "," + details_json + tail).encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """The chain's canonical JSON: sorted keys, no spaces, text as it is (not \\u-escaped)."""
    return _CANONICAL.encode(value)


# What `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)`
# writes, with one encoder made once: `json.dumps` with options builds a new one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)
_text = json.encoder.encode_basestring  # a JSON string, as `_CANONICAL` writes one


class ChainRow(NamedTuple):
    """One entry as the chain hashes it (a named tuple: a walk builds 200,000 of them). The
    details stay the JSON text stored until they are read: most of a walk never needs them
    decoded (`stored_hash`)."""

    id: int
    moment: str  # the time as hashed: ISO 8601, naive UTC, with microseconds
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details_text: str
    prev_hash: str
    entry_hash: str
    private: dict[str, Any] | None = None  # redactable text, outside the hash (see below)
    station: str | None = None  # the station the entry was written on (hashed when set)

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.moment)

    @property
    def details(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.details_text)
        return decoded


def _long_hash(row: ChainRow) -> str | None:
    """`entry_hash` of a row whose stored details are not in canonical form (None when they
    are not JSON at all: only an edit leaves them so)."""
    try:
        details = row.details
    except ValueError:
        return None
    return entry_hash(
        row.prev_hash,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        summary=row.summary,
        details=details,
        station=row.station,
    )


def private_digest(private: dict[str, Any]) -> str:
    """The digest an entry's details keep of its redactable text (which holds a random salt,
    so the digest of a short caption cannot be guessed back once the caption is erased)."""
    canonical = json.dumps(private, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # the id of the first entry whose link or content does not hold
    reason: str | None  # why not ok (also set, without broken_at, when no entry is to blame)

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.reason is None


def verify(
    rows: Iterable[ChainRow], anchor: Anchor | None = None, where: str = "beside the station key"
) -> ChainReport:
    """Check rows in id order: each links to the previous hash and hashes to its stored value.

    With an `anchor` (see `ijs_vetting.audit_anchor`), the chain must also still hold the
    anchored prefix: as many entries at least, the anchored one where it was. A chain that goes
    on past it is fine (the anchor may lag behind the last transaction).
    """
    previous = GENESIS
    count = 0
    for row in rows:
        count += 1
        if (
            anchor is not None
            and count == anchor.entries
            and (row.id != anchor.entry_id or row.entry_hash != anchor.entry_hash)
        ):
            return ChainReport(
                count,
                row.id,
                f"entry {count} is not the one anchored {where}: "
                "the chain was rewritten or entries were removed",
            )
        if row.prev_hash != previous:
            return ChainReport(count, row.id, "an entry before it was removed or changed")
        if stored_hash(row) != row.entry_hash and _long_hash(row) != row.entry_hash:
            return ChainReport(count, row.id, "this entry was edited")
        # Redactable text is checked against its digest while it is there; erased (None), it
        # is simply gone, as erasing a child's record requires.
        if row.private is not None and row.details.get(PRIVATE_DIGEST) != private_digest(
            row.private
        ):
            return ChainReport(count, row.id, "this entry's caption was edited")
        previous = row.entry_hash
    if anchor is not None and count < anchor.entries:
        return ChainReport(
            count,
            anchor.entry_id,
            f"the chain holds {count} entries but {anchor.entries} were anchored {where}: the "
            "newest entries were removed",
        )
    return ChainReport(count, None, None)
