"""Find every face in an upright photo, reporting boxes in the photo's own pixel coordinates.

Recall is what matters: a missed face is a child published without consent, while a false alarm
only costs a blur. The settings below were chosen by measurement on a 12 MP class photo and the
benchmark's 28 school scenes (bench/, tests/faces/). CenterFace scores every face of 40 px and up
at 0.6 or more once the photo is reduced to half its resolution (2016 px on the long side), so
half resolution is the *fine* scale whose verdict we trust. Running the network over the whole
picture at that scale is however the most expensive step of the import, so detection is a cascade:

- a *first* pass over the whole picture at 1536 px (0.38 of a 12 MP photo; 58% of the pixels of
  the fine scale, about half its time) with a low threshold. There the smallest faces (40 px in
  the original, 15 px in this pass) still score 0.18 or more (1,240 faces of 40 px and up in the
  benchmark's photos, the class photo and six crowded scenes; bench/ideas.py) while the
  background stays under 0.05 almost everywhere, so a threshold of 0.03 lets every face through
  with a margin of six, for about three impostors per photo. A smaller first pass loses that
  margin: at 1344 px the weakest face scores 0.02, the background's level, and at 1024 px one
  face is not seen at all. That is why the first pass is not smaller.
  Faces scoring 0.5 or more here are accepted without a second look;
- every *candidate* scoring less, if it is small enough for the fine scale to be the authority
  on it, is confirmed by running the network again on a crop of the fine-scale picture around it
  (a face's width of margin on each side) with the normal threshold: the crop gets the verdict
  the whole fine pass would have given, for a few milliseconds instead of a few hundred;
- a *coarse* pass at 400 px catches faces too big for the network's receptive field at the
  first pass's scale (a close-up filling much of the frame), for 4% of the first pass's cost.
  The first pass finds a face of up to 1,500 px in a 12 MP photo and none of 1,800 px or more;
  at 400 px, faces of 300-2,100 px all score 0.69 or more (bench/ideas.py).

A face of 40 px in any photo is at least 15 px in the first pass and 20 px in the fine one,
whatever the photo's size. Photos of up to 1536 px are small enough to take one pass at full
resolution with the normal threshold. Pictures too big for one pass within the memory budget
(onnxruntime keeps the buffers of the largest input it has seen: 90 MB for 1536x1152, 285 MB for
the 3072x2304 first pass of a 48 MP photo) are cut into a grid of blocks of at most ~1.8 MP
overlapping by 256 px; a 48 MP photo then peaks at 480 MB per worker instead of 760 MB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces.centerface import CenterFace, Detection
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import DecodedImage

# Long side of the fine scale for a 12 MP photo, and the smallest reduction ever applied to it.
FINE_SIDE = 2016
FINE_MIN_SCALE = 0.5
# Long side of the first pass for a 12 MP photo; never less than this fraction of the original,
# so that a 40 px face keeps the 15 px at which it still scores well above CANDIDATE_THRESHOLD.
FIRST_SIDE = 1536
FIRST_MIN_SCALE = FIRST_SIDE / 4032
COARSE_SIDE = 400
# The same passes by pixels: what they hold for a 12 MP 4:3 photo.
_FINE_PIXELS = FINE_SIDE * FINE_SIDE * 3 // 4
_FIRST_PIXELS = FIRST_SIDE * FIRST_SIDE * 3 // 4
# Recall first: 40 px faces in the class photo score 0.6 and more at the fine scale; background
# scores stay below 0.2. A spurious box is only blurred.
DEFAULT_THRESHOLD = 0.3
# First-pass scores: below CANDIDATE_THRESHOLD nothing is a face; from SURE_SCORE up a face is
# accepted as it is (well above the fine pass's threshold; no such detection in the benchmark or
# the class photo is a false alarm).
CANDIDATE_THRESHOLD = 0.03
SURE_SCORE = 0.5
# Each pass is trusted for a band of face widths (px in the picture it saw). Outside it a
# detection is kept only if no in-band detection covers the same face: a whole-picture pass sees
# just part of a very large face, the coarse pass blurs small ones.
_FINE_MAX_WIDTH = 220.0
_COARSE_MIN_WIDTH = 40.0
_SAME_FACE_IOU = 0.3
_SAME_FACE_CONTAINED = 0.6
# Blocks: the overlap exceeds the largest face a whole-picture pass is trusted for, so any such
# face is whole in some block; a detection cut by a block's inner edge is only a fallback.
_BLOCK_PIXELS = 2016 * 896
_BLOCK_OVERLAP = 256
# Confirmation crops: the candidate plus this fraction of its size on every side (at least
# _CONFIRM_MIN_MARGIN px), so the network sees the face with its surroundings as in a full pass.
_CONFIRM_MARGIN = 1.0
_CONFIRM_MIN_MARGIN = 32.0
# The fixed price of one network run (three onnxruntime sessions and their tiles), in pixels of
# picture that cost as much: a 64x64 crop costs as much as 16,000 px of a large picture.
_RUN_OVERHEAD_PIXELS = 12_000


class Confirmation(Enum):
    """How doubtful first-pass candidates are confirmed at the fine scale. `BOUNDED` is the
    engine's; the others are what it chooses between, kept for tests and bench/ideas.py."""

    EACH = "one network run on each candidate's own crop (before)"
    GROUPED = "one run per group of nearby crops"
    FINE_PASS = "one whole fine pass"
    BOUNDED = "grouped crops, or the whole fine pass when that costs less"


@dataclass(frozen=True)
class PassPlan:
    """Scales (working px per original px) of the passes for one photo size.

    `first == fine` means no cascade: the first pass is already at the fine scale and its
    detections are final.
    """

    fine: float
    first: float
    coarse: float


def plan_passes(width: int, height: int) -> PassPlan:
    """Choose the pass scales for an upright original of this size.

    The fine and first passes are sized by pixels, not by the long side: each gets the pixels
    it has in a 12 MP 4:3 photo (never a smaller scale than recall needs), so a square or
    panoramic photo costs per megapixel what a 12 MP one does (by the long side, a 3024x3024
    photo's first pass had 2.4 MP, 1.8x the 12 MP photo's cost per megapixel). A photo whose
    fine picture is no longer than the first pass takes that one pass alone."""
    long_side = max(width, height)
    pixels = max(width * height, 1)
    fine = min(1.0, max(math.sqrt(_FINE_PIXELS / pixels), FINE_MIN_SCALE))
    first = min(fine, max(math.sqrt(_FIRST_PIXELS / pixels), FIRST_MIN_SCALE))
    if long_side * fine <= FIRST_SIDE:
        first = fine
    return PassPlan(fine=fine, first=first, coarse=min(1.0, COARSE_SIDE / long_side))


def detect_faces(
    image: DecodedImage,
    detector: CenterFace,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    cascade: bool = True,
    confirm: Confirmation = Confirmation.BOUNDED,
) -> list[Detection]:
    """Faces in upright-original coordinates, best score first.

    `image` may already be reduced (e.g. decoded at the fine scale); each pass is resized from
    it, never enlarged beyond it. `cascade=False` runs the whole fine pass instead of the first
    pass and its confirmations: the reference the cascade is tested and benchmarked against.
    """
    plan = plan_passes(image.full_width, image.full_height)
    if not cascade:
        plan = PassPlan(fine=plan.fine, first=plan.fine, coarse=plan.coarse)
    # Each working copy is made from the next larger one: area-averaging a 12 MP picture down to
    # 640 px costs more than the coarse pass itself. The first pass is always 0.76 of the fine
    # scale, already area-averaged: bilinear resampling is enough there (its faces score no
    # lower, bench/ideas.py) at a sixth of the cost.
    fine = _resized(image.pixels, plan.fine / image.scale)
    confirming = plan.first < plan.fine
    first = _resized(fine, plan.first / plan.fine, cv2.INTER_LINEAR) if confirming else fine
    to_original = image.full_width / first.shape[1]
    first_threshold = min(threshold, CANDIDATE_THRESHOLD) if confirming else threshold
    candidates: list[tuple[bool, Detection]] = []
    doubtful: list[Detection] = []
    for found, whole in _whole_picture(detector, first, first_threshold):
        placed = found.scaled(to_original)
        # Only the faces the fine pass is the authority on (up to its band's width there) are
        # worth a second look; what is larger is judged here and by the coarse pass.
        confirmable = found.box.width * plan.fine / plan.first <= _FINE_MAX_WIDTH
        if confirming and found.score < max(SURE_SCORE, threshold) and confirmable:
            doubtful.append(placed)
        elif found.score >= threshold:
            candidates.append((whole and found.box.width <= _FINE_MAX_WIDTH, placed))
    if doubtful:
        candidates += _confirmed(detector, fine, image.full_width, doubtful, threshold, confirm)
    if plan.coarse < plan.first:
        coarse = _resized(first, plan.coarse / plan.first)
        to_original = image.full_width / coarse.shape[1]
        candidates += [
            (found.box.width >= _COARSE_MIN_WIDTH, found.scaled(to_original))
            for found in detector.detect(coarse, threshold)
        ]
    return _merge(candidates)


def _whole_picture(
    detector: CenterFace, pixels: NDArray[np.uint8], threshold: float
) -> Iterator[tuple[Detection, bool]]:
    """Detections over the whole picture (in its coordinates), block by block, each with whether
    it lies whole inside its block (one cut by a block's inner edge is only a fallback)."""
    height, width = pixels.shape[:2]
    for top, bottom, left, right in _blocks(height, width):
        for found in detector.detect(pixels[top:bottom, left:right], threshold):
            box = found.box
            cut = (
                (top > 0 and box.top <= 1)
                or (bottom < height and box.bottom >= bottom - top - 1)
                or (left > 0 and box.left <= 1)
                or (right < width and box.right >= right - left - 1)
            )
            yield found.scaled(1.0, float(left), float(top)), not cut


def _confirmed(
    detector: CenterFace,
    fine: NDArray[np.uint8],
    full_width: int,
    doubtful: list[Detection],
    threshold: float,
    confirm: Confirmation,
) -> list[tuple[bool, Detection]]:
    """Detections of the fine-scale picture around each doubtful first-pass candidate (original
    coordinates) that are the same face, each with whether it is in the band a whole-picture pass
    is trusted for: the verdict the whole fine pass would give on those spots.

    Each candidate needs the fine picture around it (its confirmation area). `EACH` runs the
    network once per area. `BOUNDED` runs it once per group of areas that lie close enough for
    one run over the group's bounding box to cost less than a run each (a crowd's heads share
    their rows), and runs the whole fine pass instead when even those runs would cost more: a
    crowd photo then costs one fine pass, never hundreds of runs.
    """
    to_fine = fine.shape[1] / full_width
    height, width = fine.shape[:2]
    areas = [_confirmation_area(c.box.scaled(to_fine), width, height) for c in doubtful]
    groups = [(area, [i]) for i, area in enumerate(areas)]
    if confirm in (Confirmation.GROUPED, Confirmation.BOUNDED):
        groups = _grouped(areas)
    if confirm is Confirmation.BOUNDED:
        whole_cost = sum(_run_cost(b - t, r - left) for t, b, left, r in _blocks(height, width))
        grouped_cost = sum(_run_cost(b - t, r - left) for (left, t, r, b), _ in groups)
        confirm = Confirmation.FINE_PASS if grouped_cost >= whole_cost else Confirmation.GROUPED
    if confirm is Confirmation.FINE_PASS:
        fine_pass = [
            (whole and f.box.width <= _FINE_MAX_WIDTH, f.scaled(1 / to_fine))
            for f, whole in _whole_picture(detector, fine, threshold)
        ]
        return [(t, f) for t, f in fine_pass if any(_same_face(f, c) for c in doubtful)]
    kept: list[tuple[bool, Detection]] = []
    for (left, top, right, bottom), members in groups:
        for found in detector.detect(fine[top:bottom, left:right], threshold):
            placed = found.scaled(1.0, float(left), float(top)).scaled(1 / to_fine)
            if any(_same_face(placed, doubtful[i]) for i in members):
                kept.append((found.box.width <= _FINE_MAX_WIDTH, placed))
    return kept


_Area = tuple[int, int, int, int]  # left, top, right, bottom in whole pixels


def _confirmation_area(box: Box, width: int, height: int) -> _Area:
    """The fine-scale pixels a candidate is confirmed on: the box with a face's width of margin
    on each side (at least _CONFIRM_MIN_MARGIN), so the network sees the face with its
    surroundings as in a full pass."""
    grow_x = max(box.width * _CONFIRM_MARGIN, _CONFIRM_MIN_MARGIN)
    grow_y = max(box.height * _CONFIRM_MARGIN, _CONFIRM_MIN_MARGIN)
    area = Box(box.left - grow_x, box.top - grow_y, box.right + grow_x, box.bottom + grow_y)
    return area.clipped(width, height).as_ints()


def _run_cost(height: int, width: int) -> int:
    """What one network run over a (height x width) picture costs, in pixel-equivalents: the
    picture padded to the network's alignment plus a fixed price per run (bench/ideas.py)."""
    return -(-height // 32) * 32 * (-(-width // 32) * 32) + _RUN_OVERHEAD_PIXELS


def _grouped(areas: list[_Area]) -> list[tuple[_Area, list[int]]]:
    """Confirmation areas gathered into runs: an area joins the group whose bounding box grows
    least in cost by taking it, if that costs less than a run of its own and the group stays
    within one block's pixel budget; then groups join each other on the same rule until none
    does. Returns each group's bounding box and the indices of its areas."""
    groups: list[tuple[_Area, list[int]]] = []
    for i in sorted(range(len(areas)), key=lambda i: (areas[i][1], areas[i][0])):
        best = _cheapest_join(areas[i], [area for area, _ in groups])
        if best is None:
            groups.append((areas[i], [i]))
        else:
            joined, members = groups[best]
            groups[best] = (_union(joined, areas[i]), [*members, i])
    merging = True
    while merging:
        merging = False
        for g in range(len(groups)):
            others = [area for area, _ in groups[g + 1 :]]
            best = _cheapest_join(groups[g][0], others)
            if best is not None:
                area, members = groups.pop(g + 1 + best)
                groups[g] = (_union(groups[g][0], area), groups[g][1] + members)
                merging = True
                break
    return groups


def _cheapest_join(area: _Area, groups: list[_Area]) -> int | None:
    """Index of the group that `area` joins most cheaply, or None if a run of its own is
    cheaper than joining any (or every join would exceed one block's pixel budget)."""
    if not groups:
        return None
    boxes = np.array(groups, dtype=np.int64)
    left = np.minimum(boxes[:, 0], area[0])
    top = np.minimum(boxes[:, 1], area[1])
    right = np.maximum(boxes[:, 2], area[2])
    bottom = np.maximum(boxes[:, 3], area[3])
    joined = _aligned(bottom - top) * _aligned(right - left)
    apart = _aligned(boxes[:, 3] - boxes[:, 1]) * _aligned(boxes[:, 2] - boxes[:, 0])
    apart += _run_cost(area[3] - area[1], area[2] - area[0])
    saving = np.where(joined <= _BLOCK_PIXELS, apart - joined, -1)
    best = int(np.argmax(saving))
    return best if saving[best] > 0 else None


def _aligned(sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sizes padded to the network's alignment, as `_run_cost` counts them."""
    return -(-sizes // 32) * 32


def _union(a: _Area, b: _Area) -> _Area:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _blocks(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of the blocks covering the picture: the grid whose blocks fit
    the pixel budget, overlap by _BLOCK_OVERLAP in both directions and cost least in all.

    A grid, not full-width strips: on a 48 MP photo's 3072 px wide first pass, strips within the
    budget are 549 rows high and their overlaps add 67% to the pass; 2x3 blocks add 30%."""
    best: tuple[int, int, int] | None = None  # cost, rows, cols
    for rows in range(1, height // _BLOCK_OVERLAP + 2):
        block_h = -(-(height + (rows - 1) * _BLOCK_OVERLAP) // rows)
        for cols in range(1, width // _BLOCK_OVERLAP + 2):
            block_w = -(-(width + (cols - 1) * _BLOCK_OVERLAP) // cols)
            too_thin = (rows > 1 and block_h < 2 * _BLOCK_OVERLAP) or (
                cols > 1 and block_w < 2 * _BLOCK_OVERLAP
            )
            if too_thin or block_h * block_w > _BLOCK_PIXELS:
                continue
            cost = rows * cols * _run_cost(block_h, block_w)
            if best is None or cost < best[0]:
                best = (cost, rows, cols)
    _cost, rows, cols = best if best is not None else (0, 1, 1)
    return [
        (top, top + block_h, left, left + block_w)
        for top, block_h in _spans(height, rows)
        for left, block_w in _spans(width, cols)
    ]


def _spans(length: int, count: int) -> list[tuple[int, int]]:
    """(start, size) of `count` equal spans covering `length`, overlapping by _BLOCK_OVERLAP."""
    if count == 1:
        return [(0, length)]
    size = -(-(length + (count - 1) * _BLOCK_OVERLAP) // count)
    return [(round(i * (length - size) / (count - 1)), size) for i in range(count)]


def _resized(
    pixels: NDArray[np.uint8], factor: float, interpolation: int = cv2.INTER_AREA
) -> NDArray[np.uint8]:
    if factor >= 1.0:
        return pixels
    height, width = pixels.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(cv2.resize(pixels, size, interpolation=interpolation), dtype=np.uint8)


def _merge(candidates: list[tuple[bool, Detection]]) -> list[Detection]:
    """Keep one detection per face: in-band ones first, each by score; drop any that overlaps
    (or sits inside) one already kept."""
    ordered = sorted(candidates, key=lambda c: (not c[0], -c[1].score))
    kept: list[Detection] = []
    for _trusted, candidate in ordered:
        if not any(_same_face(candidate, k) for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda d: -d.score)


def _same_face(a: Detection, b: Detection) -> bool:
    if a.box.iou(b.box) >= _SAME_FACE_IOU:
        return True
    smaller = min(a.box.area(), b.box.area())
    return a.box.intersection(b.box) >= _SAME_FACE_CONTAINED * smaller
