"""The same person matches across scaled, rotated, EXIF-rotated and HEIC copies; two people do not.

Distances are printed (run with -s) so the numbers behind the suggested threshold stay visible.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ijs_vetting.faces.engine import analyse_photo
from ijs_vetting.faces.results import Encoding
from tests import scenes

pytestmark = pytest.mark.slow

STRICT = 0.5  # stricter than dlib's customary 0.6: a false match publishes a child


def _only_encoding(source: Path | bytes) -> Encoding:
    faces = [f for f in analyse_photo(source).faces if f.encoding is not None]
    assert len(faces) == 1, faces
    assert faces[0].encoding is not None
    return faces[0].encoding


def _copy_as_jpeg(tmp: Path, person: str, change: Callable[[scenes.Scene], scenes.Scene]) -> Path:
    return scenes.write_jpeg(tmp / f"{person}.jpg", change(scenes.source(person)).pixels)


VARIANTS: dict[str, Callable[[Path, str], Path]] = {
    "face 90 px": lambda tmp, p: _copy_as_jpeg(
        tmp, p, lambda s: scenes.scaled(s, 90 / s.boxes[0].width)
    ),
    "double size": lambda tmp, p: _copy_as_jpeg(tmp, p, lambda s: scenes.scaled(s, 2.0)),
    "turned 90": lambda tmp, p: _copy_as_jpeg(tmp, p, lambda s: scenes.rotated(s, 90)),
    "tilted 12": lambda tmp, p: _copy_as_jpeg(tmp, p, lambda s: scenes.rotated(s, 12)),
    "tilted -25": lambda tmp, p: _copy_as_jpeg(tmp, p, lambda s: scenes.rotated(s, -25)),
    "EXIF orientation 6": lambda tmp, p: scenes.write_exif_rotated_jpeg(
        tmp / f"{p}.jpg", scenes.source(p).pixels, 6
    ),
    "EXIF orientation 8": lambda tmp, p: scenes.write_exif_rotated_jpeg(
        tmp / f"{p}.jpg", scenes.source(p).pixels, 8
    ),
    "HEIC": lambda tmp, p: scenes.write_heic(tmp / f"{p}.heic", scenes.source(p).pixels),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("person", scenes.PEOPLE)
def test_same_person_matches_across_copies(
    tmp_path: Path, references: dict[str, Encoding], person: str, variant: str
) -> None:
    encoding = _only_encoding(VARIANTS[variant](tmp_path, person))
    other = next(p for p in scenes.PEOPLE if p != person)
    same = float(np.linalg.norm(encoding - references[person]))
    different = float(np.linalg.norm(encoding - references[other]))
    print(f"{person:9s} {variant:18s} same {same:.3f}  other person {different:.3f}")
    assert same < STRICT
    assert different > 0.6


def test_the_two_people_do_not_match(references: dict[str, Encoding]) -> None:
    distance = float(np.linalg.norm(references[scenes.GRACE] - references[scenes.ASTRONAUT]))
    print(f"grace vs astronaut: {distance:.3f}")
    assert distance > 0.6


def test_both_people_in_one_group_photo_are_told_apart(
    tmp_path: Path, references: dict[str, Encoding]
) -> None:
    group = scenes.group_scene()
    analysis = analyse_photo(scenes.write_jpeg(tmp_path / "group.jpg", group.pixels))
    for truth, person in zip(group.boxes, group.people, strict=True):
        face = next(f for f in analysis.faces if f.box.iou(truth) > 0.4)
        assert face.encoding is not None
        nearest = min(scenes.PEOPLE, key=lambda p: np.linalg.norm(face.encoding - references[p]))
        assert nearest == person
