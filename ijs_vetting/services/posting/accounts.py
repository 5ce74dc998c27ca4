"""Posting accounts: which of the school's accounts (@year3ijs ... @Year6IJS) an item goes to.

Clearing routes a photo by the year groups of the children shown; people name an account by its
handle. Accounts and the year groups they serve are rows (the school can change them), so both
answers come from the register.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Account, AccountYearGroup
from ijs_vetting.domain import NotFound


def find_account(session: Session, handle: str) -> Account:
    """An active account by handle, ignoring case and the leading '@' ('year5ijs' works)."""
    wanted = handle.strip().lstrip("@").lower()
    accounts = list(session.scalars(select(Account).order_by(Account.handle)))
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
    rows = session.execute(
        select(AccountYearGroup.year_group, Account)
        .join(Account)
        .where(AccountYearGroup.year_group.in_(years), Account.active.is_(True))
    ).all()
    served = {year for year, _ in rows}
    accounts = {account.id: account for _, account in rows}
    if served != years or len(accounts) != 1:
        return None
    return next(iter(accounts.values()))
