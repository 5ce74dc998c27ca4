"""Reading order of faces: what the numbers on the review screen follow."""

from __future__ import annotations

from dataclasses import dataclass

from ijs_vetting.services.intake.face_order import reading_order


@dataclass(frozen=True)
class _Face:
    name: str
    left: int
    top: int
    right: int
    bottom: int


def test_rows_top_to_bottom_each_left_to_right() -> None:
    faces = [
        _Face("back right", 600, 100, 700, 200),
        _Face("front left", 50, 400, 150, 500),
        _Face("back left, a little lower", 100, 130, 200, 230),
        _Face("front right", 500, 390, 600, 490),
        _Face("back middle", 350, 90, 450, 190),
    ]
    assert [f.name for f in reading_order(faces)] == [
        "back left, a little lower",
        "back middle",
        "back right",
        "front left",
        "front right",
    ]
