"""Channels, posting accounts and settings are sealed with the station key: a row changed in the
database behind the station's back stops what relies on it and fails `audit verify`; a removed
setting (the shipped default back) fails `audit verify`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, select, update

from ijs_vetting.db.models import Account, AccountYearGroup, Channel, Photo, Setting
from ijs_vetting.db.record_seals import RecordTampered
from ijs_vetting.domain import PhotoStatus
from ijs_vetting.services.core.legacy_seals import CONFIG_SEALED, seal_legacy_records
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting.accounts import route_account
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import configure, consent, roster
from tests.privacy_world import Face, add_photo


def _redecide(station: Station, photo_id: int) -> None:
    with station.transaction() as s:
        decide(s, s.get_one(Photo, photo_id))


def _verify_fails(station: Station, admin: Actor, words: str) -> None:
    report = audit.verify_chain(station, admin)
    assert not report.ok and report.broken_at is None
    assert report.reason is not None and words in report.reason, report.reason


def test_a_threshold_raised_in_the_database_stops_decisions(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    configure.set_setting(sealed_world, admin, "faces.match_threshold", 0.4)
    photo = add_photo(sealed_world, [Face("A123")])
    assert audit.verify_chain(sealed_world, admin).ok
    with attacker.begin() as conn:  # every guess now "matches"
        conn.execute(
            update(Setting)
            .where(Setting.key == "faces.match_threshold")
            .values(value={"value": 0.6})
        )
    with pytest.raises(RecordTampered, match=r"setting faces\.match_threshold"):
        _redecide(sealed_world, photo)
    with pytest.raises(RecordTampered):
        current(sealed_world)
    _verify_fails(sealed_world, admin, "setting faces.match_threshold does not match its seal")


def test_a_setting_added_in_the_database_is_tampering(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    with attacker.begin() as conn:
        conn.execute(
            insert(Setting).values(
                key="faces.match_margin", value={"value": 0.0}, updated_by="office-admin"
            )
        )
    with pytest.raises(RecordTampered, match=r"setting faces\.match_margin"):
        add_photo(sealed_world, [Face("A123")])
    _verify_fails(sealed_world, admin, "faces.match_margin")


def test_a_removed_setting_fails_verify(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    """A removed row puts the shipped default back (a safe value); the chain still says what
    the admin set."""
    configure.set_setting(sealed_world, admin, "faces.match_threshold", 0.4)
    configure.set_setting(sealed_world, admin, "posting.caption_limit", 200)
    assert audit.verify_chain(sealed_world, admin).ok
    with attacker.begin() as conn:
        conn.execute(delete(Setting).where(Setting.key == "faces.match_threshold"))
    assert current(sealed_world).values["faces.match_threshold"] != 0.4  # the default, in force
    _verify_fails(sealed_world, admin, "faces.match_threshold is")
    configure.set_setting(
        sealed_world, admin, "faces.match_threshold", 0.4
    )  # the admin puts it back
    assert audit.verify_chain(sealed_world, admin).ok


def test_swapped_channel_codes_stop_decisions(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    """A Twitter 'no' with a website 'yes': swapping the channels' codes would turn them round."""
    consent.set_consent(sealed_world, admin, "A123", "twitter", False)
    consent.set_consent(sealed_world, admin, "A123", "website", True)
    photo = add_photo(sealed_world, [Face("A123")])
    with sealed_world.read() as s:
        assert s.get_one(Photo, photo).status is PhotoStatus.READY_WITH_BLUR
    with attacker.begin() as conn:
        conn.execute(update(Channel).where(Channel.code == "twitter").values(code="swap"))
        conn.execute(update(Channel).where(Channel.code == "website").values(code="twitter"))
        conn.execute(update(Channel).where(Channel.code == "swap").values(code="website"))
    with pytest.raises(RecordTampered, match="channel"):
        _redecide(sealed_world, photo)
    with sealed_world.read() as s:
        assert s.get_one(Photo, photo).status is PhotoStatus.READY_WITH_BLUR
    _verify_fails(sealed_world, admin, "does not match its seal")


def test_a_roster_column_renamed_onto_twitter_is_refused(
    sealed_world: Station, admin: Actor, attacker: Engine, tmp_path: Path
) -> None:
    with attacker.begin() as conn:  # the website column would be read as Twitter consent
        conn.execute(
            update(Channel).where(Channel.code == "twitter").values(csv_aliases="twitter,website")
        )
    path = tmp_path / "roster2.csv"
    path.write_text("UPN,Forename,Surname,Year,Website\nD111,Ava,Green,5,Y\n", encoding="utf-8")
    with pytest.raises(RecordTampered, match="channel 'twitter'"):
        roster.import_roster(sealed_world, admin, path)


def test_year_groups_moved_between_accounts_are_caught(
    sealed_world: Station, admin: Actor, attacker: Engine
) -> None:
    with sealed_world.read() as s:
        year5 = route_account(s, [5])
        assert year5 is not None and year5.handle == "@Year5IJS"
    with attacker.begin() as conn:  # Year 5's photos would go to the Year 6 account
        year6 = conn.scalar(select(Account.id).where(Account.handle == "@Year6IJS"))
        conn.execute(
            update(AccountYearGroup)
            .where(AccountYearGroup.year_group == 5)
            .values(account_id=year6)
        )
    with sealed_world.read() as s, pytest.raises(RecordTampered, match="posting account @Year"):
        route_account(s, [5])
    _verify_fails(sealed_world, admin, "posting account")


def test_rows_from_before_these_seals_are_sealed_once_at_start(
    unrecorded_world: Station, admin: Actor, attacker: Engine
) -> None:
    configure.set_setting(unrecorded_world, admin, "faces.match_threshold", 0.4)
    with attacker.begin() as conn:  # as a database from before this release
        for model in (Channel, Account, Setting):
            conn.execute(update(model).values(seal=None))
        conn.execute(delete(Setting).where(Setting.key == CONFIG_SEALED))
    seal_legacy_records(unrecorded_world)
    assert audit.verify_chain(unrecorded_world, admin).ok
    add_photo(unrecorded_world, [Face("A123")])
    with attacker.begin() as conn:  # afterwards an unsealed row is tampering
        conn.execute(update(Channel).where(Channel.code == "twitter").values(seal=None))
    seal_legacy_records(unrecorded_world)
    with pytest.raises(RecordTampered, match="channel 'twitter'"):
        add_photo(unrecorded_world, [Face("A123")])
