"""An import arranges its unidentified faces by likeness only when the school enabled it, from
the encodings it computes anyway, real faces of two people; the arrangement names nobody."""

from __future__ import annotations

from pathlib import Path

import pytest

from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing
from ijs_vetting.services.register import configure, naming
from tests import scenes

pytestmark = pytest.mark.slow


def _trip(folder: Path, wider: int = 0) -> Path:
    """Four photos, the two people taking turns: Grace, Eileen, Grace turned, Eileen larger
    (`wider`: other pixels, so a second trip holds no duplicates of the first)."""
    folder.mkdir()
    shots = [
        scenes.portrait(scenes.GRACE, 150 + wider),
        scenes.portrait(scenes.ASTRONAUT, 150 + wider),
        scenes.rotated(scenes.portrait(scenes.GRACE, 170 + wider), 10),
        scenes.portrait(scenes.ASTRONAUT, 220 + wider),
    ]
    for n, shot in enumerate(shots, start=1):
        scenes.write_jpeg(folder / f"IMG_{n:04d}.JPG", shot.pixels)
    return folder


def _files(station: Station, batch_id: int, likeness: list[int]) -> list[str]:
    return [face.file for face in naming.unnamed_faces(station, batch_id, likeness)]


def test_faces_alike_come_together_only_when_enabled(
    sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    off = importing.import_folder(sqlite_station, admin, _trip(tmp_path / "off"), workers=1)
    assert off.likeness == [] and "likeness" not in off.as_json()
    in_order = ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG", "IMG_0004.JPG"]
    assert _files(sqlite_station, off.batch_id, off.likeness) == in_order

    configure.set_setting(sqlite_station, admin, "faces.order_unknown_by_likeness", True)
    on = importing.import_folder(sqlite_station, admin, _trip(tmp_path / "on", 12), workers=1)
    assert on.imported == 4 and len(on.likeness) == 4
    arranged = _files(sqlite_station, on.batch_id, on.likeness)
    grace = frozenset({"IMG_0001.JPG", "IMG_0003.JPG"})
    eileen = frozenset({"IMG_0002.JPG", "IMG_0004.JPG"})
    assert {frozenset(arranged[:2]), frozenset(arranged[2:])} == {grace, eileen}
    assert len(naming.unnamed_faces(sqlite_station, on.batch_id)) == 4  # arranged, not named
