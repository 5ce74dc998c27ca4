"""Seals on the consent register: an HMAC of every consent, biometric and safeguarding record.

The audit chain proves what the station did, but decisions read the records themselves: one
flipped bit in the database (a Twitter "no" turned into "yes") would otherwise be believed by
every check. Each record is sealed, in the transaction that adds it, with a key derived from the
station key (which never lives beside the database), over its canonical fields and the seal of
the same child's previous record in the same table. So an edited record, one moved to another
child, or one removed from the middle of a child's history no longer matches, and the history
is checked before anything relies on it (`checked`): a broken seal stops the decision with
`RecordTampered` instead of letting it count.

Removing a child's *newest* records leaves a shorter history whose seals still hold; `audit
verify` finds that through the audit chain, whose entries name each record added (see
`ijs_vetting.services.privacy.audit`).

A child's own row decides too (a leaver is never shown): it carries a seal over its id, MIS id,
on-roll flag, leaving date and year group, renewed whenever the station changes the row, and
checked before the child's standing is used (`checked_children`). It is not chained: it seals
the row as it stands.

Rows written before seals existed are sealed once at the next start
(`services.core.legacy_seals`); after that an unsealed row is tampering too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import ObjectDeletedError

from ijs_vetting.db.models import BiometricRecord, Child, ConsentRecord, SafeguardingRecord
from ijs_vetting.domain import ServiceError

SealedRecord = ConsentRecord | BiometricRecord | SafeguardingRecord
SEALED_MODELS: tuple[type[SealedRecord], ...] = (ConsentRecord, BiometricRecord, SafeguardingRecord)
KEY_PURPOSE = b"ijs-vetting record seals v1"
_KEY = "record_seal_key"  # session.info: the HMAC key
_PENDING = "records_to_seal"  # session.info: records added in this transaction
_CHILDREN = "children_to_seal"  # session.info: children added or changed in this transaction
_VERSION = "s1"
_KINDS = {
    ConsentRecord: "consent",
    BiometricRecord: "biometric",
    SafeguardingRecord: "safeguarding",
}

R = TypeVar("R", ConsentRecord, BiometricRecord, SafeguardingRecord)


class RecordTampered(ServiceError):
    """A consent, biometric or safeguarding record does not match its seal."""


def _moment(value: datetime | date | None) -> str | None:
    if isinstance(value, datetime):
        naive = (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
        return naive.isoformat(timespec="microseconds")
    return value.isoformat() if value is not None else None


def _fields(record: SealedRecord, *, review: bool = True) -> list[Any]:
    """What a seal covers: every field that decides whether a child may be shown. A consent's
    review date (when it lapses) is covered when it has one; without one the fields are what
    seals covered before review dates existed, so those seals still hold. `review=False` gives
    those older fields for any record (`reseal_review_dates`)."""
    common = [
        _KINDS[type(record)],
        record.id,
        record.child_id,
        _moment(record.recorded_at),
        record.recorded_by,
    ]
    if isinstance(record, ConsentRecord):
        specific: list[Any] = [
            record.channel_id,
            bool(record.granted),
            _moment(record.given_on),
            record.form_id,
            record.source,
        ]
        if review and record.review_on is not None:
            specific.append(_moment(record.review_on))
    elif isinstance(record, BiometricRecord):
        specific = [
            record.event.value,
            record.parent_name,
            _moment(record.given_on),
            record.form_id,
            record.source,
        ]
    else:
        specific = [bool(record.active), record.reason]
    return common + specific


def seal_of(key: bytes, record: SealedRecord, previous: str | None, *, review: bool = True) -> str:
    """The seal a record must carry, given the seal of its child's previous record (or None)."""
    canonical = json.dumps(
        [_VERSION, previous or "", *_fields(record, review=review)],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def install(sessions: sessionmaker[Session], key: bytes) -> None:
    """Give a station's sessions the key, and seal each record they add before it commits."""
    sessions.configure(info={_KEY: key})
    event.listen(sessions, "before_flush", _collect)
    event.listen(sessions, "before_commit", _seal_pending)
    event.listen(sessions, "after_rollback", _forget)


def _collect(session: Session, _context: Any, _instances: Any) -> None:
    added = [obj for obj in session.new if isinstance(obj, SEALED_MODELS)]
    if added:
        session.info.setdefault(_PENDING, []).extend(added)
    children = [obj for obj in (*session.new, *session.dirty) if isinstance(obj, Child)]
    if children:
        session.info.setdefault(_CHILDREN, []).extend(children)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_CHILDREN, None)


def child_seal(key: bytes, child: Child) -> str:
    """The seal a child's row must carry."""
    canonical = json.dumps(
        [
            _VERSION,
            "child",
            child.id,
            child.mis_id,
            bool(child.on_roll),
            _moment(child.date_left),
            child.year_group,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _seal_pending(session: Session) -> None:
    session.flush()  # the new records get their ids, which their seals cover
    pending: list[SealedRecord] = session.info.pop(_PENDING, [])
    key = record_key(session)
    for record in sorted(pending, key=lambda r: (_KINDS[type(r)], r.id)):
        if record in session.deleted or record.id is None:
            continue
        model = type(record)
        previous = session.scalar(
            select(model.seal)
            .where(model.child_id == record.child_id, model.id < record.id)
            .order_by(model.id.desc())
            .limit(1)
        )
        record.seal = seal_of(key, record, previous)
    for child in dict.fromkeys(session.info.pop(_CHILDREN, [])):
        try:
            if child not in session.deleted and child.id is not None:
                child.seal = child_seal(key, child)
        except ObjectDeletedError:
            continue  # erased in this transaction (a bulk delete)
    session.flush()
    session.info.pop(_CHILDREN, None)  # sealing them changed them again: nothing more to seal


def seal_unsealed(session: Session) -> int:
    """Seal every record that has no seal yet (once, for rows from before seals); how many."""
    key = record_key(session)
    sealed = 0
    previous: dict[tuple[str, int], str | None] = {}
    for record in all_records(session):
        link = (_KINDS[type(record)], record.child_id)
        if record.seal is None:
            record.seal = seal_of(key, record, previous.get(link))
            sealed += 1
        previous[link] = record.seal
    return sealed


def reseal_review_dates(session: Session) -> int | None:
    """Once, at start: seal the review dates of consent records sealed before seals covered
    them. Every consent history must first hold under the older seals (a date changed since
    must not be blessed); then each record is sealed again, in order, with its date covered.
    How many records had a date, or None (nothing changed) when a seal does not hold."""
    key = record_key(session)
    records = list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    old: dict[int, str | None] = {}
    for record in records:
        if record.seal is None or not hmac.compare_digest(
            record.seal, seal_of(key, record, old.get(record.child_id), review=False)
        ):
            return None
        old[record.child_id] = record.seal
    new: dict[int, str | None] = {}
    for record in records:
        record.seal = seal_of(key, record, new.get(record.child_id))
        new[record.child_id] = record.seal
    return sum(record.review_on is not None for record in records)


def seal_unsealed_children(session: Session) -> int:
    """Seal every child row that has no seal yet (once, for rows from before seals); how many."""
    key = record_key(session)
    unsealed = list(session.scalars(select(Child).where(Child.seal.is_(None))))
    for child in unsealed:
        child.seal = child_seal(key, child)
    return len(unsealed)


def checked_children(session: Session, children: Iterable[Child]) -> None:
    """Raise `RecordTampered` at the first child whose row does not match its seal."""
    problem = first_broken_child(session, children)
    if problem is not None:
        raise RecordTampered(problem)


def first_broken_child(session: Session, children: Iterable[Child]) -> str | None:
    """Why the first child row that does not match its seal is wrong, or None. Rows this
    transaction added or changed are its own (they are sealed as it commits)."""
    key = record_key(session)
    own = {id(child) for child in session.info.get(_CHILDREN, ())}
    for child in children:
        if id(child) in own or child in session.new or child in session.dirty:
            continue
        if child.seal is None or not hmac.compare_digest(child.seal, child_seal(key, child)):
            return (
                f"The record of {child.mis_id} (on roll, left, year) does not match its seal: "
                "the register was changed outside the station. Nothing was decided on it; "
                "restore the database from a backup and run 'ijs-vetting audit verify'."
            )
    return None


def checked(session: Session, records: Sequence[R]) -> Sequence[R]:
    """`records` (a whole history per child, in id order) after checking every seal.

    Raises `RecordTampered` at the first record that does not match.
    """
    problem = first_broken(session, records)
    if problem is not None:
        raise RecordTampered(problem)
    return records


def first_broken(session: Session, records: Iterable[SealedRecord]) -> str | None:
    """Why the first record whose seal does not hold is wrong, or None when all hold.

    `records` must hold each child's whole history in one table, in id order. Records this
    transaction added are its own (they are sealed as it commits).
    """
    key = record_key(session)
    own = {id(record) for record in session.info.get(_PENDING, ())}
    previous: dict[tuple[str, int], str | None] = {}
    for record in records:
        if id(record) in own:
            continue
        kind = _KINDS[type(record)]
        link = (kind, record.child_id)
        expected = seal_of(key, record, previous.get(link))
        if record.seal is None or not hmac.compare_digest(record.seal, expected):
            child = session.get(Child, record.child_id)
            who = child.mis_id if child is not None else f"a child (#{record.child_id})"
            return (
                f"The {kind} record {record.id} of {who} does not match its seal: the register "
                "was changed outside the station (the record, or one before it, was edited or "
                "removed). Nothing was decided on it; restore the database from a backup and "
                "run 'ijs-vetting audit verify'."
            )
        previous[link] = record.seal
    return None


def all_records(session: Session) -> list[SealedRecord]:
    """Every sealed record, table by table, in id order (for `audit verify`)."""
    found: list[SealedRecord] = []
    for model in SEALED_MODELS:
        rows = session.scalars(select(model).order_by(model.id))
        found.extend(cast("Iterable[SealedRecord]", rows))
    return found


def record_key(session: Session) -> bytes:
    """The HMAC key of the station that opened this session."""
    key = session.info.get(_KEY)
    if not isinstance(key, bytes):
        raise RuntimeError("this session has no record key: open it through a Station")
    return key
