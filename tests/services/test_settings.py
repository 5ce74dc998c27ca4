"""Station settings: typed, bounded, admin-only, audited, and applied to decisions at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import Child, Photo, PhotoFace
from ijs_vetting.domain import FaceDecision, FaceReason, InvalidInput, PermissionDenied, PhotoStatus
from ijs_vetting.services.core import station_settings
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.intake import photos
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting import queue
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import configure, roster


def test_defaults_and_a_change(station: Station, admin: Actor) -> None:
    listed = station_settings.list_settings(station)
    assert listed["posting.caption_limit"] == (140, 140)
    assert configure.set_setting(station, admin, "posting.caption_limit", "60") == 60
    assert current(station).caption_limit == 60
    assert station_settings.list_settings(station)["posting.caption_limit"] == (60, 140)
    with pytest.raises(InvalidInput, match="limit is 60"):
        queue.add_text(station, admin, "@year3ijs", "x" * 61)
    (entry,) = audit.list_audit(station, action="settings.set")
    assert entry.details == {"before": 140, "after": 60, "withdrawn": []}


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("faces.nonsense", "1", "no setting"),
        ("faces.match_threshold", "high", "must be a float"),
        ("faces.match_threshold", "0.9", "between 0.2 and 0.6"),
        ("security.min_password_length", "4", "between 8 and 128"),
    ],
)
def test_bad_values_are_refused(
    station: Station, admin: Actor, key: str, value: str, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why):
        configure.set_setting(station, admin, key, value)


def test_only_admins_change_settings(station: Station, slt: Actor) -> None:
    with pytest.raises(PermissionDenied):
        configure.set_setting(station, slt, "posting.caption_limit", "100")
    assert current(station).caption_limit == 140


def test_a_stricter_threshold_re_decides_photos_at_once(
    station: Station, admin: Actor, roster_file: Path
) -> None:
    roster.import_roster(station, admin, roster_file)
    with station.sessions.begin() as s:
        child = s.scalars(select(Child.id).where(Child.mis_id == "A123")).one()
        photo = Photo(
            sha256="ab" * 32,
            filename="IMG_1.JPG",
            source_path="x",
            media_type="image/jpeg",
            width=800,
            height=600,
            imported_by="t",
            status=PhotoStatus.PENDING,
        )
        photo.faces.append(
            PhotoFace(
                left=10,
                top=10,
                right=150,
                bottom=160,
                score=0.9,
                too_small=False,
                candidate_child_id=child,
                distance=0.40,
                runner_up_distance=0.9,
                decision=FaceDecision.BLUR,
                reason=FaceReason.UNKNOWN,
            )
        )
        s.add(photo)
        s.flush()
        decide(s, photo)
        photo_id = photo.id
    assert photos.get_photo(station, photo_id).status is PhotoStatus.READY
    configure.set_setting(station, admin, "faces.match_threshold", "0.35")
    info = photos.get_photo(station, photo_id)
    assert info.status is PhotoStatus.READY_WITH_BLUR
    assert (info.faces[0].decision, info.faces[0].reason) == ("blur", "unknown")
