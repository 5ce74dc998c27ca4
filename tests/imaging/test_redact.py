"""Masks: the whole head, opaque inside, soft only outside; and a masked real face is gone."""

from __future__ import annotations

import numpy as np
import pytest

from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.redact import (
    Mask,
    MaskStyle,
    ellipse_distance,
    head_region,
    in_mask,
    mask_heads,
)
from tests import scenes


def test_the_head_region_covers_hair_and_chin() -> None:
    region = head_region(Box(100, 200, 200, 300))
    assert region == Box(70, 140, 230, 330)  # 30% each side and below, 60% above
    # the whole face box lies inside the ellipse, corners included
    for x, y in ((100, 200), (200, 200), (100, 300), (200, 300)):
        assert in_mask(region, x, y)
    assert not in_mask(region, 60, 230)


def test_the_mask_is_opaque_inside_and_soft_only_outside() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    before = pixels.copy()
    face = Box(150, 160, 250, 260)
    out, (region,) = mask_heads(pixels, [face])
    assert np.array_equal(pixels, before)  # the input is never changed
    ys, xs = np.mgrid[0:400, 0:400]
    distance = np.vectorize(lambda x, y: ellipse_distance(region, x + 0.5, y + 0.5))(xs, ys)
    inside, far = distance <= 1.0, distance >= 1.0 + Mask().feather
    assert (out[inside] == Mask().colour).all()
    assert np.array_equal(out[far], before[far])
    edge = ~inside & ~far
    assert edge.any() and not np.array_equal(out[edge], before[edge])


def test_heads_at_the_border_and_overlapping_heads_are_masked() -> None:
    pixels = np.full((200, 300, 3), 30, np.uint8)
    out, regions = mask_heads(pixels, [Box(-20, -10, 60, 70), Box(40, 20, 120, 100)])
    assert len(regions) == 2
    assert (out[5, 5] == Mask().colour).all() and (out[60, 80] == Mask().colour).all()
    assert (out[190, 290] == 30).all()


def test_blur_style_keeps_the_region_but_smears_it() -> None:
    pixels = np.zeros((200, 200, 3), np.uint8)
    pixels[::2] = 255  # stripes a strong blur flattens
    out, (region,) = mask_heads(pixels, [Box(70, 80, 130, 140)], Mask(style=MaskStyle.BLUR))
    cx, cy = (int(v) for v in region.centre)
    assert out[cy - 5 : cy + 5, cx - 5 : cx + 5].std() < 10
    assert pixels[cy - 5 : cy + 5, cx - 5 : cx + 5].std() > 100


@pytest.mark.slow
def test_a_masked_real_face_cannot_be_found_while_the_other_still_matches() -> None:
    from ijs_vetting.faces.engine import analyse_photo, analyse_reference
    from ijs_vetting.faces.match import TemplateSet

    references = {}
    for person in scenes.PEOPLE:
        check = analyse_reference(scenes.source_path(person))
        assert check.encoding is not None
        references[person] = check.encoding

    group = scenes.group_scene(face_width=170)
    astronaut = group.boxes[group.people.index(scenes.ASTRONAUT)]
    out, (region,) = mask_heads(group.pixels, [astronaut])
    faces = analyse_photo(scenes.write_png_bytes(out)).faces
    assert len(faces) == 1
    assert not in_mask(region, *faces[0].box.centre)
    assert faces[0].encoding is not None
    match = TemplateSet(references).match(faces[0].encoding)
    assert match is not None and match.key == scenes.GRACE and match.distance < 0.3
