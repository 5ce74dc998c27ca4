"""From a vault original to the file that may be posted: upright, sRGB, reduced, masked, encoded.

The order matters. The picture is reduced to the posting size *before* masking, so the masks are
painted on the final pixels and no resampling can blend a masked head's pixels back in; the
original file is only read, never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import (
    ImageDecodeError,
    Source,
    decode_image,
    open_image,
    unreadable_reason,
)
from ijs_vetting.imaging.export import MAX_SIDE, Pixels, encode_jpeg, to_srgb
from ijs_vetting.imaging.redact import DEFAULT_MASK, Mask, mask_heads


@dataclass(frozen=True)
class Rendering:
    """An encoded posting file, the face boxes masked in it and the head regions their masks
    cover (both in the rendering's own pixels), and its scale (rendering px per original px)."""

    data: bytes
    width: int
    height: int
    masked_faces: tuple[Box, ...]
    regions: tuple[Box, ...]
    scale: float = 1.0


def render_for_posting(
    source: Source, faces: Sequence[Box], mask: Mask = DEFAULT_MASK, *, max_side: int = MAX_SIDE
) -> Rendering:
    """Render `source` with the heads around `faces` (upright-original pixels) masked.

    Raises `ImageDecodeError` for an unreadable original and `ExportError` when no clean file
    within the limits can be made.
    """
    pixels, scale = unmasked(source, max_side=max_side)
    boxes = [face.scaled(scale) for face in faces]
    masked, regions = mask_heads(pixels, boxes, mask)
    data = encode_jpeg(masked, max_side=max_side)
    height, width = masked.shape[:2]
    return Rendering(data, width, height, tuple(boxes), regions, scale)


def unmasked(source: Source, *, max_side: int = MAX_SIDE) -> tuple[Pixels, float]:
    """The pixels a rendering of `source` is painted on (upright, sRGB, reduced), and their
    scale: what the picture looked like before any mask, for comparing with the rendering."""
    decoded = decode_image(source, max_side=max_side)
    return to_srgb(decoded.pixels, _icc_profile(source)), decoded.scale


def _icc_profile(source: Source) -> bytes | None:
    try:
        with open_image(source) as im:
            profile = im.info.get("icc_profile")
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(unreadable_reason(exc)) from exc
    return profile if isinstance(profile, bytes) and profile else None
