"""Masking the heads of children who may not be shown, on upright RGB pixels.

A face box from the detector runs from brows to chin, but hair, ears and the outline of a head are
enough for classmates and parents to recognise a child. So the mask covers the *head*: the box
grown by 30% on each side and below, and by 60% above for hair, filled with an ellipse inscribed
in that region. The ellipse is fully opaque inside and fades out only *outside* it, so the soft
edge never lets a single pixel of the head through.

Blur is offered as a style because schools ask for it, but blur and pixelation can be reversed by
machines (McPherson et al. 2016, "Defeating image obfuscation with deep learning"): a blurred
rendering is only queued if the verification after rendering cannot find or match the face, and
a light blur fails that check by design (see tests/imaging).

Pure numpy/OpenCV: no faces engine, no database, so it is tested on pixels alone.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.imaging.box import Box

Pixels = NDArray[np.uint8]

# Growth of the face box, as fractions of its width (sides) and height (top, bottom).
HEAD_SIDE = 0.3
HEAD_TOP = 0.6
HEAD_BOTTOM = 0.3


class MaskStyle(enum.StrEnum):
    """How a head is hidden: an opaque ellipse (default) or a strong blur inside it."""

    OPAQUE = "opaque"
    BLUR = "blur"


@dataclass(frozen=True)
class Mask:
    """The look of a mask.

    `feather` is the width of the soft edge outside the ellipse, as a fraction of the ellipse's
    semi-axes; `blur` (blur style only) is the Gaussian sigma as a fraction of the head's width.
    """

    style: MaskStyle = MaskStyle.OPAQUE
    colour: tuple[int, int, int] = (150, 150, 150)
    feather: float = 0.12
    blur: float = 0.5


DEFAULT_MASK = Mask()


def head_region(face: Box) -> Box:
    """The region a mask must cover for this face box: the whole head, hair included."""
    return Box(
        face.left - HEAD_SIDE * face.width,
        face.top - HEAD_TOP * face.height,
        face.right + HEAD_SIDE * face.width,
        face.bottom + HEAD_BOTTOM * face.height,
    )


def ellipse_distance(region: Box, x: float, y: float) -> float:
    """How far (x, y) is from the centre of the ellipse inscribed in `region`, in units of its
    semi-axes: at most 1 inside the ellipse."""
    cx, cy = region.centre
    a, b = max(region.width / 2, 1e-6), max(region.height / 2, 1e-6)
    return float(np.hypot((x - cx) / a, (y - cy) / b))


def in_mask(region: Box, x: float, y: float) -> bool:
    """True when the point lies in the fully opaque part of the mask over `region`."""
    return ellipse_distance(region, x, y) <= 1.0


def mask_heads(
    pixels: Pixels, faces: Sequence[Box], mask: Mask = DEFAULT_MASK
) -> tuple[Pixels, tuple[Box, ...]]:
    """A copy of `pixels` with the head around every face box masked; also the head regions
    (unclipped, in the same pixel coordinates) so a verification can look inside them."""
    out = np.array(pixels, dtype=np.uint8, copy=True)
    regions = tuple(head_region(face) for face in faces)
    for region in regions:
        _mask_region(out, region, mask)
    return out, regions


def _mask_region(out: Pixels, region: Box, mask: Mask) -> None:
    """Paint one ellipse (in place), working only on the window it can touch."""
    height, width = out.shape[:2]
    window = region.grown(mask.feather).clipped(width, height)
    left, top, right, bottom = window.as_ints()
    if right <= left or bottom <= top:
        return
    cx, cy = region.centre
    a, b = max(region.width / 2, 1.0), max(region.height / 2, 1.0)
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
    distance = np.hypot((xs + 0.5 - cx) / a, (ys + 0.5 - cy) / b)
    feather = max(mask.feather, 1e-3)
    alpha = np.clip((1.0 + feather - distance) / feather, 0.0, 1.0)[..., None]
    patch = out[top:bottom, left:right].astype(np.float32)
    if mask.style is MaskStyle.BLUR:
        sigma = max(mask.blur * region.width, 0.5)
        cover = cv2.GaussianBlur(patch, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    else:
        cover = np.empty_like(patch)
        cover[...] = np.asarray(mask.colour, dtype=np.float32)
    blended = cover * alpha + patch * (1.0 - alpha)
    out[top:bottom, left:right] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
