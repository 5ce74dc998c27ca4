"""Enrolment photos: exactly one large, sharp face, or a refusal saying why."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from ijs_vetting.faces.engine import analyse_reference
from ijs_vetting.faces.results import Refusal
from tests import scenes
from tests.faces.conftest import Photos

pytestmark = pytest.mark.slow


def test_a_clear_portrait_is_accepted() -> None:
    check = analyse_reference(scenes.source_path(scenes.GRACE))
    assert check.accepted and check.encoding is not None and check.encoding.shape == (128,)


def test_no_face(tmp_path: Path) -> None:
    empty = scenes.write_jpeg(tmp_path / "wall.jpg", scenes.background(800, 600))
    assert analyse_reference(empty).refusal is Refusal.NO_FACE


def test_several_faces(photos: Photos) -> None:
    check = analyse_reference(photos.group_jpeg)
    assert check.refusal is Refusal.SEVERAL_FACES
    assert check.encoding is None and "2 faces" in check.message


def test_too_small(tmp_path: Path) -> None:
    small = scenes.portrait(scenes.GRACE, 70, margin=2.0)
    check = analyse_reference(scenes.write_jpeg(tmp_path / "small.jpg", small.pixels))
    assert check.refusal is Refusal.TOO_SMALL and check.encoding is None


def test_blurred(tmp_path: Path) -> None:
    sharp = scenes.portrait(scenes.GRACE, 200, margin=1.0)
    blurred = cv2.GaussianBlur(sharp.pixels, (0, 0), 3.0)
    check = analyse_reference(scenes.write_jpeg(tmp_path / "blur.jpg", blurred))
    assert check.refusal is Refusal.BLURRED and check.encoding is None
    assert analyse_reference(scenes.write_jpeg(tmp_path / "sharp.jpg", sharp.pixels)).accepted


def test_unreadable(photos: Photos) -> None:
    assert analyse_reference(photos.truncated).refusal is Refusal.UNREADABLE
    assert analyse_reference(photos.garbage).refusal is Refusal.UNREADABLE
