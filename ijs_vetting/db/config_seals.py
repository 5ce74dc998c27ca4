"""Seals on the rows that configure decisions: channels, posting accounts and settings.

A consent record says "yes" for a channel id; which channel that id is (its code, and the MIS
column names a roster maps onto it) decides what the yes allows. An account's year groups decide
where a cleared photo is posted, and a setting such as the match threshold decides which faces
are shown at all. So, like the consent records (`record_seals`), each such row carries an HMAC
under the station's record key, renewed in every transaction that changes it and checked before
anything relies on it: a row changed in the database behind the station's back raises
`RecordTampered` instead of counting.

The rows are sealed as they stand, not chained. A removed setting leaves the shipped default in
force (a safe value: a setting that would switch a safety off is refused), and `audit verify`
finds it by comparing each setting with what its last audited change set. A removed channel or
account takes its consent records or its routing with it, which fails closed. Only the settings
an admin may change are sealed; the station's own markers (`station.*`) decide nothing shown.

Rows from before these seals are sealed once at the next start (`services.core.legacy_seals`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import InstanceState, Session, sessionmaker

from ijs_vetting.assets import default_settings
from ijs_vetting.db.models import Account, AccountYearGroup, Channel, Setting
from ijs_vetting.db.record_seals import RecordTampered, record_key

ConfigRow = Channel | Account | Setting
C = TypeVar("C", Channel, Account, Setting)
_PENDING = "config_to_seal"  # session.info: rows added or changed in this transaction
_ACCOUNTS = "accounts_to_seal"  # session.info: ids of accounts whose year groups changed
_VERSION = "c1"
_REMEDY = (
    "the register was changed outside the station. Nothing was decided on it; restore the "
    "database from a backup and run 'ijs-vetting audit verify'."
)


@cache
def sealed_setting_keys() -> frozenset[str]:
    """The settings an admin may change (those with a shipped default)."""
    return frozenset(
        f"{section}.{name}" for section, values in default_settings().items() for name in values
    )


def _fields(row: ConfigRow, years: Sequence[int]) -> list[Any]:
    if isinstance(row, Channel):
        return ["channel", row.id, row.code, row.name, row.csv_aliases, row.sort_order]
    if isinstance(row, Account):
        return ["account", row.id, row.handle, row.display_name, bool(row.active), sorted(years)]
    return ["setting", row.key, row.value]


def seal_of(key: bytes, row: ConfigRow, years: Sequence[int] = ()) -> str:
    """The seal a row must carry; `years`: an account's year groups."""
    canonical = json.dumps(
        [_VERSION, *_fields(row, years)], separators=(",", ":"), ensure_ascii=False, sort_keys=True
    )
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _sealed(row: object) -> bool:
    if isinstance(row, Setting):
        return row.key in sealed_setting_keys()
    return isinstance(row, Channel | Account)


def install(sessions: sessionmaker[Session]) -> None:
    """Seal each configuring row a station's sessions add or change, before it commits (the
    sessions already carry the record key: `record_seals.install`)."""
    event.listen(sessions, "before_flush", _collect)
    event.listen(sessions, "before_commit", _seal_pending)
    event.listen(sessions, "after_rollback", _forget)


def _collect(session: Session, _context: Any, _instances: Any) -> None:
    changed = [row for row in (*session.new, *session.dirty) if _sealed(row)]
    if changed:
        session.info.setdefault(_PENDING, []).extend(changed)
    years = [
        row.account_id
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, AccountYearGroup)
    ]
    if years:
        session.info.setdefault(_ACCOUNTS, set()).update(years)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ACCOUNTS, None)


def _seal_pending(session: Session) -> None:
    session.flush()  # new rows get their ids and year groups their rows, which seals cover
    rows: list[ConfigRow] = session.info.pop(_PENDING, [])
    for account_id in session.info.pop(_ACCOUNTS, set()):
        account = session.get(Account, account_id)
        if account is not None:
            rows.append(account)
    rows = [row for row in dict.fromkeys(rows) if _persistent(row)]
    if not rows:
        return
    key = record_key(session)
    years = _year_groups(session, [row.id for row in rows if isinstance(row, Account)])
    for row in rows:
        row.seal = seal_of(key, row, years.get(row.id, ()) if isinstance(row, Account) else ())
    session.flush()
    _forget(session)  # sealing them changed them again: nothing more to seal


def _persistent(row: ConfigRow) -> bool:
    """Still in the database after this transaction's flush (not deleted in it)."""
    state: InstanceState[Any] = inspect(row)
    return state.persistent


def _year_groups(session: Session, account_ids: Iterable[int]) -> dict[int, list[int]]:
    wanted = list(account_ids)
    years: dict[int, list[int]] = {}
    if wanted:
        query = select(AccountYearGroup.account_id, AccountYearGroup.year_group).where(
            AccountYearGroup.account_id.in_(wanted)
        )
        for account_id, year in session.execute(query):
            years.setdefault(account_id, []).append(year)
    return years


def all_config(session: Session) -> list[ConfigRow]:
    """Every sealed row: channels, accounts and the settings an admin changed."""
    rows: list[ConfigRow] = list(session.scalars(select(Channel).order_by(Channel.id)))
    rows.extend(session.scalars(select(Account).order_by(Account.id)))
    settings = select(Setting).where(Setting.key.in_(sorted(sealed_setting_keys())))
    rows.extend(session.scalars(settings.order_by(Setting.key)))
    return rows


def seal_unsealed_config(session: Session) -> int:
    """Seal every configuring row that has no seal yet (once, for rows from before these
    seals, and for the channels and accounts the migrations insert); how many."""
    unsealed = [row for row in all_config(session) if row.seal is None]
    key = record_key(session)
    years = _year_groups(session, [row.id for row in unsealed if isinstance(row, Account)])
    for row in unsealed:
        row.seal = seal_of(key, row, years.get(row.id, ()) if isinstance(row, Account) else ())
    return len(unsealed)


def checked_config(session: Session, rows: Sequence[C]) -> Sequence[C]:
    """`rows` after checking every seal; raises `RecordTampered` at the first that fails."""
    problem = first_broken_config(session, rows)
    if problem is not None:
        raise RecordTampered(problem)
    return rows


def first_broken_config(session: Session, rows: Iterable[ConfigRow]) -> str | None:
    """Why the first row that does not match its seal is wrong, or None. Rows this transaction
    added or changed are its own (they are sealed as it commits)."""
    own = {id(row) for row in session.info.get(_PENDING, ())}
    own_accounts = session.info.get(_ACCOUNTS, set())
    mine = [
        row
        for row in rows
        if _sealed(row)
        and id(row) not in own
        and row not in session.new
        and row not in session.dirty
        and not (isinstance(row, Account) and row.id in own_accounts)
    ]
    key = record_key(session)
    years = _year_groups(session, [row.id for row in mine if isinstance(row, Account)])
    for row in mine:
        expected = seal_of(key, row, years.get(row.id, ()) if isinstance(row, Account) else ())
        if row.seal is None or not hmac.compare_digest(row.seal, expected):
            return f"{_named(row)} does not match its seal: {_REMEDY}"
    return None


def _named(row: ConfigRow) -> str:
    if isinstance(row, Channel):
        return f"The channel '{row.code}'"
    if isinstance(row, Account):
        return f"The posting account {row.handle} (or the year groups it serves)"
    return f"The setting {row.key}"
