"""Arranging unidentified faces by likeness: faces alike sit together, and nothing is named."""

from __future__ import annotations

import numpy as np

from ijs_vetting.faces.likeness import TOLERANCE, likeness_order


def _near(base: np.ndarray, seed: int) -> np.ndarray:
    """Another encoding of the same face: well within dlib's same-person distance."""
    nudge = np.random.default_rng(seed).normal(size=128)
    return base + nudge / np.linalg.norm(nudge) * (TOLERANCE / 3)


def test_faces_alike_are_put_together_largest_group_first() -> None:
    rng = np.random.default_rng(7)
    ann, ben = rng.normal(size=128), rng.normal(size=128)  # ~16 apart: two people
    faces = [
        ("ben-1", ben),
        ("ann-1", ann),
        ("ben-2", _near(ben, 1)),
        ("ann-2", _near(ann, 2)),
        ("ann-3", _near(ann, 3)),
    ]
    assert likeness_order(faces) == ["ann-1", "ann-2", "ann-3", "ben-1", "ben-2"]


def test_every_face_is_kept_once_and_strangers_keep_their_order() -> None:
    rng = np.random.default_rng(11)
    faces = [(n, rng.normal(size=128)) for n in range(6)]
    assert likeness_order(faces) == [0, 1, 2, 3, 4, 5]
    assert likeness_order([]) == []
