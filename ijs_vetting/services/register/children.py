"""Reading the register: children with their current consents, biometric state and flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from ijs_vetting.db.models import Channel, Child
from ijs_vetting.db.state import biometric_states, current_consents, safeguarding_flags
from ijs_vetting.domain import NO_BIOMETRIC_CONSENT, BiometricState, NotFound, Role, year_label
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.standing import counts_today
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.register.consent_review import ReviewStatus, review_status


@dataclass(frozen=True)
class ChildSummary:
    """One row of the register as the office sees it."""

    mis_id: str
    first_name: str
    last_name: str
    preferred_name: str | None
    year_group: int
    class_name: str
    on_roll: bool
    date_left: date | None
    # channel code -> granted; None where nothing was ever recorded (which counts as no).
    # Consent past its review's grace period is False: it no longer counts.
    consents: dict[str, bool | None]
    biometric: BiometricState
    never_publish: bool
    # channel code -> where its review stands, for channels whose consent has a review date
    reviews: dict[str, ReviewStatus] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.mis_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "preferred_name": self.preferred_name,
            "year": self.year_group,
            "year_label": year_label(self.year_group),
            "class": self.class_name,
            "on_roll": self.on_roll,
            "date_left": self.date_left.isoformat() if self.date_left else None,
            "consents": self.consents,
            "biometric": {
                "parent_consent": self.biometric.parent_consent,
                "child_objects": self.biometric.child_objects,
                "templates_allowed": self.biometric.templates_allowed,
            },
            "never_publish": self.never_publish,
            "consent_review": {code: r.as_json() for code, r in self.reviews.items()},
        }


def channel_codes(station: Station) -> list[str]:
    with station.read() as session:
        return list(session.scalars(select(Channel.code).order_by(Channel.sort_order)))


def on_roll_count(station: Station) -> int:
    """How many children are on roll: one count, for screens that only need to know."""
    with station.read() as session:
        return session.scalar(select(func.count(Child.id)).where(Child.on_roll.is_(True))) or 0


def any_recorded(station: Station) -> bool:
    """Whether the register holds any child, on roll or left: one row read, not the register
    (the first-start check runs on the GUI thread)."""
    with station.read() as session:
        return session.scalar(select(Child.id).limit(1)) is not None


def list_children(
    station: Station,
    *,
    year: int | None = None,
    include_left: bool = True,
    mis_id: str | None = None,
) -> list[ChildSummary]:
    """The register, sorted by year, class and name, with each child's current state."""
    query = select(Child).order_by(
        Child.year_group, Child.class_name, Child.last_name, Child.first_name
    )
    if year is not None:
        query = query.where(Child.year_group == year)
    if not include_left:
        query = query.where(Child.on_roll.is_(True))
    if mis_id is not None:
        query = query.where(Child.mis_id == mis_id)
    with station.read() as session:
        children = list(session.scalars(query))
        ids = [c.id for c in children]
        codes = list(session.scalars(select(Channel.code).order_by(Channel.sort_order)))
        consents = current_consents(session, ids)
        biometric = biometric_states(session, ids)
        flags = safeguarding_flags(session, ids)
        policy, today = settings_of(session).consent_review, date.today()
        return [
            ChildSummary(
                mis_id=c.mis_id,
                first_name=c.first_name,
                last_name=c.last_name,
                preferred_name=c.preferred_name,
                year_group=c.year_group,
                class_name=c.class_name,
                on_roll=c.on_roll,
                date_left=c.date_left,
                consents={
                    code: (
                        counts_today(rec, policy, today)
                        if (rec := consents.get((c.id, code)))
                        else None
                    )
                    for code in codes
                },
                reviews={
                    code: status
                    for code in codes
                    if (rec := consents.get((c.id, code)))
                    and (status := review_status(rec, policy, today))
                },
                biometric=biometric.get(c.id, NO_BIOMETRIC_CONSENT),
                never_publish=bool((flag := flags.get(c.id)) and flag.active),
            )
            for c in children
        ]


@dataclass(frozen=True)
class ConsentHistoryRow:
    channel: str
    granted: bool
    given_on: date | None
    recorded_at: datetime
    recorded_by: str
    source: str
    form_sha256: str | None


def consent_history(station: Station, mis_id: str) -> list[ConsentHistoryRow]:
    """Every consent record of a child, oldest first (the evidence trail)."""
    with station.read() as session:
        child = find_child(session, mis_id)
        return [
            ConsentHistoryRow(
                r.channel.code,
                r.granted,
                r.given_on,
                r.recorded_at,
                r.recorded_by,
                r.source,
                r.form.sha256 if r.form else None,
            )
            for r in child.consents
        ]


def get_child(station: Station, mis_id: str) -> ChildSummary:
    """One child's current state (a leaver too)."""
    for summary in list_children(station, mis_id=mis_id):
        return summary
    raise NotFound(f"There is no child with the id '{mis_id}'.")


SAFEGUARDING_READERS = (Role.ADMIN, Role.SLT)


def never_publish_reason(station: Station, actor: Actor, mis_id: str) -> str | None:
    """Why a child may never be published (admins and SLT: it is safeguarding information), or
    None when no never-publish flag is set."""
    station.require(actor, "safeguarding.read", *SAFEGUARDING_READERS)
    with station.read() as session:
        child = find_child(session, mis_id)
        record = safeguarding_flags(session, [child.id]).get(child.id)
        return record.reason if record is not None and record.active else None
