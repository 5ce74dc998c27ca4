"""Consent, biometric and safeguarding records are sealed with the station key: a record changed
in the database behind the station's back stops every decision that relies on it, and fails
`audit verify`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, delete, select, update

from ijs_vetting.db.models import (
    BiometricRecord,
    Channel,
    Child,
    ConsentRecord,
    Photo,
    SafeguardingRecord,
    Setting,
)
from ijs_vetting.db.record_seals import KEY_PURPOSE, RecordTampered, seal_of
from ijs_vetting.domain import BiometricEvent, PhotoStatus
from ijs_vetting.services.core.legacy_seals import (
    CHILDREN_SEALED,
    RECORDS_SEALED,
    REVIEW_DATES_SEALED,
    seal_legacy_records,
)
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting import clearing, queue
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import children, consent, roster
from tests import scenes
from tests.grace_school import enrol_grace
from tests.privacy_world import Face, add_photo, child_pk


def _newest_consent(station: Station, mis_id: str) -> int:
    with station.read() as s:
        newest = s.scalar(
            select(ConsentRecord.id)
            .join(Channel)
            .where(ConsentRecord.child_id == child_pk(station, mis_id), Channel.code == "twitter")
            .order_by(ConsentRecord.id.desc())
        )
    assert newest is not None
    return newest


def _redecide_photo(station: Station, photo_id: int) -> None:
    with station.transaction() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        decide(s, photo)


def test_a_flipped_consent_bit_stops_decisions_and_fails_verify(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    consent.set_consent(sealed_world, admin, "A123", "twitter", False)  # the parent withdrew
    photo = add_photo(sealed_world, [Face("A123")])
    with sealed_world.read() as s:
        assert s.get_one(Photo, photo).status is PhotoStatus.READY_WITH_BLUR
    assert audit.verify_chain(sealed_world, admin).ok
    withdrawal = _newest_consent(sealed_world, "A123")
    with attacker.begin() as conn:  # no -> yes, straight into the database
        conn.execute(
            update(ConsentRecord).where(ConsentRecord.id == withdrawal).values(granted=True)
        )

    with pytest.raises(RecordTampered, match=f"consent record {withdrawal} of A123"):
        _redecide_photo(sealed_world, photo)
    with pytest.raises(RecordTampered):
        add_photo(sealed_world, [Face("A123")])
    with pytest.raises(RecordTampered):
        children.list_children(sealed_world)
    with sealed_world.read() as s:  # nothing was decided on the forged yes
        assert s.get_one(Photo, photo).status is PhotoStatus.READY_WITH_BLUR
        assert s.scalar(select(Photo.id).where(Photo.status == PhotoStatus.READY)) is None
    report = audit.verify_chain(sealed_world, admin)
    assert not report.ok and report.broken_at is None
    assert report.reason is not None and f"consent record {withdrawal} of A123" in report.reason


def test_a_lifted_safeguarding_flag_or_a_forged_biometric_consent_is_caught(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    consent.set_safeguarding(sealed_world, admin, "B456", True, "court order")
    consent.set_biometric(sealed_world, admin, "C789", BiometricEvent.CHILD_OBJECTION)
    with attacker.begin() as conn:
        conn.execute(update(SafeguardingRecord).values(active=False))
    with pytest.raises(RecordTampered, match=r"safeguarding record \d+ of B456"):
        add_photo(sealed_world, [Face("B456")])
    with attacker.begin() as conn:
        conn.execute(update(SafeguardingRecord).values(active=True))
        conn.execute(
            update(BiometricRecord)
            .where(BiometricRecord.event == BiometricEvent.CHILD_OBJECTION)
            .values(event=BiometricEvent.PARENT_CONSENT)
        )
    with pytest.raises(RecordTampered, match=r"biometric record \d+ of C789"):
        children.list_children(sealed_world)
    assert not audit.verify_chain(sealed_world, admin).ok


def test_a_record_moved_to_another_child_or_removed_is_caught(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    consent.set_consent(sealed_world, admin, "A123", "twitter", False)
    consent.set_consent(sealed_world, admin, "A123", "twitter", True)
    newest = _newest_consent(sealed_world, "A123")
    with attacker.begin() as conn:  # the middle record (the withdrawal) removed
        conn.execute(delete(ConsentRecord).where(ConsentRecord.id == newest - 1))
    with pytest.raises(RecordTampered, match=f"consent record {newest} of A123"):
        children.list_children(sealed_world)


def test_removing_the_newest_record_fails_verify(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    """The seals of a shortened history still hold; the audit chain names the record added."""
    consent.set_consent(sealed_world, admin, "A123", "twitter", False)
    withdrawal = _newest_consent(sealed_world, "A123")
    with attacker.begin() as conn:
        conn.execute(delete(ConsentRecord).where(ConsentRecord.id == withdrawal))
    report = audit.verify_chain(sealed_world, admin)
    assert not report.ok
    assert report.reason is not None and f"record {withdrawal}" in report.reason
    assert "consent.set for A123" in report.reason


def test_erased_children_do_not_count_as_missing_records(
    sealed_world: Station, admin: Actor
) -> None:
    from ijs_vetting.services.privacy import subject_rights

    consent.set_consent(sealed_world, admin, "A123", "twitter", False)
    subject_rights.erase_child(sealed_world, admin, "A123")
    assert audit.verify_chain(sealed_world, admin).ok


def test_records_from_before_seals_are_sealed_once_at_start(
    unrecorded_world: Station, admin: Actor, attacker: Engine
) -> None:
    with attacker.begin() as conn:  # as a database from before this release
        for model in (ConsentRecord, BiometricRecord, SafeguardingRecord):
            conn.execute(update(model).values(seal=None))
        conn.execute(delete(Setting).where(Setting.key == RECORDS_SEALED))
    seal_legacy_records(unrecorded_world)
    assert children.list_children(unrecorded_world)
    with attacker.begin() as conn:  # afterwards an unsealed record is tampering
        conn.execute(update(ConsentRecord).where(ConsentRecord.id == 1).values(seal=None))
    seal_legacy_records(unrecorded_world)
    with pytest.raises(RecordTampered):
        children.list_children(unrecorded_world)


@pytest.mark.parametrize("every_record", [False, True], ids=["one seal", "every seal"])
def test_a_removed_marker_never_seals_a_forged_record(
    sealed_world: Station, admin: Actor, attacker: Engine, every_record: bool
) -> None:
    """The start seals rows from before seals while their marker is missing: delete it, clear
    the withdrawal's seal (or every seal, as if the database were that old), turn the no into
    a yes, and the next start would have sealed the forgery. It seals nothing now."""
    consent.set_consent(sealed_world, admin, "A123", "twitter", False)  # the parent withdrew
    withdrawal = _newest_consent(sealed_world, "A123")
    with attacker.begin() as conn:
        cleared = update(ConsentRecord).values(seal=None)
        conn.execute(cleared if every_record else cleared.where(ConsentRecord.id == withdrawal))
        conn.execute(
            update(ConsentRecord).where(ConsentRecord.id == withdrawal).values(granted=True)
        )
        conn.execute(delete(Setting).where(Setting.key == RECORDS_SEALED))
    seal_legacy_records(sealed_world)
    with pytest.raises(RecordTampered, match=r"consent record \d+ of A123"):
        children.list_children(sealed_world)
    with sealed_world.read() as s:
        assert s.get(Setting, RECORDS_SEALED) is None  # nothing was blessed
        assert s.scalar(select(ConsentRecord.seal).where(ConsentRecord.id == withdrawal)) is None


def test_a_moved_review_date_is_caught(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    """The review date decides when consent lapses: pushing it back in the database would keep
    a lapsed "yes" counting, so the seal covers it."""
    consent.set_consent(
        sealed_world,
        admin,
        "A123",
        "twitter",
        True,
        given_on=date(2026, 9, 1),
        review_on=date(2027, 9, 1),
    )
    record = _newest_consent(sealed_world, "A123")
    assert children.list_children(sealed_world) and audit.verify_chain(sealed_world, admin).ok
    with attacker.begin() as conn:
        conn.execute(
            update(ConsentRecord)
            .where(ConsentRecord.id == record)
            .values(review_on=date(2031, 9, 1))
        )
    with pytest.raises(RecordTampered, match=f"consent record {record} of A123"):
        children.list_children(sealed_world)
    report = audit.verify_chain(sealed_world, admin)
    assert not report.ok and f"consent record {record}" in (report.reason or "")


def test_review_dates_sealed_before_seals_covered_them_are_covered_once_at_start(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    """A record with a review date sealed by the release before (its seal without the date)
    is sealed again once at start, if its history holds under the older seals; after that a
    moved date is caught. A history whose older seals no longer hold is never blessed."""
    consent.set_consent(
        sealed_world,
        admin,
        "A123",
        "twitter",
        True,
        given_on=date(2026, 9, 1),
        review_on=date(2027, 9, 1),
    )
    key = sealed_world.sealer.subkey(KEY_PURPOSE)

    def as_sealed_before(conn: Connection) -> None:
        previous: dict[int, str | None] = {}
        with sealed_world.read() as s:
            for record in s.scalars(select(ConsentRecord).order_by(ConsentRecord.id)):
                old = seal_of(key, record, previous.get(record.child_id), review=False)
                previous[record.child_id] = old
                conn.execute(
                    update(ConsentRecord).where(ConsentRecord.id == record.id).values(seal=old)
                )
        conn.execute(delete(Setting).where(Setting.key == REVIEW_DATES_SEALED))

    with attacker.begin() as conn:
        as_sealed_before(conn)
        conn.execute(update(ConsentRecord).values(granted=True))  # and a "no" turned into "yes"
    seal_legacy_records(sealed_world)
    with pytest.raises(RecordTampered):
        children.list_children(sealed_world)

    with attacker.begin() as conn:
        record = _newest_consent(sealed_world, "A123")
        conn.execute(
            update(ConsentRecord)
            .where(ConsentRecord.id == record)
            .values(review_on=date(2027, 9, 1))
        )
        as_sealed_before(conn)
    seal_legacy_records(sealed_world)
    assert children.list_children(sealed_world) and audit.verify_chain(sealed_world, admin).ok
    with sealed_world.read() as s:
        assert s.get(Setting, REVIEW_DATES_SEALED) is not None
    with attacker.begin() as conn:
        conn.execute(
            update(ConsentRecord)
            .where(ConsentRecord.id == record)
            .values(review_on=date(2031, 9, 1))
        )
    with pytest.raises(RecordTampered):
        children.list_children(sealed_world)


def test_a_leaver_put_back_on_roll_is_caught(
    sealed_world: Station, admin: Actor, attacker: Engine, tmp_path: Path
) -> None:
    """Being on roll decides whether a child may be shown: a leaver (who keeps their consent
    records) put back on roll in the database is caught before it counts."""
    (tmp_path / "leavers.csv").write_text(
        "UPN,Forename,Surname,Year,Twitter,Website\nB456,Noah,Jones,5,Y,Y\nC789,Zoe,Brown,6,N,N\n",
        encoding="utf-8",
    )
    roster.import_roster(sealed_world, admin, tmp_path / "leavers.csv", mark_leavers=True)
    photo = add_photo(sealed_world, [Face("A123")])
    with sealed_world.read() as s:
        assert s.get_one(Photo, photo).status is PhotoStatus.READY_WITH_BLUR  # left: masked
    assert audit.verify_chain(sealed_world, admin).ok
    with attacker.begin() as conn:
        conn.execute(update(Child).where(Child.mis_id == "A123").values(on_roll=True))
    with pytest.raises(RecordTampered, match="record of A123"):
        _redecide_photo(sealed_world, photo)
    report = audit.verify_chain(sealed_world, admin)
    assert not report.ok and "record of A123" in (report.reason or "")


def test_children_from_before_seals_are_sealed_once_at_start(
    unrecorded_world: Station, admin: Actor, attacker: Engine
) -> None:
    with attacker.begin() as conn:  # as a database from before this release
        conn.execute(update(Child).values(seal=None))
        conn.execute(delete(Setting).where(Setting.key == CHILDREN_SEALED))
    seal_legacy_records(unrecorded_world)
    assert audit.verify_chain(unrecorded_world, admin).ok
    add_photo(unrecorded_world, [Face("A123")])
    with attacker.begin() as conn:  # afterwards an unsealed row is tampering
        conn.execute(update(Child).where(Child.mis_id == "A123").values(seal=None))
    seal_legacy_records(unrecorded_world)
    with pytest.raises(RecordTampered):
        add_photo(unrecorded_world, [Face("A123")])


@pytest.mark.slow  # the real engine
def test_a_forged_consent_stops_a_clearing(
    station: Station, admin: Actor, slt: Actor, attacker: Engine, tmp_path: Path
) -> None:
    """Clearing decides the photo again from the records before it queues it: a withdrawal
    turned back into a yes in the database refuses the photo instead of showing the child."""
    enrol_grace(station, admin, tmp_path)
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    scenes.write_jpeg(dcim / "IMG_1.JPG", scenes.portrait(scenes.GRACE, 170, margin=1.0).pixels)
    importing.import_folder(station, admin, dcim, workers=1)
    consent.set_consent(station, admin, "GRACE1", "twitter", False)  # the parent withdrew
    withdrawal = _newest_consent(station, "GRACE1")
    with attacker.begin() as conn:
        conn.execute(
            update(ConsentRecord).where(ConsentRecord.id == withdrawal).values(granted=True)
        )
    with station.read() as s:
        photo_id = s.scalars(select(Photo.id)).one()
    result = clearing.clear_photos(station, slt, [photo_id], account="@Year5IJS", workers=1)
    assert result.cleared == []
    ((refused),) = result.refused
    assert f"consent record {withdrawal} of GRACE1" in refused.reason
    assert queue.list_queue(station) == []


def test_a_station_sealed_before_the_chain_said_so_says_so_once(
    unrecorded_world: Station, attacker: Engine
) -> None:
    """Its markers alone stood between a forged record and the next start's sealing: the
    start records them in the chain, once, so removing a marker no longer helps."""
    from ijs_vetting.db.models import AuditEntry
    from ijs_vetting.services.core.legacy_seals import SEALING_ACTION

    def said() -> list[list[str]]:
        with unrecorded_world.read() as s:
            entries = s.scalars(select(AuditEntry).where(AuditEntry.action == SEALING_ACTION))
            return [e.details["markers"] for e in entries]

    assert said() == []
    seal_legacy_records(unrecorded_world)
    seal_legacy_records(unrecorded_world)
    ((markers),) = said()
    assert RECORDS_SEALED in markers and CHILDREN_SEALED in markers
    with attacker.begin() as conn:  # now the old trick: every seal cleared, the marker gone
        for model in (ConsentRecord, BiometricRecord, SafeguardingRecord):
            conn.execute(update(model).values(seal=None))
        conn.execute(delete(Setting).where(Setting.key == RECORDS_SEALED))
    seal_legacy_records(unrecorded_world)
    with pytest.raises(RecordTampered):
        children.list_children(unrecorded_world)
