"""Roster import through the service: one transaction, idempotent, previewable, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import AuditEntry, BiometricRecord, Child, ConsentRecord
from ijs_vetting.domain import InvalidInput, PermissionDenied
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children, roster


def _counts(station: Station) -> tuple[int, int, int]:
    with station.read() as s:
        return (
            s.scalar(select(func.count(Child.id))) or 0,
            s.scalar(select(func.count(ConsentRecord.id))) or 0,
            s.scalar(select(func.count(BiometricRecord.id))) or 0,
        )


def test_import_creates_children_with_consent(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    report = roster.import_roster(station, admin, roster_file)
    assert [d.mis_id for d in report.added] == ["A123", "B456", "C789"]
    by_id = {c.mis_id: c for c in children.list_children(station)}
    millie = by_id["A123"]
    assert (millie.display_name, millie.year_group, millie.class_name) == ("Millie Smith", 3, "3S")
    assert millie.consents == {"twitter": True, "website": True, "newsletter": None, "press": None}
    assert millie.biometric.templates_allowed
    assert by_id["B456"].consents["twitter"] is False
    assert by_id["C789"].year_group == 0
    assert not by_id["C789"].biometric.parent_consent
    # consent changes are listed first in the report, one per channel with a column
    assert {(c.mis_id, c.channel, c.after) for c in report.consent_changes} >= {
        ("A123", "twitter", True),
        ("A123", "biometric", True),
        ("B456", "twitter", False),
    }


def test_reimport_is_idempotent(station: Station, admin: Actor, roster_file: Path) -> None:
    roster.import_roster(station, admin, roster_file)
    before = _counts(station)
    report = roster.import_roster(station, admin, roster_file)
    assert not report.changed
    assert report.unchanged == 3
    assert _counts(station) == before


def test_dry_run_writes_nothing(station: Station, admin: Actor, roster_file: Path) -> None:
    with station.read() as s:
        entries = s.scalar(select(func.count(AuditEntry.id)))  # the station's anchoring: 1
    report = roster.import_roster(station, admin, roster_file, dry_run=True)
    assert report.dry_run and len(report.added) == 3 and report.consent_changes
    assert _counts(station) == (0, 0, 0)
    with station.read() as s:
        assert s.scalar(select(func.count(AuditEntry.id))) == entries


def test_changes_update_in_place_and_append_consent_history(
    station: Station, admin: Actor, roster_file: Path, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, roster_file)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "UPN,Forename,Surname,Year,Reg,Twitter\n"
        "A123,Amelia,Smith-Cole,Year 4,4S,N\n"
        "B456,Noah,Jones,4,4J,N\n",
        encoding="utf-8",
    )
    preview = roster.import_roster(station, admin, changed, dry_run=True)
    assert [(c.mis_id, c.channel, c.before, c.after) for c in preview.consent_changes] == [
        ("A123", "twitter", True, False)
    ]
    roster.import_roster(station, admin, changed)
    by_id = {c.mis_id: c for c in children.list_children(station)}
    assert by_id["A123"].last_name == "Smith-Cole"
    assert by_id["A123"].year_group == 4
    assert by_id["A123"].consents["twitter"] is False
    assert by_id["A123"].consents["website"] is True  # no column: untouched
    assert by_id["A123"].preferred_name is None  # the file has no preferred-name column
    history = children.consent_history(station, "A123")
    assert [(h.channel, h.granted, h.source) for h in history if h.channel == "twitter"] == [
        ("twitter", True, "roster"),
        ("twitter", False, "roster"),
    ]
    assert by_id["C789"].on_roll  # absent, but leavers were not asked for


def test_leavers_only_when_asked_and_they_can_return(
    station: Station, admin: Actor, roster_file: Path, tmp_path: Path
) -> None:
    assert not children.any_recorded(station)
    roster.import_roster(station, admin, roster_file)
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("UPN,Forename,Surname,Year\nA123,Amelia,Smith,3\n", encoding="utf-8")
    report = roster.import_roster(station, admin, smaller, mark_leavers=True)
    assert sorted(d.mis_id for d in report.left) == ["B456", "C789"]
    by_id = {c.mis_id: c for c in children.list_children(station)}
    assert not by_id["B456"].on_roll and by_id["B456"].date_left is not None
    assert children.on_roll_count(station) == 1 and children.any_recorded(station)
    back = roster.import_roster(station, admin, roster_file)
    assert sorted(d.mis_id for d in back.returned) == ["B456", "C789"]
    assert all(c.on_roll for c in children.list_children(station))


def test_one_bad_row_imports_nothing(station: Station, admin: Actor, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "UPN,Forename,Surname,Year,Twitter\nA1,Ann,Lee,3,Y\nA2,Bob,Ray,Year 8,Y\n",
        encoding="utf-8",
    )
    with pytest.raises(roster.RosterError) as err:
        roster.import_roster(station, admin, bad)
    assert err.value.problems == [(3, "unknown year group 'Year 8'")]
    assert "line 3" in str(err.value) and "nothing was imported" in str(err.value)
    assert _counts(station) == (0, 0, 0)


def test_missing_file_is_a_clear_error(station: Station, admin: Actor, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        roster.import_roster(station, admin, tmp_path / "nope.csv")


def test_only_admins_import_and_refusals_are_audited(
    station: Station, staff: Actor, slt: Actor, roster_file: Path
) -> None:
    for actor in (staff, slt):
        with pytest.raises(PermissionDenied, match="Only an admin can import a roster"):
            roster.import_roster(station, actor, roster_file)
        with pytest.raises(PermissionDenied):
            roster.import_roster(station, actor, roster_file, dry_run=True)
    assert _counts(station) == (0, 0, 0)
    with station.read() as s:
        refused = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.import")))
    assert len(refused) == 4
    assert all(e.details["refused"] for e in refused)
    assert {e.actor for e in refused} == {"teacher", "head-teacher"}


def test_import_is_audited_with_its_changes(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    roster.import_roster(station, admin, roster_file)
    with station.read() as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.import"))
    assert entry.actor == "office-admin"
    assert "3 added" in entry.summary
    assert entry.details["added"] == ["A123", "B456", "C789"]
    # no names in the audit log: it can never be edited, so it must survive an erasure
    assert "Millie" not in str(entry.details) and "Smith" not in str(entry.details)


def test_a_stale_roster_never_overturns_a_withdrawal_recorded_by_hand(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    from ijs_vetting.services.register import consent

    roster.import_roster(station, admin, roster_file)
    consent.set_consent(station, admin, "A123", "twitter", False)  # the parent's letter
    report = roster.import_roster(station, admin, roster_file)  # the MIS still says Y
    assert [(c.mis_id, c.channel) for c in report.kept_withdrawals] == [("A123", "twitter")]
    assert report.consent_changes == []
    by_id = {c.mis_id: c for c in children.list_children(station)}
    assert by_id["A123"].consents["twitter"] is False
