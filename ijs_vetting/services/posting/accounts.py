"""Posting accounts: which of the school's accounts (@year3ijs ... @Year6IJS) an item goes to.

Clearing routes a photo by the year groups of the children shown; people name an account by its
handle. Accounts and the year groups they serve are rows (the school can change them), so both
answers come from the register, each account checked against its seal (`db.config_seals`) first:
year groups moved in the database behind the station's back would post a class to another
year's account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ijs_vetting.db.config_seals import checked_config
from ijs_vetting.db.models import Account, Child, PhotoFace
from ijs_vetting.domain import FaceDecision, NotFound
from ijs_vetting.services.core.station import Station


def checked_accounts(session: Session) -> list[Account]:
    """Every account (active or not) by handle, with its year groups, after checking seals."""
    query = select(Account).options(selectinload(Account.year_groups)).order_by(Account.handle)
    return list(checked_config(session, list(session.scalars(query))))


def year_groups_served(session: Session, account_id: int) -> set[int]:
    """The year groups an account serves (none for an unknown id)."""
    for account in checked_accounts(session):
        if account.id == account_id:
            return {row.year_group for row in account.year_groups}
    return set()


def find_account(session: Session, handle: str) -> Account:
    """An active account by handle, ignoring case and the leading '@' ('year5ijs' works)."""
    wanted = handle.strip().lstrip("@").lower()
    accounts = checked_accounts(session)
    for account in accounts:
        if account.active and account.handle.lstrip("@").lower() == wanted:
            return account
    known = ", ".join(a.handle for a in accounts if a.active)
    raise NotFound(f"There is no posting account '{handle}'. Accounts: {known}.")


def route_account(session: Session, year_groups: Iterable[int]) -> Account | None:
    """The one account serving all these year groups, or None (no year groups, a year group
    without an account, or several accounts): then a person must choose."""
    years = set(year_groups)
    if not years:
        return None
    serving = {
        account.id: account
        for account in checked_accounts(session)
        if account.active and years & {row.year_group for row in account.year_groups}
    }
    served = {
        row.year_group
        for account in serving.values()
        for row in account.year_groups
        if row.year_group in years
    }
    if served != years or len(serving) != 1:
        return None
    return next(iter(serving.values()))


def suggest_account(station: Station, photo_ids: Sequence[int]) -> str | None:
    """The account the year groups of the children shown in these photos route to, if exactly
    one (what the GUI pre-chooses); None when a person must choose."""
    with station.read() as session:
        shown = select(PhotoFace.child_id).where(
            PhotoFace.photo_id.in_(list(photo_ids)),
            PhotoFace.decision == FaceDecision.SHOW,
            PhotoFace.child_id.is_not(None),
        )
        years = set(session.scalars(select(Child.year_group).where(Child.id.in_(shown))))
        account = route_account(session, years)
        return account.handle if account else None


def account_handles(station: Station) -> list[str]:
    with station.read() as session:
        return list(
            session.scalars(
                select(Account.handle).where(Account.active.is_(True)).order_by(Account.handle)
            )
        )
