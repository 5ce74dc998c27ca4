"""Recording consent: per-channel photo consent, the biometric ledger and the safeguarding flag.

Each call appends a record (never updates one), so the history answers "who said what, when, on
which form" for any past moment. Only admins record consent: it is evidence of a parent's wish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ijs_vetting.db.models import BiometricRecord, ConsentRecord, SafeguardingRecord
from ijs_vetting.db.state import (
    biometric_states,
    current_consents,
    safeguarding_flags,
)
from ijs_vetting.domain import NO_BIOMETRIC_CONSENT, BiometricEvent, InvalidInput, Role
from ijs_vetting.services.core.lookup import find_channel, find_child
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register.consent_cascade import on_consent_change
from ijs_vetting.services.register.forms import store_form
from ijs_vetting.services.register.templates import delete_templates


@dataclass(frozen=True)
class ConsentChange:
    child_id: str
    channel: str
    granted: bool
    previous: bool | None
    record_id: int
    withdrawn: tuple[int, ...] = ()  # queue items pulled back
    takedowns: tuple[int, ...] = ()  # posted items now to be taken down


@dataclass(frozen=True)
class BiometricChange:
    child_id: str
    event: BiometricEvent
    templates_allowed: bool
    previous_allowed: bool
    withdrawn: tuple[int, ...] = ()  # queue items pulled back
    takedowns: tuple[int, ...] = ()  # posted items now to be taken down


@dataclass(frozen=True)
class SafeguardingChange:
    child_id: str
    active: bool
    previous: bool
    withdrawn: tuple[int, ...] = ()  # queue items pulled back
    takedowns: tuple[int, ...] = ()  # posted items now to be taken down


def set_consent(
    station: Station,
    actor: Actor,
    child_id: str,
    channel: str,
    granted: bool,
    *,
    form: Path | None = None,
    given_on: date | None = None,
    review_on: date | None = None,
) -> ConsentChange:
    """Record a parent's yes or no for one channel; a no after a yes is a withdrawal.

    `review_on` is when this yes must be re-confirmed, if the form says (else the school's rule
    decides: `ijs_vetting.renewal`)."""
    if given_on is not None and given_on > date.today():
        raise InvalidInput(f"The consent date {given_on.isoformat()} is in the future.")
    if review_on is not None and (not granted or review_on <= (given_on or date.today())):
        raise InvalidInput("A review date belongs to a yes, after the day it was given.")
    with station.write(actor, "consent.set", Role.ADMIN) as w:
        child = find_child(w.session, child_id)
        chan = find_channel(w.session, channel)
        before = current_consents(w.session, [child.id]).get((child.id, chan.code))
        stored = store_form(w.session, station.vault, form, child, actor.username) if form else None
        record = ConsentRecord(
            child_id=child.id,
            channel_id=chan.id,
            granted=granted,
            given_on=given_on,
            recorded_by=actor.username,
            form_id=stored.id if stored else None,
            source="manual",
            review_on=review_on,
        )
        w.session.add(record)
        w.session.flush()
        pulled = on_consent_change(w.session, [child.id])
        previous = before.granted if before else None
        verb = "granted" if granted else ("withdrawn" if previous else "refused")
        w.audit(
            f"{chan.code} consent {verb} for {child.mis_id}",
            target_type="child",
            target_id=child.mis_id,
            details={
                "channel": chan.code,
                "granted": granted,
                "previous": previous,
                "given_on": given_on.isoformat() if given_on else None,
                "form_sha256": stored.sha256 if stored else None,
                "record_id": record.id,
                "review_on": review_on.isoformat() if review_on else None,
            },
        )
        return ConsentChange(
            child.mis_id,
            chan.code,
            granted,
            previous,
            record.id,
            tuple(pulled.withdrawn),
            tuple(pulled.takedowns),
        )


def set_biometric(
    station: Station,
    actor: Actor,
    child_id: str,
    event: BiometricEvent,
    *,
    form: Path | None = None,
    given_on: date | None = None,
    parent: str | None = None,
) -> BiometricChange:
    """Append to the biometric ledger; templates may exist only with consent and no objection.

    `parent` names the parent who wrote (their letter is `form`): each parent's latest word
    counts, so one parent's objection outweighs another's consent.
    """
    # A child's objection must be easy to record: any member of staff may, as PoFA s.26 expects.
    # Everything else in the ledger is the admin's, with the parent's written letter.
    allowed = tuple(Role) if event is BiometricEvent.CHILD_OBJECTION else (Role.ADMIN,)
    with station.write(actor, "biometric.set", *allowed) as w:
        child = find_child(w.session, child_id)
        before = biometric_states(w.session, [child.id]).get(child.id, NO_BIOMETRIC_CONSENT)
        stored = store_form(w.session, station.vault, form, child, actor.username) if form else None
        record = BiometricRecord(
            child_id=child.id,
            event=event,
            given_on=given_on,
            recorded_by=actor.username,
            form_id=stored.id if stored else None,
            source="manual",
            parent_name=(parent or "").strip() or None,
        )
        w.session.add(record)
        w.session.flush()
        after = biometric_states(w.session, [child.id])[child.id]
        # Withdrawal or objection deletes the templates in this same transaction: at once.
        deleted = 0 if after.templates_allowed else delete_templates(w.session, child.id)
        w.session.flush()
        pulled = on_consent_change(w.session, [child.id])
        w.audit(
            f"biometric {event.value.replace('_', ' ')} for {child.mis_id}",
            target_type="child",
            target_id=child.mis_id,
            details={
                "event": event.value,
                "parent": (parent or "").strip() or None,
                "templates_allowed": after.templates_allowed,
                "previous_allowed": before.templates_allowed,
                "templates_deleted": deleted,
                "form_sha256": stored.sha256 if stored else None,
                "record_id": record.id,
            },
        )
        return BiometricChange(
            child.mis_id,
            event,
            after.templates_allowed,
            before.templates_allowed,
            tuple(pulled.withdrawn),
            tuple(pulled.takedowns),
        )


def set_safeguarding(
    station: Station, actor: Actor, child_id: str, active: bool, reason: str
) -> SafeguardingChange:
    """Set or lift the "never publish" flag; a reason is required either way."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give a reason for setting or lifting the safeguarding flag.")
    with station.write(actor, "safeguarding.set", Role.ADMIN) as w:
        child = find_child(w.session, child_id)
        before = safeguarding_flags(w.session, [child.id]).get(child.id)
        previous = before.active if before else False
        record = SafeguardingRecord(
            child_id=child.id, active=active, reason=reason, recorded_by=actor.username
        )
        w.session.add(record)
        w.session.flush()
        pulled = on_consent_change(w.session, [child.id])
        w.audit(
            f"safeguarding flag {'set' if active else 'lifted'} for {child.mis_id}",
            target_type="child",
            target_id=child.mis_id,
            details={
                "active": active,
                "previous": previous,
                "reason": reason,
                "record_id": record.id,
            },
        )
        return SafeguardingChange(
            child.mis_id, active, previous, tuple(pulled.withdrawn), tuple(pulled.takedowns)
        )
