"""Reading MIS exports as Excel saves them: header variants, encodings, delimiters, bad rows."""

from __future__ import annotations

import pytest

from ijs_vetting.roster_csv import RosterFileError, parse_roster

CHANNELS = {
    "twitter": {"twitter", "social media", "photo consent twitter"},
    "website": {"website", "web"},
}


def test_sims_style_headers() -> None:
    data = (
        b"UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Photo consent - Twitter\n"
        b"A1,Amelia,Millie,Smith,Year 3,3S,Y\n"
    )
    parsed = parse_roster(data, CHANNELS)
    (row,) = parsed.rows
    assert (row.mis_id, row.first_name, row.preferred_name, row.last_name) == (
        "A1",
        "Amelia",
        "Millie",
        "Smith",
    )
    assert (row.year_group, row.class_name, row.consents) == (3, "3S", {"twitter": True})
    assert row.biometric is None


def test_arbor_style_headers_with_adno_and_social_media() -> None:
    data = (
        b"Adno,First name,Last name,Year group,Registration group,Social Media,Biometric\n"
        b"0042,Olu,Adeyemi,NC Year 5,5A,No,Yes\n"
    )
    (row,) = parse_roster(data, CHANNELS).rows
    assert row.mis_id == "0042"
    assert row.year_group == 5
    assert row.consents == {"twitter": False}
    assert row.biometric is True


def test_upn_is_preferred_over_admission_number() -> None:
    data = b"Adno,UPN,Forename,Surname,Year\n7,K999,Ann,Lee,4\n"
    (row,) = parse_roster(data, CHANNELS).rows
    assert row.mis_id == "K999"


def test_utf8_with_bom_and_windows_1252() -> None:
    text = "UPN,Forename,Surname,Year,Twitter\nA1,Zoë,Brontë,3,Y\n"
    for data in (text.encode("utf-8-sig"), text.encode("cp1252")):
        parsed = parse_roster(data, CHANNELS)
        assert parsed.rows[0].first_name == "Zoë"
        assert parsed.rows[0].last_name == "Brontë"
    assert parse_roster(text.encode("cp1252"), CHANNELS).encoding == "windows-1252"


def test_semicolon_delimited_and_excel_text_ids() -> None:
    data = b'UPN;Forename;Surname;Year;Twitter\n="0123";Ann;Lee;2;1\n'
    (row,) = parse_roster(data, CHANNELS).rows
    assert row.mis_id == "0123"
    assert row.consents == {"twitter": True}


def test_blank_consent_means_no() -> None:
    (row,) = parse_roster(b"UPN,Forename,Surname,Year,Twitter\nA1,Ann,Lee,3,\n", CHANNELS).rows
    assert row.consents == {"twitter": False}


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    data = (
        b"UPN,Forename,Surname,Year,Twitter\n"
        b"A1,Ann,Lee,3,Y\n"
        b",Bob,Ray,3,Y\n"
        b"A3,Cat,Poe,Year 9,Y\n"
        b"A4,Dan,Orr,4,maybe\n"
        b"A1,Eve,Fox,4,N\n"
    )
    parsed = parse_roster(data, CHANNELS)
    assert [r.mis_id for r in parsed.rows] == ["A1"]
    lines = {line for line, _ in parsed.problems}
    assert lines == {3, 4, 5, 6}
    reasons = " | ".join(reason for _, reason in parsed.problems)
    assert "missing pupil id" in reasons
    assert "unknown year group 'Year 9'" in reasons
    assert "'maybe'" in reasons
    assert "first on line 2" in reasons


def test_missing_required_column_names_the_columns_found() -> None:
    with pytest.raises(RosterFileError, match="no column for year_group") as err:
        parse_roster(b"UPN,Forename,Surname\nA1,Ann,Lee\n", CHANNELS)
    assert "Its columns are: UPN, Forename, Surname" in str(err.value)


def test_unreadable_encoding_and_empty_file() -> None:
    with pytest.raises(RosterFileError, match="neither UTF-8 nor Windows-1252"):
        parse_roster(b"UPN,Forename\n\x81\x8d\x8f\x90\x9d", CHANNELS)
    with pytest.raises(RosterFileError, match="empty"):
        parse_roster(b"", CHANNELS)


def test_unknown_columns_are_listed_not_guessed() -> None:
    parsed = parse_roster(b"UPN,Forename,Surname,Year,Shoe size\nA1,Ann,Lee,3,4\n", CHANNELS)
    assert parsed.ignored_columns == ["Shoe size"]
