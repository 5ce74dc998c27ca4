"""Posting accounts: which of the school's accounts (@year3ijs ... @Year6IJS) an item goes to.

Clearing routes a photo by the year groups of the children shown; people name an account by its
handle. Accounts and the year groups they serve are rows (the school can change them), so both
answers come from the register, each account checked against its seal (`db.config_seals`) first:
year groups moved in the database behind the station's back would post a class to another
year's account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
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


def routes(station: Station, photo_ids: Sequence[int]) -> dict[int, str | None]:
    """Where clearing would send each photo by itself: the handle the year groups of the
    children it shows route to, or None when a person must choose (the rule of
    `clearing._plan`, photo by photo, so the GUI says before Clear what Clear will do)."""
    ids = list(dict.fromkeys(photo_ids))
    with station.read() as session:
        shown = session.execute(
            select(PhotoFace.photo_id, Child.year_group)
            .join(Child, Child.id == PhotoFace.child_id)
            .where(PhotoFace.photo_id.in_(ids), PhotoFace.decision == FaceDecision.SHOW)
        )
        years: dict[int, set[int]] = {photo_id: set() for photo_id in ids}
        for photo_id, year_group in shown:
            years[photo_id].add(year_group)
        by_years: dict[frozenset[int], str | None] = {}
        for groups in map(frozenset, years.values()):
            if groups not in by_years:
                account = route_account(session, groups)
                by_years[groups] = account.handle if account else None
        return {photo_id: by_years[frozenset(groups)] for photo_id, groups in years.items()}


def account_handles(station: Station) -> list[str]:
    with station.read() as session:
        return list(
            session.scalars(
                select(Account.handle)
                .where(Account.active.is_(True))
                .order_by(func.lower(Account.handle))
            )
        )
