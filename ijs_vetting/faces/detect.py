"""Find every face in an upright photo, reporting boxes in the photo's own pixel coordinates.

Recall is what matters: a missed face is a child published without consent, while a false alarm
only costs a blur. The settings below were chosen by measurement on a 12 MP class photo
(bench/ and tests/faces/): CenterFace finds faces reliably once they are about 20 px wide in the
picture it is given, so

- a *fine* pass runs at half the resolution of a 12 MP photo (2016 px on the long side, which is
  also exactly the JPEG decoder's cheap 1/2 DCT scale); no photo is ever reduced below half, so
  any face of 40 px or more in the original is at least 20 px there;
- a *coarse* pass at 640 px catches faces too big for the network's receptive field at the fine
  scale (a close-up filling much of the frame), at a few percent of the cost.

Tiling at full resolution was not needed: the fine pass already finds every face of 32 px and up
in the test class photo. The fine pass is however cut into horizontal strips of at most ~1.8 MP
overlapping by 256 px: onnxruntime keeps the activations of the largest input it has seen, and one
2016x1512 pass holds ~650 MB per worker against ~320 MB in two strips, for 8% more time.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces.centerface import CenterFace, Detection
from ijs_vetting.imaging.decode import DecodedImage

# Long side of the fine pass for a 12 MP photo, and the smallest reduction ever applied to it.
FINE_SIDE = 2016
FINE_MIN_SCALE = 0.5
COARSE_SIDE = 640
# Recall first: 40 px faces in the class photo score 0.6 and more; background scores stay below
# 0.2. A spurious box is only blurred.
DEFAULT_THRESHOLD = 0.3
# Each pass is trusted for a band of face widths (px in the picture it saw). Outside it a
# detection is kept only if no in-band detection covers the same face: the fine pass sees just
# part of a very large face, the coarse pass blurs small ones.
_FINE_MAX_WIDTH = 220.0
_COARSE_MIN_WIDTH = 40.0
_SAME_FACE_IOU = 0.3
_SAME_FACE_CONTAINED = 0.6
# Strips: the overlap exceeds the tallest face the fine pass is trusted for, so any such face
# is whole in some strip; a detection cut by a strip's inner edge is only a fallback.
_STRIP_PIXELS = 2016 * 896
_STRIP_OVERLAP = 256


@dataclass(frozen=True)
class PassPlan:
    """Scales (working px per original px) of the two passes for one photo size."""

    fine: float
    coarse: float


def plan_passes(width: int, height: int) -> PassPlan:
    """Choose the pass scales for an upright original of this size."""
    long_side = max(width, height)
    fine = min(1.0, max(FINE_SIDE / long_side, FINE_MIN_SCALE))
    return PassPlan(fine=fine, coarse=min(1.0, COARSE_SIDE / long_side))


def detect_faces(
    image: DecodedImage, detector: CenterFace, threshold: float = DEFAULT_THRESHOLD
) -> list[Detection]:
    """Faces in upright-original coordinates, best score first.

    `image` may already be reduced (e.g. decoded at the fine scale); each pass is resized from
    it, never enlarged beyond it.
    """
    plan = plan_passes(image.full_width, image.full_height)
    passes = [(plan.fine, _FINE_MAX_WIDTH, True)]
    if plan.coarse < plan.fine:
        passes.append((plan.coarse, _COARSE_MIN_WIDTH, False))
    candidates: list[tuple[bool, Detection]] = []
    for scale, limit, limit_is_max in passes:
        working = _resized(image.pixels, min(1.0, scale / image.scale))
        to_original = image.full_width / working.shape[1]
        for top, bottom in _strips(*working.shape[:2]):
            for found in detector.detect(working[top:bottom], threshold):
                in_band = found.box.width <= limit if limit_is_max else found.box.width >= limit
                cut = (top > 0 and found.box.top <= 1) or (
                    bottom < working.shape[0] and found.box.bottom >= bottom - top - 1
                )
                placed = found.scaled(1.0, 0.0, float(top)).scaled(to_original)
                candidates.append((in_band and not cut, placed))
    return _merge(candidates)


def _strips(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges covering the picture, each within the pixel budget, overlapping enough."""
    rows = max(_STRIP_PIXELS // max(width, 1), 2 * _STRIP_OVERLAP)
    if height <= rows:
        return [(0, height)]
    count = -(-(height - _STRIP_OVERLAP) // (rows - _STRIP_OVERLAP))
    strip = -(-(height + (count - 1) * _STRIP_OVERLAP) // count)
    return [
        (start, start + strip)
        for start in (round(i * (height - strip) / (count - 1)) for i in range(count))
    ]


def _resized(pixels: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    if factor >= 1.0:
        return pixels
    height, width = pixels.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


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
