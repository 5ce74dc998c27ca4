"""Appending to the audit log, chained: the one way any code writes an audit entry."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import Anchor
from ijs_vetting.audit_chain import GENESIS, PRIVATE_DIGEST, ChainRow, entry_hash, private_digest
from ijs_vetting.db.models import AuditEntry
from ijs_vetting.db.types import utcnow

# Any constant: PostgreSQL's transaction-level advisory lock serialises writes across stations
# (`lock_for_writing`), so two stations never chain onto the same previous entry, nor decide a
# write on what the other is changing. SQLite serialises writers itself.
_CHAIN_LOCK = 7_241_915
# How long a write waits for another station's to finish (SQLite's busy timeout is 15 s; an
# export or a retention run on another PC may hold the turn longer).
WRITE_WAIT_SECONDS = 120
# Where `append_entry` leaves the chain's new tip for the station to anchor after the commit.
TIP = "audit_tip"
# Set by the one transaction that may make a missing or damaged anchor (this PC's first anchor,
# an admin's remake): any other commit only moves an anchor that is there, or a deleted one
# would come back holding a shortened chain as if it were whole.
MAKE_ANCHOR = "make_audit_anchor"
# The session info key naming the station whose sessions write (`Station` sets it).
STATION_NAME = "station_name"
# Details that may name children (captions), per action (None: every action). They are kept in
# the entry's `private` column, outside the hash, so erasing a child can erase them
# (`erase_private`) and the chain still verifies; the hashed details keep a salted digest.
PRIVATE_FIELDS: dict[str | None, frozenset[str]] = {
    None: frozenset({"caption"}),
    "queue.caption": frozenset({"before", "after"}),
}
SALT = "salt"


def _split_private(
    action: str, details: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    names = PRIVATE_FIELDS[None] | PRIVATE_FIELDS.get(action, frozenset())
    private = {key: details[key] for key in sorted(names & details.keys())}
    if not private:
        return details, None
    private[SALT] = secrets.token_hex(16)
    public = {key: value for key, value in details.items() if key not in private}
    return {**public, PRIVATE_DIGEST: private_digest(private)}, private


def append_entry(
    session: Session,
    *,
    actor: str,
    action: str,
    summary: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry linked to the newest one (inside the caller's transaction)."""
    lock_for_writing(session)
    previous = (
        session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
        or GENESIS
    )
    hashed, private = _split_private(action, details or {})
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "summary": summary,
        "details": hashed,
        "station": session.info.get(STATION_NAME),
    }
    entry = AuditEntry(
        **fields, private=private, prev_hash=previous, entry_hash=entry_hash(previous, **fields)
    )
    session.add(entry)
    session.flush()
    # Counted under the chain's lock, so the count and the tip belong together.
    count = session.scalar(select(func.count(AuditEntry.id))) or 0
    session.info[TIP] = Anchor(count, entry.id, entry.entry_hash)
    return entry


def lock_for_writing(session: Session) -> None:
    """PostgreSQL: hold the register's write lock until this transaction ends, so writes from
    several stations take turns as SQLite's BEGIN IMMEDIATE makes them (what a write reads
    before it decides cannot change under it). Taken again in one transaction, it is a no-op
    in effect (the lock is re-entrant). SQLite serialises writers itself.

    A station that waits longer than `WRITE_WAIT_SECONDS` gives up with a lock timeout (the
    station says the database is busy) instead of hanging behind one that stopped answering."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{WRITE_WAIT_SECONDS}s'"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


def chain_tip(session: Session) -> Anchor:
    """The chain as it stands: its length and newest entry."""
    # One statement, so another station's commit cannot fall between the count and the id.
    count, newest = session.execute(
        select(func.count(AuditEntry.id), func.max(AuditEntry.id))
    ).one()
    if newest is None:
        return Anchor(0, None, None)
    return Anchor(count, newest, session.get_one(AuditEntry, newest).entry_hash)


CHAIN_CHUNK = 5_000  # entries read per statement while walking the chain


def chain_rows(session: Session, chunk: int | None = None) -> Iterator[ChainRow]:
    """Every entry in id order, read `chunk` at a time by id (keyset), so walking four years'
    chain holds one chunk in memory, never the whole log, on any backend.

    Plain columns, not ORM objects, and the JSON read as text (the details decoded only when
    read) with the time as stored (naive UTC): SQLAlchemy's per-value processors took 4.4 of
    the 6 s that reading 200,000 entries cost (issue 15).
    """
    columns = (
        AuditEntry.id,
        cast(AuditEntry.at, Text),
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target_type,
        AuditEntry.target_id,
        AuditEntry.summary,
        cast(AuditEntry.details, Text),
        AuditEntry.prev_hash,
        AuditEntry.entry_hash,
        cast(AuditEntry.private, Text),
        AuditEntry.station,
    )
    size = chunk or CHAIN_CHUNK
    connection = session.connection()
    decode = json.JSONDecoder().decode
    after = 0
    while True:
        page = connection.execute(
            select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(size)
        ).all()
        for (
            id_,
            at,
            actor,
            action,
            type_,
            target,
            summary,
            details,
            prev,
            hash_,
            private,
            st,
        ) in page:
            yield ChainRow(
                id_,
                hashed_moment(at),
                actor,
                action,
                type_,
                target,
                summary,
                details,
                prev,
                hash_,
                decode(private) if private is not None else None,
                st,
            )
        if len(page) < size:
            return
        after = page[-1].id


def hashed_moment(stored: str) -> str:
    """A time as the database gives it back as text, as the chain hashes it (ISO 8601 with
    microseconds): SQLite keeps "2026-12-03 10:05:45.420608"; PostgreSQL writes the
    fraction without its trailing zeros, and none at all for a whole second."""
    if len(stored) == 26 and stored[10] == " ":
        return stored[:10] + "T" + stored[11:]
    day, _, clock = stored.partition(" ")
    whole, _, fraction = clock.partition(".")
    return f"{day}T{whole}.{fraction.ljust(6, '0')}"


def shown_details(entry: AuditEntry) -> dict[str, Any]:
    """An entry's details as people read them: its redactable text back in place (or marked
    erased), without the digest."""
    details = {key: value for key, value in entry.details.items() if key != PRIVATE_DIGEST}
    if PRIVATE_DIGEST not in entry.details:
        return details
    if entry.private is None:
        return {**details, "erased": "captions erased with a child's record"}
    return {**details, **{k: v for k, v in entry.private.items() if k != SALT}}


def erase_private(
    session: Session, names: list[str], targets: set[tuple[str, str]], item_ids: set[int]
) -> int:
    """Erase the redactable text of entries about a child being erased: those naming them (any
    of `names`, as a whole word, in any case), or about their photos and queue items
    (`targets` of (target type, id), or `item_ids` in the details). How many were erased."""
    words = [re.compile(rf"\b{re.escape(n)}\b", re.IGNORECASE) for n in names if n.strip()]
    erased = 0
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.private.is_not(None))):
        text = json.dumps(entry.private, ensure_ascii=False)
        about = (entry.target_type or "", entry.target_id or "") in targets or entry.details.get(
            "item_id"
        ) in item_ids
        if about or any(word.search(text) for word in words):
            entry.private = None
            erased += 1
    return erased
