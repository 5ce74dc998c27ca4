"""The order in which a person reads the faces of a photo: rows top to bottom, each left to right.

The review screen numbers the boxes on the picture and the rows of its face list with the same
numbers, so "face 2" is the same face wherever a reviewer looks. Database order (the order the
detector found them) follows nothing a person can see, which is how a name was put on the wrong
child's face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Boxed(Protocol):
    @property
    def left(self) -> int: ...
    @property
    def top(self) -> int: ...
    @property
    def right(self) -> int: ...
    @property
    def bottom(self) -> int: ...


B = TypeVar("B", bound=_Boxed)


def reading_order(faces: Sequence[B]) -> list[B]:
    """Faces grouped into rows (a face whose centre lies within the first face's height of the
    row joins it, so a staggered class line is one row), rows top to bottom, left to right."""
    by_height = sorted(faces, key=lambda f: ((f.top + f.bottom) / 2, f.left))
    rows: list[list[B]] = []
    for face in by_height:
        centre = (face.top + face.bottom) / 2
        if rows and rows[-1][0].top <= centre <= rows[-1][0].bottom:
            rows[-1].append(face)
        else:
            rows.append([face])
    return [face for row in rows for face in sorted(row, key=lambda f: (f.left, f.top))]
