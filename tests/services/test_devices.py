"""School devices: registered from a photo's camera, renamed, retired; photos follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from ijs_vetting.db.models import Photo
from ijs_vetting.domain import InvalidInput, PermissionDenied, PhotoStatus
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, photos
from ijs_vetting.services.privacy import audit
from tests import privacy_world
from tests.privacy_world import Face


def _photo_from(station: Station, make: str | None, model: str | None) -> int:
    photo_id = privacy_world.add_photo(station, [Face("A123")])
    with station.sessions.begin() as s:
        s.execute(
            update(Photo).where(Photo.id == photo_id).values(camera_make=make, camera_model=model)
        )
    return photo_id


def _status(station: Station, photo_id: int) -> PhotoStatus:
    return photos.get_photo(station, photo_id).status


def test_a_camera_seen_in_photos_is_registered_and_its_photos_released(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    privacy_world.school(station, admin, tmp_path)
    ipad = _photo_from(station, "Apple", "iPad (9th generation)")
    phone = _photo_from(station, "Samsung", "SM-A515F")
    devices.add_device(station, admin, "Trips phone", "Samsung", "SM-A515F")
    assert _status(station, phone) is PhotoStatus.READY
    assert _status(station, ipad) is PhotoStatus.REVIEW  # an unknown camera waits in review
    seen = devices.unregistered_cameras(station)
    assert [(c.make, c.model, c.photos) for c in seen] == [("Apple", "iPad (9th generation)", 1)]
    assert seen[0].example_file.startswith("IMG_")
    devices.register_camera(station, admin, seen[0].example_photo_id, "iPad 3")
    assert _status(station, ipad) is PhotoStatus.READY
    assert devices.unregistered_cameras(station) == []
    assert audit.list_audit(station, limit=1)[0].action == "device.add"


def test_renaming_and_retiring(station: Station, admin: Actor, tmp_path: Path) -> None:
    privacy_world.school(station, admin, tmp_path)
    photo = _photo_from(station, "Apple", "iPad Air")
    devices.add_device(station, admin, "iPad 1", "Apple", "iPad Air")
    renamed = devices.rename_device(station, admin, "iPad 1", "Year 5 iPad")
    assert renamed.name == "Year 5 iPad" and _status(station, photo) is PhotoStatus.READY
    devices.add_device(station, admin, "iPad 2", "Apple", "iPad mini")
    with pytest.raises(InvalidInput, match="already registered"):
        devices.rename_device(station, admin, "iPad 2", "Year 5 iPad")
    retired = devices.retire_device(station, admin, "Year 5 iPad")
    assert not retired.active
    assert _status(station, photo) is PhotoStatus.REVIEW  # a retired device is not accepted
    assert {d.name: d.active for d in devices.list_devices(station)} == {
        "iPad 2": True,
        "Year 5 iPad": False,
    }


def test_only_admins_manage_devices_and_a_photo_without_camera_cannot_register(
    station: Station, admin: Actor, slt: Actor, tmp_path: Path
) -> None:
    privacy_world.school(station, admin, tmp_path)
    bare = _photo_from(station, None, None)
    with pytest.raises(PermissionDenied, match="Only an admin can register devices"):
        devices.register_camera(station, slt, bare, "x")
    with pytest.raises(InvalidInput, match="has no camera information"):
        devices.register_camera(station, admin, bare, "x")
