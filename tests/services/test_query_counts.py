"""Services that answer for the whole school run a bounded number of statements (issue 15).

Each test counts with `tests.query_count` on a small register and on one ten times bigger: the
count must not grow with the number of rows, or a school's four years of data make it crawl.
"""

from __future__ import annotations

from pathlib import Path

from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import children, roster
from tests.query_count import count_statements

HEADER = "UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Twitter,Website,Biometric\n"


def _roster(path: Path, count: int) -> Path:
    rows = [f"Q{n:05d},Pupil{n},,Family{n},{n % 7 or 'R'},{n % 7}A,Y,N,Y\n" for n in range(count)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _list_children_statements(station: Station) -> int:
    with count_statements(station.engine) as counted:
        listed = children.list_children(station)
    assert listed, "the register should not be empty"
    return counted.total


def test_listing_the_register_costs_the_same_for_3_or_60_children(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "few.csv", 3))
    few = _list_children_statements(station)
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    assert len(children.list_children(station)) == 60
    many = _list_children_statements(station)
    # children, channels, consents, biometric ledger, safeguarding: one statement per table
    assert few <= 7  # the register's record seals are read with it (one statement)
    assert many == few
