"""What the check before posting needs from the engine, computed in a pool worker.

For one rendering: every face the engine finds in it (as `analyse_photo` reports them), whether
each opaque mask is solid fill colour (`imaging.mask_check`), and, for a detection that is
neither in a solid mask nor on a face shown or marked "not a face", what the *unmasked* picture
scores at the same place for anything but the faces vetting decided. Masks change a face
detector's context: a grey ellipse on a collar, or a napkin next to one, can score a little
above the threshold where the same pixels without the masks beside them scored nothing. The
unmasked picture's score there is the original's own vetting verdict on that place, so the
decision (`services.verify`) can tell a face vetting missed from an effect of the masks.

The engine (onnxruntime and dlib, 100 MB) is imported inside the worker's call only: the
station's own process imports this module to name the task, and the GUI never runs it.

The rendering comes in as bytes, not as a file: a rendering waiting for its check is never on
disk, where a crash would leave it. The worker reports the SHA-256 of the bytes it checked, and
compares the original against its vault name before using it: a verdict is always about known
bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces.detect import plan_passes
from ijs_vetting.faces.results import PhotoAnalysis
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import ImageDecodeError, decode_image
from ijs_vetting.imaging.mask_check import solid_masks
from ijs_vetting.imaging.redact import in_mask
from ijs_vetting.imaging.render import unmasked

if TYPE_CHECKING:
    from ijs_vetting.faces.centerface import CenterFace

# Overlap at which two boxes are one face (as `services.verify` judges them).
SAME_FACE_IOU = 0.3
# Scores below this say "nothing here"; it only needs to be under the detection threshold.
_LOOK_THRESHOLD = 0.05
# Around the place looked at: its size again on every side (at least this many px at the fine
# scale), so the network sees it with its surroundings, as a whole-picture pass does.
_MARGIN_MIN = 32.0


@dataclass(frozen=True)
class CheckRequest:
    """One rendering to check; every box is in the rendering's pixels."""

    rendering: bytes
    original: str  # the vault original, read only if a detection needs comparing
    original_sha256: str  # its vault name: bytes that do not hash to it are not compared with
    opaque: tuple[Box, ...]  # head regions under opaque masks (none for the blur style)
    colour: tuple[int, int, int]  # their fill
    decided: tuple[Box, ...]  # every face of the photo vetting or a reviewer decided
    judged: tuple[Box, ...]  # those a detection on which is judged without comparing: the
    # faces shown and those marked "not a face"
    min_identify_width: float


@dataclass(frozen=True)
class RenderingCheck:
    sha256: str  # of the rendering's bytes as checked here
    analysis: PhotoAnalysis  # the engine on the rendering, boxes in its pixels
    solid: tuple[bool, ...]  # per opaque region: nothing but the fill colour inside
    # Per face of `analysis`: the best score the unmasked picture gives, at that place, to
    # anything that is not a decided face; None where that was not needed.
    before: tuple[float | None, ...]


def same_face(a: Box, b: Box) -> bool:
    return a.iou(b) >= SAME_FACE_IOU


def check_rendering(request: CheckRequest) -> RenderingCheck | str:
    """Runs in a worker (`FacePool.run`); an unreadable rendering, or an original that no longer
    matches its vault name, comes back as its message."""
    from ijs_vetting.faces import engine  # in the worker only (see the module's docstring)

    checked = hashlib.sha256(request.rendering).hexdigest()
    try:
        image = decode_image(request.rendering)
    except ImageDecodeError as exc:
        return exc.reason
    analysis = engine.analyse_photo(image, min_identify_width=request.min_identify_width)
    solid = solid_masks(image.pixels, request.opaque, request.colour)
    masks = [region for region, ok in zip(request.opaque, solid, strict=True) if ok]
    unexplained = [
        i
        for i, face in enumerate(analysis.faces)
        if not any(in_mask(region, *face.box.centre) for region in masks)
        and not any(same_face(face.box, box) for box in request.judged)
    ]
    before: list[float | None] = [None] * len(analysis.faces)
    if unexplained:
        try:
            original = Path(request.original).read_bytes()
        except OSError:
            original = None
        if original is not None and hashlib.sha256(original).hexdigest() != request.original_sha256:
            return "its original in the vault changed while the picture was being checked"
        try:
            pixels = None if original is None else unmasked(original)[0]
        except ImageDecodeError:
            pixels = None  # compared with nothing, every such detection counts as a face
        if pixels is not None:
            for i in unexplained:
                box = analysis.faces[i].box
                before[i] = score_at(engine.detector(), pixels, box, request.decided)
    return RenderingCheck(checked, analysis, solid, tuple(before))


def score_at(
    detector: CenterFace, pixels: NDArray[np.uint8], place: Box, decided: tuple[Box, ...]
) -> float:
    """The best score the detector gives, at the fine scale vetting trusts, to a detection at
    `place` in `pixels` that is not one of the `decided` faces (0.0 when there is none)."""
    height, width = pixels.shape[:2]
    fine = plan_passes(width, height).fine
    grow_x = max(place.width, _MARGIN_MIN / fine)
    grow_y = max(place.height, _MARGIN_MIN / fine)
    area = Box(place.left - grow_x, place.top - grow_y, place.right + grow_x, place.bottom + grow_y)
    left, top, right, bottom = area.clipped(width, height).as_ints()
    if right <= left or bottom <= top:
        return 0.0
    crop = pixels[top:bottom, left:right]
    if fine < 1.0:
        size = (max(1, round(crop.shape[1] * fine)), max(1, round(crop.shape[0] * fine)))
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.uint8)
    scores = [0.0]
    for found in detector.detect(np.ascontiguousarray(crop), _LOOK_THRESHOLD):
        box = found.box.scaled((right - left) / crop.shape[1]).shifted(left, top)
        if same_face(box, place) and not any(same_face(box, d) for d in decided):
            scores.append(found.score)
    return max(scores)
