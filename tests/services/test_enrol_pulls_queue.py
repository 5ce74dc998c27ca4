"""New templates reach the queue: what was cleared before them goes back to be cleared again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ijs_vetting.domain import PhotoStatus, QueueStatus
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import queue
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import templates
from tests import privacy_world, scenes

pytestmark = pytest.mark.slow


def test_enrolling_new_templates_withdraws_cleared_items(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    privacy_world.school(station, admin, tmp_path)
    photo = privacy_world.add_photo(
        station, [privacy_world.Face("A123")], status=PhotoStatus.QUEUED
    )
    item = privacy_world.add_item(station, photo)
    text = queue.add_text(station, admin, "@year3ijs", "Well done, Year 3!")
    reference = tmp_path / "B456.jpg"
    scenes.write_jpeg(reference, scenes.portrait(scenes.GRACE, 200).pixels)

    report = templates.enrol_files(station, admin, "B456", [reference])

    assert report.count("enrolled") == 1 and report.withdrawn == [item]
    # dropped on a child's page, as in a folder enrolment: nothing is left waiting unvetted
    assert report.revetted == report.photos_to_revet
    assert photos.status_counts(station).get("pending", 0) == 0
    assert queue.get_item(station, item).status is QueueStatus.WITHDRAWN
    assert queue.get_item(station, text.id).status is QueueStatus.QUEUED  # no photo in it
    back = photos.get_photo(station, photo)
    assert back.status is PhotoStatus.REVIEW
    assert "new reference photos were enrolled" in (back.note or "")
    entry = audit.search_audit(station, admin, "reference photos from")[0]
    assert entry.summary.startswith("reference photos from B456.jpg:")  # not a temporary folder
