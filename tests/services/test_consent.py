"""Consent per channel, the biometric ledger and the safeguarding flag: history, forms, roles."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import AuditEntry, Form
from ijs_vetting.domain import BiometricEvent, InvalidInput, NotFound, PermissionDenied
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children, consent, roster

JPEG_SCAN = b"\xff\xd8\xff\xe0" + b"scanned permission form" * 10


@pytest.fixture
def enrolled(station: Station, admin: Actor, roster_file: Path) -> Station:
    roster.import_roster(station, admin, roster_file)
    return station


def _child(station: Station, mis_id: str) -> children.ChildSummary:
    return next(c for c in children.list_children(station) if c.mis_id == mis_id)


def test_withdrawal_is_a_new_record_and_history_is_kept(enrolled: Station, admin: Actor) -> None:
    change = consent.set_consent(
        enrolled, admin, "A123", "twitter", False, given_on=date(2026, 9, 7)
    )
    assert (change.previous, change.granted) == (True, False)
    assert _child(enrolled, "A123").consents["twitter"] is False
    again = consent.set_consent(enrolled, admin, "A123", "Social media", True)
    assert again.channel == "twitter" and again.previous is False
    history = [h for h in children.consent_history(enrolled, "A123") if h.channel == "twitter"]
    assert [(h.granted, h.source) for h in history] == [
        (True, "roster"),
        (False, "manual"),
        (True, "manual"),
    ]
    assert history[1].given_on == date(2026, 9, 7)
    assert all(h.recorded_by == "office-admin" for h in history)


def test_scanned_form_is_stored_once_read_only_and_linked(
    enrolled: Station, admin: Actor, tmp_path: Path
) -> None:
    scan = tmp_path / "form.jpg"
    scan.write_bytes(JPEG_SCAN)
    consent.set_consent(enrolled, admin, "B456", "twitter", True, form=scan)
    consent.set_consent(enrolled, admin, "B456", "website", True, form=scan)
    with enrolled.read() as s:
        (form,) = s.scalars(select(Form))
    stored = enrolled.vault.path_for(form.sha256)
    assert JPEG_SCAN[4:20] not in stored.read_bytes()  # encrypted at rest
    assert enrolled.vault.read_sealed(form.sha256, b"form") == JPEG_SCAN
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert form.media_type == "image/jpeg"
    history = children.consent_history(enrolled, "B456")
    assert [h.form_sha256 for h in history if h.source == "manual"] == [form.sha256] * 2


def test_a_form_that_is_not_a_scan_is_refused_and_nothing_is_written(
    enrolled: Station, admin: Actor, tmp_path: Path
) -> None:
    doc = tmp_path / "form.docx"
    doc.write_bytes(b"PK\x03\x04 word document")
    with pytest.raises(InvalidInput, match="not a JPEG, PNG or PDF"):
        consent.set_consent(enrolled, admin, "B456", "twitter", True, form=doc)
    assert _child(enrolled, "B456").consents["twitter"] is False
    with pytest.raises(InvalidInput, match="does not exist"):
        consent.set_consent(enrolled, admin, "B456", "twitter", True, form=tmp_path / "x.pdf")


def test_unknown_child_channel_and_future_date(enrolled: Station, admin: Actor) -> None:
    with pytest.raises(NotFound, match="no child with the id 'Z999'"):
        consent.set_consent(enrolled, admin, "Z999", "twitter", True)
    with pytest.raises(NotFound, match="Channels: twitter, website, newsletter, press"):
        consent.set_consent(enrolled, admin, "A123", "tiktok", True)
    with pytest.raises(InvalidInput, match="in the future"):
        consent.set_consent(
            enrolled, admin, "A123", "twitter", True, given_on=date.today() + timedelta(days=1)
        )


def test_biometric_ledger(enrolled: Station, admin: Actor) -> None:
    assert _child(enrolled, "A123").biometric.templates_allowed
    change = consent.set_biometric(enrolled, admin, "A123", BiometricEvent.CHILD_OBJECTION)
    assert (change.previous_allowed, change.templates_allowed) == (True, False)
    state = _child(enrolled, "A123").biometric
    assert state.parent_consent and state.child_objects and not state.templates_allowed
    consent.set_biometric(enrolled, admin, "A123", BiometricEvent.CHILD_OBJECTION_WITHDRAWN)
    assert _child(enrolled, "A123").biometric.templates_allowed
    consent.set_biometric(enrolled, admin, "A123", BiometricEvent.PARENT_WITHDRAWAL)
    assert not _child(enrolled, "A123").biometric.templates_allowed
    # a child's objection stands even when a parent then consents
    consent.set_biometric(enrolled, admin, "B456", BiometricEvent.CHILD_OBJECTION)
    consent.set_biometric(enrolled, admin, "B456", BiometricEvent.PARENT_CONSENT)
    assert not _child(enrolled, "B456").biometric.templates_allowed


def test_safeguarding_flag_needs_a_reason_and_keeps_history(
    enrolled: Station, admin: Actor
) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        consent.set_safeguarding(enrolled, admin, "C789", True, "  ")
    consent.set_safeguarding(enrolled, admin, "C789", True, "adopted; court order")
    assert _child(enrolled, "C789").never_publish
    # consent stays what the parent said: the flag is separate from it
    assert _child(enrolled, "C789").consents["twitter"] is True
    lifted = consent.set_safeguarding(enrolled, admin, "C789", False, "order discharged")
    assert lifted.previous is True
    assert not _child(enrolled, "C789").never_publish


@pytest.mark.parametrize("who", ["slt", "staff"])
def test_only_admins_record_consent(
    enrolled: Station, who: str, request: pytest.FixtureRequest
) -> None:
    actor: Actor = request.getfixturevalue(who)
    calls = [
        lambda: consent.set_consent(enrolled, actor, "A123", "twitter", False),
        lambda: consent.set_biometric(enrolled, actor, "A123", BiometricEvent.PARENT_WITHDRAWAL),
        lambda: consent.set_safeguarding(enrolled, actor, "A123", True, "reason"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    child = _child(enrolled, "A123")
    assert child.consents["twitter"] is True and child.biometric.templates_allowed
    assert not child.never_publish
    with enrolled.read() as s:
        refused = s.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor == actor.username)
        )
    assert refused == 3


def test_every_change_is_audited_with_who_what_and_which_record(
    enrolled: Station, admin: Actor
) -> None:
    consent.set_consent(enrolled, admin, "A123", "twitter", False)
    consent.set_biometric(enrolled, admin, "A123", BiometricEvent.PARENT_WITHDRAWAL)
    consent.set_safeguarding(enrolled, admin, "A123", True, "court order")
    with enrolled.read() as s:
        entries = list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.target_id == "A123").order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == ["consent.set", "biometric.set", "safeguarding.set"]
    assert entries[0].details["previous"] is True and entries[0].details["granted"] is False
    assert "withdrawn" in entries[0].summary
    assert all(e.actor == "office-admin" and e.at is not None for e in entries)


def test_any_staff_member_may_record_a_childs_objection(
    enrolled: Station, staff: Actor, slt: Actor
) -> None:
    change = consent.set_biometric(enrolled, staff, "A123", BiometricEvent.CHILD_OBJECTION)
    assert change.templates_allowed is False
    for event in (BiometricEvent.CHILD_OBJECTION_WITHDRAWN, BiometricEvent.PARENT_CONSENT):
        with pytest.raises(PermissionDenied):
            consent.set_biometric(enrolled, slt, "A123", event)


def test_one_parents_objection_outweighs_the_others_consent(
    enrolled: Station, admin: Actor
) -> None:
    consent.set_biometric(enrolled, admin, "B456", BiometricEvent.PARENT_CONSENT, parent="Mum")
    assert _child(enrolled, "B456").biometric.templates_allowed
    change = consent.set_biometric(
        enrolled, admin, "B456", BiometricEvent.PARENT_WITHDRAWAL, parent="Dad"
    )
    assert (change.previous_allowed, change.templates_allowed) == (True, False)
    consent.set_biometric(enrolled, admin, "B456", BiometricEvent.PARENT_CONSENT, parent="mum ")
    assert not _child(enrolled, "B456").biometric.templates_allowed  # Dad still objects
    consent.set_biometric(enrolled, admin, "B456", BiometricEvent.PARENT_CONSENT, parent="Dad")
    assert _child(enrolled, "B456").biometric.templates_allowed
