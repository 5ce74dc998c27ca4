"""Session-wide test pictures for the face engine, built once into a temporary folder.

Building the 12 MP class photo and running the engine on it take a few seconds each, so the files
and the expensive analyses are session fixtures that every test reads but never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests import scenes


@dataclass(frozen=True)
class Photos:
    """Paths of the generated test files, with the scenes they were made from."""

    folder: Path
    class_scene: scenes.Scene
    class_jpeg: Path
    group: scenes.Scene
    group_jpeg: Path
    group_rotated: dict[int, Path]  # EXIF orientation -> file storing the group turned
    truncated: Path
    garbage: Path
    gps_jpeg: Path


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Photos:
    folder = tmp_path_factory.mktemp("photos")
    class_scene = scenes.class_photo()
    group = scenes.group_scene()
    return Photos(
        folder=folder,
        class_scene=class_scene,
        class_jpeg=scenes.write_jpeg(folder / "class.jpg", class_scene.pixels),
        group=group,
        group_jpeg=scenes.write_jpeg(folder / "group.jpg", group.pixels),
        group_rotated={
            o: scenes.write_exif_rotated_jpeg(folder / f"group-o{o}.jpg", group.pixels, o)
            for o in (3, 6, 8)
        },
        truncated=scenes.write_truncated_jpeg(folder / "truncated.jpg", group.pixels),
        garbage=scenes.write_garbage(folder / "garbage.jpg"),
        gps_jpeg=scenes.write_jpeg_with_gps_and_thumbnail(folder / "gps.jpg", group.pixels),
    )


@pytest.fixture(scope="session")
def references() -> dict[str, np.ndarray]:
    """Each person's encoding from their full-size original, via the enrolment check."""
    from ijs_vetting.faces.engine import analyse_reference

    out = {}
    for person in scenes.PEOPLE:
        check = analyse_reference(scenes.source_path(person))
        assert check.accepted, check.message
        assert check.encoding is not None
        out[person] = check.encoding
    return out
