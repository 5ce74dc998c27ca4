"""Making a PC's audit anchor: once, with an audit entry, and never again behind anyone's back.

The anchor file (`ijs_vetting.audit_anchor`) is what makes a shortened or rewritten chain fail
`audit verify`. Re-making it whenever it is missing would undo that: delete the newest entries
and the file, start the station, and the shorter chain is anchored as if nothing happened.

So a PC anchors the chain only once, and says so in the chain: the entry `audit.anchor` names
the PC (its host name and the anchor's path, digested into the target id). At every start, a
missing anchor is made only when the chain holds no such entry for this PC: a new station, a
station from before anchoring, or a new PC joining a shared database. If the entry is there,
the anchor was deleted or moved: it is left missing, the start logs a warning, and `audit
verify` fails saying so, until the file is put back. An empty chain beside a register that
has users is never anchored either: every user was added by an audited change, so someone
emptied the log.

Removing the anchor entry itself means rewriting the chain from it onwards, which is exactly
what the anchors of the other PCs (and the tips in export manifests) are there to catch.

An anchor lost for good (no key backup held it) is made again only by an admin, on purpose
(`remake_anchor`, `audit anchor`): audited, and only over a chain whose own links still hold.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.audit_anchor import Anchor, AnchorUnreadable, read_anchor
from ijs_vetting.audit_chain import verify
from ijs_vetting.db.audit_log import MAKE_ANCHOR, append_entry, chain_rows, chain_tip
from ijs_vetting.db.models import AuditEntry, User
from ijs_vetting.domain import InvalidInput, Role

if TYPE_CHECKING:
    from ijs_vetting.services.core.station import Actor, Station

log = logging.getLogger(__name__)

ANCHOR_ACTION = "audit.anchor"
REMAKE_ACTION = "audit.anchor_remade"


def this_pc(anchor: Path) -> str:
    """The target id of this PC's anchor entry: its host name and the anchor's path, digested
    (two PCs of one school may well use the same path)."""
    return hashlib.sha256(f"{platform.node()}\0{anchor}".encode()).hexdigest()[:32]


def anchored_here(session: Session, anchor: Path) -> AuditEntry | None:
    """The entry that recorded this PC's anchor being made, if the chain holds one."""
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == ANCHOR_ACTION, AuditEntry.target_id == this_pc(anchor))
        .order_by(AuditEntry.id)
        .limit(1)
    ).first()


def missing_anchor(session: Session, anchor: Path) -> str:
    """Why the anchor is missing, in words for the office (for `audit verify`)."""
    made = anchored_here(session, anchor)
    if made is None and _emptied(session):
        return (
            f"the audit anchor {anchor} is missing, and the audit log is empty though the "
            "register has users: entries were removed outside the station"
        )
    if made is None:
        return f"the audit anchor {anchor} is missing: start the station again to make it"
    return (
        f"the audit anchor {anchor} is missing: this PC made it on {made.at:%d %b %Y} (audit "
        f"entry {made.id}), so it was deleted or moved since, and removed or rewritten entries "
        "cannot be ruled out. Put the file back from the key backup (it sits beside the key); "
        "it is never made again by itself"
    )


def anchor_this_pc(station: Station) -> str | None:
    """At start: make this PC's anchor if it never had one (see the module docstring). A
    missing anchor this PC did make, or a damaged one, is reported, not replaced: the sentence
    is returned (the app shows it to those who can act on it) and logged."""
    if station.anchor is None:
        return None
    try:
        if read_anchor(station.anchor) is not None:
            return None
    except AnchorUnreadable as exc:
        log.warning("audit verify will fail: %s", exc)  # kept until put back or remade
        return str(exc)
    with station.transaction() as session:
        if anchored_here(session, station.anchor) is not None or _emptied(session):
            problem = missing_anchor(session, station.anchor)
            log.warning("audit verify will fail: %s", problem)
            return problem
        host = platform.node()
        session.info[MAKE_ANCHOR] = True
        append_entry(
            session,
            actor="system",
            action=ANCHOR_ACTION,
            target_type="station",
            target_id=this_pc(station.anchor),
            summary=f"audit chain anchored on {host or 'this PC'}",
            details={"host": host, "anchor": str(station.anchor)},
        )
    # The commit wrote the anchor (`Station._anchor_tip`), this entry included.
    return None


def _emptied(session: Session) -> bool:
    """An empty audit log beside users, whom only audited changes add."""
    entries = session.scalar(select(func.count(AuditEntry.id))) or 0
    return entries == 0 and session.scalar(select(User.id).limit(1)) is not None


def remake_anchor(station: Station, actor: Actor) -> Anchor:
    """Make this PC's anchor again after it was lost with no backup (admins, audited): the
    chain from now on is anchored again. Refused while the anchor is there, and over a chain
    whose own links are broken (restore the database first: anchoring it would bless it)."""
    station.require(actor, REMAKE_ACTION, Role.ADMIN)
    if station.anchor is None:
        raise InvalidInput("This station keeps no audit anchor.")
    try:
        if read_anchor(station.anchor) is not None:
            raise InvalidInput(f"The audit anchor {station.anchor} is there: nothing to remake.")
    except AnchorUnreadable:
        pass  # damaged: remade like a missing one
    with station.write(actor, REMAKE_ACTION, Role.ADMIN) as w:
        report = verify(chain_rows(w.session))
        if not report.ok:
            raise InvalidInput(
                f"The audit log is broken at entry {report.broken_at} ({report.reason}): restore "
                "the database from a backup before anchoring it again."
            )
        before = chain_tip(w.session)
        w.session.info[MAKE_ANCHOR] = True
        w.audit(
            f"audit anchor made again on {platform.node() or 'this PC'} by {actor.username}",
            target_type="station",
            target_id=this_pc(station.anchor),
            details={"anchor": str(station.anchor), "entries_before": before.entries},
        )
    # The commit wrote the new anchor (`Station._anchor_tip`).
    tip = read_anchor(station.anchor)
    if tip is None:
        raise InvalidInput(f"The audit anchor {station.anchor} could not be written.")
    return tip
