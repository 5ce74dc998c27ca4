"""Enrolling a face that is already another child's: enrolled, and the admin told at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import roster, templates
from ijs_vetting.services.register.look_alike import REASON
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "KATH1,Kath,Johnson,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 6,6C,Y,Y\n"
)


def _folder(root: Path, name: str, files: dict[str, scenes.Scene]) -> Path:
    folder = root / name
    folder.mkdir()
    for file, scene in files.items():
        scenes.write_jpeg(folder / file, scene.pixels)
    return folder


def test_a_face_already_enrolled_for_another_child_is_said(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, tmp_path / "roster.csv")
    first = _folder(
        tmp_path,
        "first",
        {
            "GRACE1.jpg": scenes.portrait(scenes.GRACE, 220),
            "ASTRO1.jpg": scenes.portrait(scenes.ASTRONAUT, 220),
        },
    )
    report = templates.enrol_references(station, admin, first, workers=1)
    assert {(o.child_id, o.reason) for o in report.outcomes} == {("GRACE1", None), ("ASTRO1", None)}
    # Kath's file holds Grace's face (scaled, so another picture of her): enrolled, and said
    mixed_up = _folder(tmp_path, "mixed", {"KATH1.jpg": scenes.portrait(scenes.GRACE, 260)})
    report = templates.enrol_references(station, admin, mixed_up, workers=1)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == (templates.ReferenceStatus.ENROLLED, REASON)
    assert "Grace Hopper (5H)" in outcome.message and "Eileen" not in outcome.message
    assert report.as_json()["references"][0]["reason"] == REASON
    # a second photo of the same child is no look-alike of anyone
    again = _folder(tmp_path, "again", {"ASTRO1.jpg": scenes.portrait(scenes.ASTRONAUT, 260)})
    (outcome,) = templates.enrol_references(station, admin, again, workers=1).outcomes
    assert (outcome.status, outcome.reason) == (templates.ReferenceStatus.ENROLLED, None)
