"""Consent that is renewed: review dates, the grace period, lapses and their cascade, the letters
list, renewal by roster, and queued items following their children up a year.

The school (tests/privacy_world.py): Amelia Smith (A123) and Noah Jones (B456) in Year 5 with
Twitter consent, Zoe Brown (C789) in Year 6 without. Time is moved by passing `today` to the
sweep; decisions use the real date, so records are given review dates around it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import FaceDecision, FaceReason, QueueStatus
from ijs_vetting.renewal import ReviewPolicy, ReviewRule, ReviewState
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import queue
from ijs_vetting.services.register import children, configure, consent, roster
from ijs_vetting.services.register.consent_lapse import apply_lapses
from ijs_vetting.services.register.consent_review import due_csv, due_for_review
from tests import privacy_world
from tests.privacy_world import Face

TODAY = date.today()


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    return privacy_world.school(station, admin, tmp_path)


def test_the_rules_give_review_dates_and_states() -> None:
    september = ReviewPolicy(ReviewRule.SEPTEMBER, grace_days=30, notice_days=30)
    assert september.review_date(date(2025, 3, 10)) == date(2025, 9, 1)
    assert september.review_date(date(2025, 9, 1)) == date(2026, 9, 1)
    assert september.review_date(date(2025, 3, 10), own=date(2025, 5, 1)) == date(2025, 5, 1)
    years = ReviewPolicy(ReviewRule.YEARS, years=3)
    assert years.review_date(date(2024, 2, 29)) == date(2027, 3, 1)
    assert ReviewPolicy().review_date(date(2020, 1, 1)) is None
    due = date(2026, 9, 1)
    assert september.state(due, date(2026, 7, 1)) is ReviewState.CURRENT
    assert september.state(due, date(2026, 8, 15)) is ReviewState.DUE
    assert september.state(due, date(2026, 10, 1)) is ReviewState.OVERDUE
    assert september.counts(True, due, date(2026, 10, 1))
    assert september.state(due, date(2026, 10, 2)) is ReviewState.LAPSED
    assert not september.counts(True, due, date(2026, 10, 2))


def _past_review(station: Station, admin: Actor, *, days: int) -> None:
    """A123's Twitter consent, given 400 days ago, was due for review `days` ago."""
    consent.set_consent(
        station,
        admin,
        "A123",
        "twitter",
        True,
        given_on=TODAY - timedelta(days=400),
        review_on=TODAY - timedelta(days=days),
    )


def test_consent_past_its_grace_period_counts_as_none_at_once(
    school: Station, admin: Actor
) -> None:
    _past_review(school, admin, days=31)
    photo = privacy_world.add_photo(school, [Face("A123"), Face("B456")])
    faces = {f.child_id: f for f in photos.get_photo(school, photo).faces}
    assert faces["A123"].decision == FaceDecision.BLUR
    assert faces["A123"].reason == FaceReason.NO_CONSENT
    assert faces["B456"].decision == FaceDecision.SHOW
    amelia = children.get_child(school, "A123")
    assert amelia.consents["twitter"] is False
    assert amelia.reviews["twitter"].state is ReviewState.LAPSED


def test_the_sweep_records_the_lapse_and_pulls_the_queue_as_a_withdrawal_does(
    school: Station, admin: Actor, staff: Actor
) -> None:
    review_on = TODAY + timedelta(days=5)
    consent.set_consent(school, admin, "A123", "twitter", True, given_on=TODAY, review_on=review_on)
    queued = privacy_world.add_item(
        school, privacy_world.add_photo(school, [Face("A123")]), status=QueueStatus.QUEUED
    )
    posted = privacy_world.add_item(
        school,
        privacy_world.add_photo(school, [Face("A123")]),
        status=QueueStatus.POSTED,
        posted_at=utcnow(),
    )
    assert apply_lapses(school, staff, today=review_on + timedelta(days=30)).lapsed == []
    assert due_for_review(school, review_on + timedelta(days=30))[0].status.state is (
        ReviewState.OVERDUE
    )
    later = review_on + timedelta(days=31)
    assert [
        (m, c) for m, c, _ in apply_lapses(school, staff, today=later, dry_run=True).lapsed
    ] == [("A123", "twitter")]
    assert queue.get_item(school, queued).status is QueueStatus.QUEUED
    report = apply_lapses(school, staff, today=later)
    assert [(m, c) for m, c, _ in report.lapsed] == [("A123", "twitter")]
    assert report.withdrawn == [queued] and report.takedowns == [posted]
    assert queue.get_item(school, queued).status is QueueStatus.WITHDRAWN
    assert [i.id for i in queue.list_takedowns(school)] == [posted]
    again = apply_lapses(school, staff, today=later + timedelta(days=1))
    assert again.lapsed == [] and again.withdrawn == []
    history = children.consent_history(school, "A123")
    assert (history[-1].granted, history[-1].source) == (False, "review_lapsed")
    with school.read() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "consent.lapse")))
    assert len(entries) == 1 and entries[0].actor == "teacher"
    assert entries[0].details["withdrawn"] == [queued]


def test_the_school_rule_and_the_letters_list(school: Station, admin: Actor) -> None:
    configure.set_setting(school, admin, "consent.review_rule", "years")
    configure.set_setting(school, admin, "consent.review_years", "1")
    consent.set_consent(
        school, admin, "A123", "twitter", True, given_on=TODAY - timedelta(days=360)
    )
    consent.set_consent(
        school, admin, "A123", "website", True, given_on=TODAY - timedelta(days=370)
    )
    rows = due_for_review(school)
    assert [(r.mis_id, r.channel, r.status.state) for r in rows] == [
        ("A123", "twitter", ReviewState.DUE),
        ("A123", "website", ReviewState.OVERDUE),
    ]
    lines = due_csv(rows).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,first_name,last_name,preferred_name,year,class,channels")
    assert len(lines) == 2 and '"twitter, website",overdue' in lines[1]
    assert children.get_child(school, "B456").reviews["twitter"].state is ReviewState.CURRENT


ROSTER_DATED = (
    "UPN,Forename,Surname,Year,Twitter,Biometric,Consent date\n"
    "A123,Amelia,Smith,5,Y,Y,{date}\n"
    "B456,Noah,Jones,5,Y,Y,\n"
    "C789,Zoe,Brown,6,N,N,\n"
)


def test_a_roster_with_fresh_consent_renews_it_and_a_stale_yes_does_not(
    school: Station, admin: Actor, staff: Actor, tmp_path: Path
) -> None:
    _past_review(school, admin, days=40)
    apply_lapses(school, staff)
    path = tmp_path / "dated.csv"
    path.write_text(ROSTER_DATED.format(date=""), encoding="utf-8")
    report = roster.import_roster(school, admin, path)
    assert [(c.mis_id, c.channel) for c in report.kept_withdrawals] == [("A123", "twitter")]
    assert children.get_child(school, "A123").consents["twitter"] is False
    fresh = (TODAY - timedelta(days=2)).isoformat()
    path.write_text(ROSTER_DATED.format(date=fresh), encoding="utf-8")
    report = roster.import_roster(school, admin, path)
    assert [(c.mis_id, c.channel, c.after) for c in report.consent_changes] == [
        ("A123", "twitter", True)
    ]
    assert children.get_child(school, "A123").consents["twitter"] is True
    newer = (TODAY - timedelta(days=1)).isoformat()
    path.write_text(ROSTER_DATED.format(date=newer), encoding="utf-8")
    report = roster.import_roster(school, admin, path)
    assert [(c.mis_id, c.channel, c.given_on) for c in report.renewed] == [
        ("A123", "twitter", TODAY - timedelta(days=1))
    ]
    assert report.as_json()["renewed"][0]["given_on"] == newer
    assert roster.import_roster(school, admin, path).renewed == []  # the same file again


def _moved_up(tmp_path: Path, years: dict[str, int]) -> Path:
    path = tmp_path / "september.csv"
    rows = privacy_world.ROSTER.splitlines()
    out = [rows[0]]
    for row in rows[1:]:
        cells = row.split(",")
        cells[3] = str(years.get(cells[0], int(cells[3])))
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_moving_up_a_year_reroutes_queued_items_and_withdraws_the_ambiguous(
    school: Station, admin: Actor, tmp_path: Path
) -> None:
    both = privacy_world.add_item(school, privacy_world.add_photo(school, [Face("A123")]))
    exported = privacy_world.add_item(
        school, privacy_world.add_photo(school, [Face("A123")]), status=QueueStatus.EXPORTED
    )
    mixed = privacy_world.add_item(
        school, privacy_world.add_photo(school, [Face("A123"), Face("B456")])
    )
    report = roster.import_roster(school, admin, _moved_up(tmp_path, {"A123": 6}))
    moves = {r.item_id: (r.before, r.to) for r in report.rerouted}
    assert moves == {
        both: ("@Year5IJS", "@Year6IJS"),
        exported: ("@Year5IJS", None),
        mixed: ("@Year5IJS", None),
    }
    assert queue.get_item(school, both).account == "@Year6IJS"
    assert queue.get_item(school, both).status is QueueStatus.QUEUED
    for item in (exported, mixed):
        assert queue.get_item(school, item).status is QueueStatus.WITHDRAWN
    assert "moved up to Year 5, Year 6" in (queue.get_item(school, mixed).withdrawn_reason or "")
    with school.read() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "roster.import")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None
    assert {r["item_id"] for r in entry.details["rerouted"]} == {both, exported, mixed}
