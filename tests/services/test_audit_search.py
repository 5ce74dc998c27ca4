"""Searching the audit log by a child's name or a photo's file name, and by days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos, review
from ijs_vetting.services.posting import rejecting
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import consent, roster
from tests import privacy_world
from tests.privacy_world import Face


def test_search_finds_a_child_by_name_and_a_photo_by_file(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    roster.import_roster(station, admin, roster_file)
    consent.set_consent(station, admin, "A123", "twitter", False)
    photo = privacy_world.add_photo(station, [])
    found = audit.search_audit(station, admin, "millie smith")  # preferred name + surname
    assert found and {(r.target_type, r.target_id) for r in found} == {("child", "A123")}
    names = audit.audit_names(station)
    assert names.record(found[0]) == "Millie Smith (A123)"
    file_name = names.photos[str(photo)]
    rejecting.reject_photos(station, admin, [photo], "out of focus")
    by_file = audit.search_audit(station, admin, file_name.lower())
    assert [r.action for r in by_file] == ["photos.reject"]
    assert audit.audit_names(station).record(by_file[0]) == file_name
    today = date.today()
    assert audit.search_audit(station, admin, "", since=today, until=today)
    assert audit.search_audit(station, admin, "", until=today - timedelta(days=1)) == []
    assert audit.search_audit(station, admin, "no such words") == []


def test_search_by_name_finds_the_faces_named_as_the_child(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    """Naming a face writes the child's MIS id in the summary: the name finds that entry too."""
    roster.import_roster(station, admin, roster_file)
    photo = privacy_world.add_photo(station, [Face(None)])
    info = photos.get_photo(station, photo)
    (face,) = info.faces
    review.assign_child(station, admin, face.id, "A123")
    found = audit.search_audit(station, admin, "Smith")
    # the face as the reviewer saw it (its number on the screen, the file), not a database id
    assert f"face 1 of {info.file} identified as A123" in {r.summary for r in found}
    names = audit.audit_names(station)  # as the Audit page shows it: the name beside the id
    shown = {names.summary(r) for r in found}
    assert f"face 1 of {info.file} identified as A123 (Millie Smith)" in shown
    assert not any("A123" in r.summary for r in audit.search_audit(station, admin, "Jones"))
