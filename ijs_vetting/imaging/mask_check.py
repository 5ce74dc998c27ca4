"""Checking opaque masks by their pixels, on the rendering as it was encoded and decoded back.

A detector run over a masked rendering cannot tell whether a mask hides a head: CenterFace scores
a grey ellipse on a pair of shoulders at 0.3-0.6, a head-shaped blob. What can be checked for
certain is the pixels: if every pixel inside a head's ellipse is the fill colour, nothing of that
head survives, whatever a detector thinks of the shape.

JPEG does not keep a flat colour exact next to an edge, so the tolerance follows how JPEG works
and what it was measured to do (the crowd, class and group scenes of tests/scenes.py, encoded as
`export.encode_jpeg` does at quality 90 and at its lowest, 50; tests/imaging/test_mask_check.py):
- luminance is coded in 8x8 blocks. A block entirely inside the ellipse is flat, so it decodes to
  one value within a rounding of the fill (measured: at most 2 levels off, every pixel 8 px or
  more inside the edge). Only blocks that straddle the edge ring: up to 27 levels off within 8 px
  of it. A pixel 10 px inside (a block's diagonal) can share no block with the edge, so the
  *interior* (10 px and more inside) must be within `LUMA_TOLERANCE`;
- colour is halved in resolution (4:2:0, so 16 px blocks) and decoded with smoothing: it rings
  up to 19 levels at the edge and 13 further than 8 px in; the interior must be within
  `CHROMA_TOLERANCE`;
- the *edge ring* (under 10 px inside) is held to `RING_TOLERANCE` of luminance only: loose
  enough for ringing, tight enough that an eye, a mouth or hair left unmasked fails.
The ring lies outside the face box except for the chin's corners on the smallest faces (the
ellipse spans the head: 30% beyond the face box on each side, 60% above), so what is checked
tightly is the face itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.imaging.box import Box

Pixels = NDArray[np.uint8]

INTERIOR_DEPTH = 10.0  # px inside the ellipse's edge where the interior starts
LUMA_TOLERANCE = 8.0
CHROMA_TOLERANCE = 24.0
RING_TOLERANCE = 48.0


def solid_masks(
    pixels: Pixels, regions: Sequence[Box], colour: tuple[int, int, int]
) -> tuple[bool, ...]:
    """For each head region, whether its ellipse (within the picture) is the fill colour."""
    fill = cv2.cvtColor(np.array([[colour]], np.uint8), cv2.COLOR_RGB2YCrCb)[0, 0]
    return tuple(_solid(pixels, region, fill.astype(np.float32)) for region in regions)


def _solid(pixels: Pixels, region: Box, fill: NDArray[np.float32]) -> bool:
    """Only the region's window is converted: the masks cover a small part of a photo."""
    height, width = pixels.shape[:2]
    left, top, right, bottom = region.clipped(width, height).as_ints()
    if right <= left or bottom <= top:
        return True  # wholly outside the picture: nothing there to show
    window = np.ascontiguousarray(pixels[top:bottom, left:right])
    deviation = np.abs(cv2.cvtColor(window, cv2.COLOR_RGB2YCrCb).astype(np.float32) - fill)
    cx, cy = region.centre
    a, b = max(region.width / 2, 1e-6), max(region.height / 2, 1e-6)
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
    distance = np.hypot((xs + 0.5 - cx) / a, (ys + 0.5 - cy) / b)
    # (1 - d) * the shorter semi-axis never exceeds the true distance to the edge.
    depth = (1.0 - distance) * min(a, b)
    inside = distance <= 1.0
    interior = inside & (depth >= INTERIOR_DEPTH)
    ring = inside & ~interior
    luma, chroma = deviation[..., 0], deviation[..., 1:].max(axis=-1)
    return bool(
        (luma[interior] <= LUMA_TOLERANCE).all()
        and (chroma[interior] <= CHROMA_TOLERANCE).all()
        and (luma[ring] <= RING_TOLERANCE).all()
    )
