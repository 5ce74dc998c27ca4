"""Decode a photo file into upright RGB pixels, optionally reduced for speed.

Every later step (detection, encodings, redaction, thumbnails) works on the *upright* picture, the
one a person sees, so boxes drawn by the engine land on the right face whatever EXIF orientation
the iPad wrote. `face_recognition.load_image_file` ignores orientation and must not be used.

A damaged file is an error, never a grey-padded picture: a photo whose lower half is missing could
hide a face that was never checked. Importing `face_recognition` switches Pillow's
`LOAD_TRUNCATED_IMAGES` on for the whole process, so `decode_image` switches it back off before
every load rather than trusting whoever imported what last.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cv2
import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps

from ijs_vetting.imaging.box import Box

pillow_heif.register_heif_opener()

# EXIF orientations 5-8 turn the stored picture by a quarter turn, swapping width and height.
_QUARTER_TURN_ORIENTATIONS = {5, 6, 7, 8}
_TURNING_ORIENTATIONS = {2, 3, 4, 5, 6, 7, 8}
_ORIENTATION_TAG = 0x0112

Source = str | os.PathLike[str] | bytes


class ImageDecodeError(Exception):
    """The file is not a picture we can read completely (corrupt, truncated, unknown format)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedImage:
    """Upright RGB pixels plus the size of the full upright original they stand for.

    `pixels` may be a reduced copy; `scale` is its width divided by the original's, so a box found
    in `pixels` maps back to original coordinates with `box.scaled(1 / scale)`.
    """

    pixels: NDArray[np.uint8]
    full_width: int
    full_height: int

    @property
    def scale(self) -> float:
        return float(self.pixels.shape[1]) / self.full_width

    def to_original(self, box: Box) -> Box:
        """Map a box in `pixels` to upright-original pixel coordinates."""
        return box.scaled(self.full_width / self.pixels.shape[1])


def decode_image(source: Source, max_side: int | None = None) -> DecodedImage:
    """Read a JPEG/PNG/HEIC (path or bytes) as upright RGB uint8, reduced to `max_side` if given.

    For JPEGs the reduction happens inside the decoder (DCT scaling via `Image.draft`), which is
    several times faster than decoding 12 MP and shrinking afterwards.
    """
    try:
        with open_image(source) as im:
            full_width, full_height = _upright_size(im)
            target = _target_size(full_width, full_height, max_side)
            if target != (full_width, full_height):
                # draft() works in stored orientation and only ever rounds up, so ask for the
                # reduced size in stored orientation and finish the last step with a resize below.
                stored = target if im.size[0] == full_width else (target[1], target[0])
                im.draft("RGB", stored)
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            im.load()
            # exif_transpose copies the picture even when there is nothing to turn (22 ms for
            # 12 MP, a fifth of the decode), so only call it when the tag asks for a turn.
            turned = im.getexif().get(_ORIENTATION_TAG, 1) in _TURNING_ORIENTATIONS
            upright = ImageOps.exif_transpose(im) if turned else im
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
            pixels = np.asarray(rgb, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot read picture: {exc}") from exc
    if (pixels.shape[1], pixels.shape[0]) != target:
        pixels = np.ascontiguousarray(cv2.resize(pixels, target, interpolation=cv2.INTER_AREA))
    return DecodedImage(pixels=pixels, full_width=full_width, full_height=full_height)


def upright_size(source: Source) -> tuple[int, int]:
    """Width and height as displayed, read from the header only (no pixel decoding)."""
    try:
        with open_image(source) as im:
            return _upright_size(im)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"cannot read picture: {exc}") from exc


def open_image(source: Source) -> Image.Image:
    """Open lazily (header only) from a path or bytes; the caller closes it."""
    stream: IO[bytes] | Path = (
        io.BytesIO(source) if isinstance(source, bytes) else Path(os.fspath(source))
    )
    return Image.open(stream)


def _upright_size(im: Image.Image) -> tuple[int, int]:
    width, height = im.size
    if im.getexif().get(_ORIENTATION_TAG) in _QUARTER_TURN_ORIENTATIONS:
        return height, width
    return width, height


def _target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return max(1, math.floor(width * factor + 0.5)), max(1, math.floor(height * factor + 0.5))
