"""Consent whose review's grace period has ended becomes a recorded "no", with its consequences.

Decisions already treat such consent as none (`standing.counts_today`); this records the
lapse in the consent history (source `review_lapsed`, so a roster that says yes renews it, and a
parent's own "no" is never mistaken for it) and runs the same cascade as a withdrawal: photos are
re-decided, queued and exported items withdrawn, posted ones listed for takedown. It runs when
the app starts, in `retention run` and as `consent lapse`; running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, ConsentRecord
from ijs_vetting.db.state import current_consents
from ijs_vetting.domain import Role
from ijs_vetting.renewal import ReviewState
from ijs_vetting.services.core.standing import review_date
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.register.consent_cascade import on_consent_change
from ijs_vetting.services.register.consent_review import LAPSED_SOURCE

ACTION = "consent.lapse"
# Anyone's start of the app applies the register's own rule: it needs no one's judgement.
LAPSE_ROLES = tuple(Role)


@dataclass
class LapseReport:
    dry_run: bool
    today: date
    lapsed: list[tuple[str, str, date]] = field(default_factory=list)  # (MIS id, channel, due)
    withdrawn: list[int] = field(default_factory=list)
    takedowns: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "today": self.today.isoformat(),
            "lapsed": [
                {"id": m, "channel": c, "review_on": d.isoformat()} for m, c, d in self.lapsed
            ],
            "withdrawn": self.withdrawn,
            "takedowns": self.takedowns,
        }


def _lapsing(session: Session, today: date) -> list[tuple[ConsentRecord, str, date]]:
    policy = settings_of(session).consent_review
    out = []
    for (_child, channel), record in current_consents(session).items():
        due = review_date(record, policy)
        if due is not None and policy.state(due, today) is ReviewState.LAPSED:
            out.append((record, channel, due))
    return out


def apply_lapses(
    station: Station, actor: Actor, *, today: date | None = None, dry_run: bool = False
) -> LapseReport:
    """Record every lapse due by `today` (default: today) and withdraw what it no longer allows;
    with `dry_run`, only list them. Writes (and audits) only when something lapsed."""
    day = today or date.today()
    report = LapseReport(dry_run, day)
    with station.read() as session:
        if not _lapsing(session, day):
            return report
    if dry_run:
        station.require(actor, ACTION, *LAPSE_ROLES)
        with station.read() as session:
            report.lapsed = _described(session, _lapsing(session, day))
        return report
    with station.write(actor, ACTION, *LAPSE_ROLES) as w:
        lapsing = _lapsing(w.session, day)
        report.lapsed = _described(w.session, lapsing)
        for record, _channel, due in lapsing:
            w.session.add(
                ConsentRecord(
                    child_id=record.child_id,
                    channel_id=record.channel_id,
                    granted=False,
                    given_on=due,
                    recorded_by=actor.username,
                    source=LAPSED_SOURCE,
                )
            )
        w.session.flush()
        pulled = on_consent_change(w.session, {record.child_id for record, _, _ in lapsing})
        report.withdrawn, report.takedowns = pulled.withdrawn, pulled.takedowns
        w.audit(
            f"consent lapsed after review for {len(report.lapsed)} record(s)",
            target_type="consent",
            details={
                "today": day.isoformat(),
                "lapsed": report.as_json()["lapsed"],
                "withdrawn": report.withdrawn,
                "takedowns": report.takedowns,
            },
        )
    return report


def _described(
    session: Session, lapsing: list[tuple[ConsentRecord, str, date]]
) -> list[tuple[str, str, date]]:
    ids = {record.child_id for record, _, _ in lapsing}
    mis = dict(session.execute(select(Child.id, Child.mis_id).where(Child.id.in_(ids))).all())
    return sorted((mis[record.child_id], channel, due) for record, channel, due in lapsing)
