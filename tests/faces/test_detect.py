"""Detection recall on a 12 MP class photo, and boxes in upright coordinates."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from ijs_vetting.faces import detect
from ijs_vetting.faces.centerface import Detection
from ijs_vetting.faces.detect import FIRST_SIDE, Confirmation, detect_faces, plan_passes
from ijs_vetting.faces.engine import analyse_photo, detector
from ijs_vetting.faces.results import PhotoAnalysis
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import DecodedImage, decode_image
from tests import scenes
from tests.faces.conftest import Photos

pytestmark = pytest.mark.slow

SAME_FACE_IOU = 0.4
REQUIRED_WIDTH = 40.0


@pytest.fixture(scope="session")
def class_analysis(photos: Photos) -> PhotoAnalysis:
    return analyse_photo(photos.class_jpeg)


def _found(truth: Box, analysis: PhotoAnalysis) -> bool:
    return any(face.box.iou(truth) >= SAME_FACE_IOU for face in analysis.faces)


def test_every_face_of_40_px_and_more_is_found_in_a_12mp_class_photo(
    photos: Photos, class_analysis: PhotoAnalysis
) -> None:
    assert (class_analysis.width, class_analysis.height) == scenes.CLASS_SIZE
    by_width: dict[int, list[bool]] = defaultdict(list)
    for truth in photos.class_scene.boxes:
        by_width[round(truth.width)].append(_found(truth, class_analysis))
    print("recall by face width:", {w: f"{sum(v)}/{len(v)}" for w, v in sorted(by_width.items())})
    missed = [
        round(t.width)
        for t in photos.class_scene.boxes
        if t.width >= REQUIRED_WIDTH - 1 and not _found(t, class_analysis)
    ]
    assert missed == []
    extra = [
        f
        for f in class_analysis.faces
        if not any(f.box.iou(t) >= SAME_FACE_IOU for t in photos.class_scene.boxes)
    ]
    assert len(extra) <= 2, extra


def test_small_faces_are_flagged_and_carry_no_encoding(class_analysis: PhotoAnalysis) -> None:
    small = [f for f in class_analysis.faces if f.width < 70]
    large = [f for f in class_analysis.faces if f.width >= 90]
    assert small and large
    assert all(f.too_small and f.encoding is None for f in small)
    assert all(not f.too_small and f.encoding is not None for f in large)
    assert all(f.encoding is None or f.encoding.shape == (128,) for f in class_analysis.faces)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_boxes_are_upright_for_exif_rotated_files(photos: Photos, orientation: int) -> None:
    analysis = analyse_photo(photos.group_rotated[orientation])
    assert (analysis.width, analysis.height) == photos.group.pixels.shape[1::-1]
    assert len(analysis.faces) == 2
    for truth in photos.group.boxes:
        assert _found(truth, analysis)


def test_a_close_up_filling_the_frame_is_found() -> None:
    close = scenes.scaled(scenes.source(scenes.GRACE), 6.0)  # 3072x3600, face ~1090 px wide
    analysis = analyse_photo(scenes.write_png_bytes(close.pixels))
    assert [f.box.iou(close.boxes[0]) >= SAME_FACE_IOU for f in analysis.faces] == [True]


def test_an_empty_room_has_no_faces() -> None:
    empty = scenes.background(4032, 3024, seed=7)
    assert analyse_photo(scenes.write_png_bytes(empty)).faces == ()


def test_the_cascade_finds_every_face_the_whole_fine_pass_finds(photos: Photos) -> None:
    image = decode_image(photos.class_jpeg)
    whole = detect_faces(image, detector(), cascade=False)
    cascade = detect_faces(image, detector())
    assert plan_passes(*scenes.CLASS_SIZE).first < plan_passes(*scenes.CLASS_SIZE).fine
    lost = [f.box for f in whole if not any(c.box.iou(f.box) >= SAME_FACE_IOU for c in cascade)]
    assert lost == []


def test_grouped_confirmation_areas_cost_no_more_than_a_run_each_and_hold_their_areas() -> None:
    rng = np.random.default_rng(3)
    areas = []
    for _ in range(300):  # a crowd's heads in rows, and stray impostors
        x = int(rng.integers(0, 1900))
        y = int(rng.choice([300, 420, 560, int(rng.integers(0, 1400))]))
        side = int(rng.integers(40, 120))
        areas.append((x, y, min(x + side, 2016), min(y + side, 1512)))
    groups = detect._grouped(areas)
    assert sorted(i for _, members in groups for i in members) == list(range(len(areas)))
    for (left, top, right, bottom), members in groups:
        assert (bottom - top) * (right - left) <= detect._BLOCK_PIXELS
        for i in members:
            a = areas[i]
            assert left <= a[0] and top <= a[1] and a[2] <= right and a[3] <= bottom
    grouped = sum(detect._run_cost(b - t, r - lf) for (lf, t, r, b), _ in groups)
    each = sum(detect._run_cost(b - t, r - lf) for lf, t, r, b in areas)
    assert len(groups) < len(areas) // 4
    assert grouped <= each


def _same_verdicts(a: list[Detection], b: list[Detection]) -> bool:
    """Both lists hold the same faces: each face of one has exactly one partner in the other."""
    return (
        len(a) == len(b)
        and all(sum(x.box.iou(y.box) >= 0.5 for y in b) == 1 for x in a)
        and all(sum(x.box.iou(y.box) >= 0.5 for x in a) == 1 for y in b)
    )


def test_confirming_a_crowd_in_shared_runs_gives_the_verdicts_of_a_run_per_candidate() -> None:
    """A crowd leaves dozens of doubtful first-pass candidates. Confirming them in shared runs
    (the engine's way) must decide exactly as confirming each on its own crop, for a fraction
    of the runs and never more pixels than a whole fine pass; the whole fine pass itself finds
    every face the crops do."""
    rows = tuple((float(width), 14) for width in (40, 42, 44, 46, 48, 50, 55, 60, 70, 80))
    crowd = scenes.class_photo(rows=rows, seed=12, tilt=15.0)
    height, width = crowd.pixels.shape[:2]
    image = DecodedImage(crowd.pixels, width, height)
    engine = detector()
    found: dict[Confirmation, list[Detection]] = {}
    cost: dict[Confirmation, tuple[int, int]] = {}
    for confirm in Confirmation:
        runs, pixels = engine.runs, engine.pixels
        found[confirm] = detect_faces(image, engine, confirm=confirm)
        cost[confirm] = (engine.runs - runs, engine.pixels - pixels)
    each = found[Confirmation.EACH]
    assert all(any(f.box.iou(t) >= SAME_FACE_IOU for f in each) for t in crowd.boxes)
    assert _same_verdicts(found[Confirmation.BOUNDED], each)
    assert _same_verdicts(found[Confirmation.GROUPED], each)
    fine_pass = found[Confirmation.FINE_PASS]
    assert all(any(f.box.iou(e.box) >= 0.5 for f in fine_pass) for e in each)
    print("runs and pixels:", {c.name: cost[c] for c in Confirmation})
    assert cost[Confirmation.BOUNDED][0] * 2 <= cost[Confirmation.EACH][0]
    assert cost[Confirmation.BOUNDED][1] <= cost[Confirmation.FINE_PASS][1]


@pytest.mark.parametrize(
    "size", [(1152, 1536), (2304, 3072), (2304, 1536), (3024, 2016), (900, 9000)]
)
def test_whole_picture_blocks_keep_every_trusted_face_whole_in_one_block(
    size: tuple[int, int],
) -> None:
    height, width = size
    blocks = detect._blocks(height, width)
    covered = np.zeros(size, dtype=bool)
    for top, bottom, left, right in blocks:
        assert (bottom - top) * (right - left) <= detect._BLOCK_PIXELS
        covered[top:bottom, left:right] = True
    assert covered.all()
    side = detect._BLOCK_OVERLAP
    rng = np.random.default_rng(0)
    for _ in range(200):
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        assert any(t <= y and y + side <= b and lf <= x and x + side <= r for t, b, lf, r in blocks)


def test_photos_of_any_shape_pay_the_same_pixels_per_megapixel() -> None:
    """Planned by pixels: a square 9 MP photo's passes hold what a 12 MP 4:3 one's do."""
    landscape, square = plan_passes(4032, 3024), plan_passes(3024, 3024)
    assert 3024 * 3024 * square.first**2 == pytest.approx(4032 * 3024 * landscape.first**2, 0.01)
    assert 3024 * 3024 * square.fine**2 == pytest.approx(4032 * 3024 * landscape.fine**2, 0.01)


@pytest.mark.parametrize(
    "size",
    [
        (4032, 3024),
        (3024, 4032),
        (3024, 3024),
        (4032, 6048),
        (8064, 6048),
        (2016, 1512),
        (800, 600),
    ],
)
def test_a_40_px_face_stays_big_enough_in_every_pass(size: tuple[int, int]) -> None:
    plan = plan_passes(*size)
    assert REQUIRED_WIDTH * plan.fine >= 20
    assert REQUIRED_WIDTH * plan.first >= 15
    assert plan.first <= plan.fine
    # Small photos take a single pass at full resolution, no confirmations.
    if max(size) <= FIRST_SIDE:
        assert plan.first == plan.fine == 1.0
