"""Parsing the values MIS exports and admins type: year groups, yes/no cells, channel names."""

from __future__ import annotations

import pytest

from ijs_vetting.domain import (
    BiometricState,
    channel_key,
    parse_year_group,
    parse_yes_no,
    year_label,
)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("R", 0),
        ("Reception", 0),
        ("Year R", 0),
        ("3", 3),
        ("Year 3", 3),
        ("Y3", 3),
        ("NC Year 6", 6),
        (" year  1 ", 1),
        ("Yr 2", 2),
    ],
)
def test_year_groups_as_mis_exports_write_them(text: str, year: int) -> None:
    assert parse_year_group(text) == year


@pytest.mark.parametrize("text", ["Year 7", "9", "", "Nursery", "3A", "Year 10"])
def test_year_groups_outside_a_junior_school_are_refused(text: str) -> None:
    assert parse_year_group(text) is None


def test_year_labels() -> None:
    assert year_label(0) == "Reception"
    assert year_label(5) == "Year 5"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Y", True),
        ("yes", True),
        ("TRUE", True),
        ("1", True),
        ("N", False),
        ("No", False),
        ("false", False),
        ("0", False),
        ("", False),
        ("  ", False),
    ],
)
def test_consent_cells(text: str, value: bool) -> None:
    assert parse_yes_no(text) is value


@pytest.mark.parametrize("text", ["maybe", "2", "ask mum"])
def test_unreadable_consent_cells(text: str) -> None:
    assert parse_yes_no(text) is None


def test_channel_key_strips_the_words_around_a_channel() -> None:
    assert channel_key("Photo consent - Twitter") == "twitter"
    assert channel_key("Social_Media permission") == "social media"


def test_templates_need_consent_and_no_objection() -> None:
    assert BiometricState(parent_consent=True, child_objects=False).templates_allowed
    assert not BiometricState(parent_consent=True, child_objects=True).templates_allowed
    assert not BiometricState(parent_consent=False, child_objects=False).templates_allowed


def test_biometric_ledger_fold() -> None:
    from ijs_vetting.domain import BiometricEvent as E
    from ijs_vetting.domain import fold_biometric_ledger

    assert not fold_biometric_ledger([]).templates_allowed
    assert fold_biometric_ledger([("Mum", E.PARENT_CONSENT)]).templates_allowed
    both = [("Mum", E.PARENT_CONSENT), ("Dad", E.PARENT_WITHDRAWAL)]
    assert not fold_biometric_ledger(both).templates_allowed
    assert fold_biometric_ledger([*both, ("dad", E.PARENT_CONSENT)]).templates_allowed
    objecting = [("Mum", E.PARENT_CONSENT), (None, E.CHILD_OBJECTION)]
    assert not fold_biometric_ledger(objecting).templates_allowed
    assert fold_biometric_ledger(
        [*objecting, (None, E.CHILD_OBJECTION_WITHDRAWN)]
    ).templates_allowed
