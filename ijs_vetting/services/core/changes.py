"""Noticing what other stations changed: every write transaction on the register bumps one
counter (`Station.transaction`), and each station counts its own. A GUI reads both every few
seconds (one row, off the GUI thread) and reloads only when the counter moved by more than its
own writes — another station changed something — instead of reloading on a timer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import RegisterChanges
from ijs_vetting.services.core.station import Station


@dataclass(frozen=True)
class ChangeMark:
    counter: int  # write transactions on the register, by every station
    own: int  # of those, by this station since it opened


def change_mark(station: Station) -> ChangeMark:
    """Where the register stands now (this station's count first: a write of its own landing
    between the two reads can only look like another's, which costs one reload, never a miss)."""
    own = station.own_writes
    with station.read() as session:
        return ChangeMark(write_counter(session), own)


def write_counter(session: Session) -> int:
    """Write transactions on the register so far, as this session sees it."""
    return int(session.scalar(select(RegisterChanges.counter).where(RegisterChanges.id == 1)) or 0)


def changed_elsewhere(before: ChangeMark, after: ChangeMark) -> bool:
    """Whether another station wrote between the two marks."""
    return after.counter - before.counter > after.own - before.own
