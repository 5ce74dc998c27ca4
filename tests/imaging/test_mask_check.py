"""The pixel check of opaque masks: JPEG's own error passes, anything left of a head fails."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import decode_image
from ijs_vetting.imaging.export import QUALITIES, encode_jpeg
from ijs_vetting.imaging.mask_check import LUMA_TOLERANCE, solid_masks
from ijs_vetting.imaging.redact import DEFAULT_MASK, head_region, mask_heads
from tests import scenes

FILL = DEFAULT_MASK.colour


def _round_trip(pixels: np.ndarray, quality: int) -> np.ndarray:
    """Encoded as a posting file is, at one quality, and decoded as the engine reads it."""
    data = encode_jpeg(pixels, qualities=(quality,))
    return decode_image(data).pixels


@functools.cache
def _scene(which: str) -> scenes.Scene:
    if which == "crowd":
        return scenes.crowd_scene()
    return scenes.class_photo() if which == "class" else scenes.group_scene(170)


@pytest.fixture
def crowd() -> scenes.Scene:
    return _scene("crowd")


@pytest.mark.parametrize("quality", [QUALITIES[0], QUALITIES[-1]])
@pytest.mark.parametrize("which", ["crowd", "class", "group"])
def test_masks_survive_jpeg_at_every_export_quality(which: str, quality: int) -> None:
    masked, regions = mask_heads(_scene(which).pixels, _scene(which).boxes)
    decoded = _round_trip(masked, quality)
    assert solid_masks(decoded, regions, FILL) == (True,) * len(regions)
    # ...with the margin the module's docstring gives: deep inside, JPEG is nearly exact.
    luma = cv2.cvtColor(decoded, cv2.COLOR_RGB2YCrCb)[..., 0].astype(int)
    fill = int(cv2.cvtColor(np.array([[FILL]], np.uint8), cv2.COLOR_RGB2YCrCb)[0, 0, 0])
    worst = 0
    for region in (r for r in regions if min(r.width, r.height) >= 80):
        # The middle half of a large ellipse: more than INTERIOR_DEPTH inside its edge.
        left, top, right, bottom = region.grown(-0.25).as_ints()
        worst = max(worst, int(np.abs(luma[top:bottom, left:right] - fill).max()))
    assert worst <= LUMA_TOLERANCE / 2


def test_a_patch_of_the_face_left_in_a_mask_fails(crowd: scenes.Scene) -> None:
    masked, regions = mask_heads(crowd.pixels, crowd.boxes)
    face = max(crowd.boxes, key=lambda b: b.width)
    leaky = regions[crowd.boxes.index(face)]
    # An eye's worth of the original (a 16 px square at the face's upper third) shows through.
    x, y = int(face.left + face.width * 0.3), int(face.top + face.height * 0.35)
    masked[y : y + 16, x : x + 16] = crowd.pixels[y : y + 16, x : x + 16]
    verdicts = solid_masks(_round_trip(masked, QUALITIES[0]), regions, FILL)
    assert verdicts[regions.index(leaky)] is False
    assert sum(verdicts) == len(regions) - 1


def test_a_mask_painted_in_the_wrong_place_fails(crowd: scenes.Scene) -> None:
    """A mask off by a tenth of the face (a scaling or rounding bug) leaves a crescent of the
    head uncovered."""
    face = crowd.boxes[-1]
    shift = face.width / 10
    masked, _ = mask_heads(crowd.pixels, [face.shifted(shift, 0)])
    decoded = _round_trip(masked, QUALITIES[0])
    assert solid_masks(decoded, [head_region(face)], FILL) == (False,)
    assert solid_masks(decoded, [head_region(face.shifted(shift, 0))], FILL) == (True,)


def test_only_the_part_inside_the_picture_is_judged() -> None:
    pixels = np.full((120, 160, 3), 30, np.uint8)
    corner = Box(-30, -30, 30, 30)
    masked, regions = mask_heads(pixels, [corner])
    outside = Box(500, 500, 560, 560)
    assert solid_masks(masked, [*regions, head_region(outside)], FILL) == (True, True)
    assert solid_masks(pixels, regions, FILL) == (False,)  # nothing painted: it shows
