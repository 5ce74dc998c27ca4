"""The smallest real school: Grace Hopper (GRACE1, Year 5, 5H), with Twitter and biometric
consent, enrolled from one reference portrait by the real engine."""

from __future__ import annotations

from pathlib import Path

from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import roster
from ijs_vetting.services.register import templates as enrolment
from tests import scenes

ROSTER = "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\nGRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"


def enrol_grace(station: Station, admin: Actor, folder: Path) -> Station:
    """Grace's roster row and her template (files written under `folder`)."""
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, folder / "roster.csv")
    refs = folder / "references"
    refs.mkdir()
    scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    enrolment.enrol_references(station, admin, refs, workers=1)
    return station
