"""Decode a photo file into upright RGB pixels, optionally reduced for speed.

Every later step (detection, encodings, redaction, thumbnails) works on the *upright* picture, the
one a person sees, so boxes drawn by the engine land on the right face whatever EXIF orientation
the iPad wrote. `face_recognition.load_image_file` ignores orientation and must not be used.

A damaged file is an error, never a grey-padded picture: a photo whose lower half is missing could
hide a face that was never checked. Importing `face_recognition` switches Pillow's
`LOAD_TRUNCATED_IMAGES` on for the whole process, so `decode_image` switches it back off before
every load rather than trusting whoever imported what last.

Pillow reads the header (size, EXIF orientation) of every format and decodes PNGs. JPEGs and
HEICs, the iPads' formats, take faster roads to a numpy array: Pillow keeps RGB as 4 bytes a pixel,
and copying a 12 MP picture out of that into numpy takes longer than libjpeg-turbo takes to decode
it (bench/ideas.py). A JPEG goes through simplejpeg in strict mode: a file that libjpeg reads
only with a warning (cut short, zero-filled by an interrupted copy, data that stops making sense,
a header it does not trust) is refused as damaged, because libjpeg would fill what it could not
read with grey, and a face in that part would never be checked. (Pillow, used before, refused
only files with no end marker.) Damage that libjpeg cannot notice, such as a few flipped bytes
in a JPEG without restart markers, decodes as wrong colours in a band: no decoder catches that.
Only a JPEG whose sampling layout the TurboJPEG interface cannot describe is left to Pillow,
which reads it through libjpeg's full interface.
A HEIC is read by pillow_heif directly, which applies the file's own rotation (libheif honours
it and pillow_heif resets the EXIF tag, so the Pillow header agrees). libheif reports no damage
in the coded picture itself, so a HEIC whose end is zero-filled, as an interrupted copy into a
preallocated file leaves it, is refused here: its coded data (stored last) never ends in a run of
zero bytes. Damage in the middle of a HEIC still goes unnoticed by the decoder.

A picture of more than `MAX_PIXELS` is refused from its header, before any decoding: a PNG of a
few hundred kilobytes can declare 169 MP, and decoding it took a worker to 1.86 GB.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cv2
import numpy as np
import pillow_heif
import simplejpeg
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ijs_vetting.imaging.box import Box

pillow_heif.register_heif_opener()

# EXIF orientations 5-8 turn the stored picture by a quarter turn, swapping width and height.
_QUARTER_TURN_ORIENTATIONS = {5, 6, 7, 8}
_TURNING_ORIENTATIONS = {2, 3, 4, 5, 6, 7, 8}
# How TurboJPEG says a JPEG's sampling factors are beyond its interface (not a damage sign).
_TURBOJPEG_LIMIT = "Could not determine subsampling level"
# A HEIC ending in this many zero bytes is cut short (see the module docstring).
_ZERO_TAIL = 512
# Pillow's modes for 16-bit greyscale (PNG), whose values run to 65535.
_SIXTEEN_BIT_GREY = {"I", "I;16", "I;16L", "I;16B", "I;16N"}
_ORIENTATION_TAG = 0x0112
# The largest picture decoded: above the 48 MP of the newest iPhones and iPads, and small enough
# that decoding it (Pillow holds 4 bytes a pixel, numpy's copy 3 more) stays near 400 MB, inside
# a worker's share of the station's 1.5 GB.
MAX_PIXELS = 50_000_000
# How Python names an in-memory file in an exception message ("<_io.BytesIO object at 0x...>").
_OBJECT_REPR = re.compile(r"<_io\.\w+ object at 0x[0-9a-fA-F]+>")

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

    For JPEGs the reduction happens inside the decoder (DCT scaling), which is several times
    faster than decoding 12 MP and shrinking afterwards.
    """
    try:
        with open_image(source) as im:
            _check_pixels(im)
            full_width, full_height = _upright_size(im)
            target = _target_size(full_width, full_height, max_side)
            # Decoders work in stored orientation: a quarter turn swaps the sides to ask for.
            stored = target if im.size[0] == full_width else (target[1], target[0])
            pixels = _fast_pixels(im, source, stored)
            if pixels is None:
                pixels = _pillow_pixels(im, stored)
    except (OSError, EOFError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(unreadable_reason(exc)) from exc
    if (pixels.shape[1], pixels.shape[0]) != target:
        pixels = np.ascontiguousarray(cv2.resize(pixels, target, interpolation=cv2.INTER_AREA))
    return DecodedImage(pixels=pixels, full_width=full_width, full_height=full_height)


def _fast_pixels(
    im: Image.Image, source: Source, stored: tuple[int, int]
) -> NDArray[np.uint8] | None:
    """Upright pixels of a JPEG (at least `stored` in size, reduced in the DCT) or of a whole
    HEIC, or None to leave the file to Pillow."""
    if im.format == "JPEG":
        data = source if isinstance(source, bytes) else Path(os.fspath(source)).read_bytes()
        size = {"min_width": stored[0], "min_height": stored[1]}
        try:
            stored_pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", strict=True, **size)
        except ValueError as warned:
            if _TURBOJPEG_LIMIT in str(warned):
                return None
            raise ImageDecodeError(
                "the picture is damaged, part of it cannot be read (if it opens on the iPad, "
                f"copy it again): {warned}"
            ) from warned
        return _turned_upright(stored_pixels, im.getexif().get(_ORIENTATION_TAG, 1))
    if im.format == "HEIF":
        if _ends_in_zeros(source):
            raise ImageDecodeError(
                "the picture is damaged, its end is missing (copy it again from the iPad): the "
                f"file ends in {_ZERO_TAIL} or more zero bytes, as an interrupted copy leaves it"
            )
        if stored != im.size:
            return None  # Pillow's draft() takes the file's own thumbnail when it is big enough
        try:
            heif = pillow_heif.open_heif(_stream(source), convert_hdr_to_8bit=True)
            return np.asarray(heif, dtype=np.uint8) if heif.mode == "RGB" else None
        except (RuntimeError, ValueError, OSError, EOFError):  # damaged: Pillow's message
            return None
    return None


def _ends_in_zeros(source: Source) -> bool:
    if isinstance(source, bytes):
        tail = source[-_ZERO_TAIL:]
    else:
        with open(source, "rb") as file:
            file.seek(max(file.seek(0, os.SEEK_END) - _ZERO_TAIL, 0))
            tail = file.read()
    return len(tail) == _ZERO_TAIL and not any(tail)


def _pillow_pixels(im: Image.Image, stored: tuple[int, int]) -> NDArray[np.uint8]:
    """Upright RGB pixels decoded by Pillow, JPEGs reduced to at least `stored` by draft()."""
    if stored != im.size:
        # draft() only ever rounds up; decode_image finishes the last step with a resize.
        im.draft("RGB", stored)
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    im.load()
    # exif_transpose copies the picture even when there is nothing to turn (22 ms for 12 MP), so
    # only call it when the tag asks for a turn.
    turned = im.getexif().get(_ORIENTATION_TAG, 1) in _TURNING_ORIENTATIONS
    upright = ImageOps.exif_transpose(im) if turned else im
    if upright.mode in _SIXTEEN_BIT_GREY:
        # Pillow's convert("RGB") clips these to 0 and 255 (a near-white picture, its faces
        # gone); keep the top 8 bits instead.
        grey = (np.asarray(upright).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
    return np.asarray(rgb, dtype=np.uint8)


def _turned_upright(stored: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """The stored picture turned as its EXIF orientation says, as `ImageOps.exif_transpose` does."""
    turn = _UPRIGHT_VIEWS.get(orientation)
    return stored if turn is None else np.ascontiguousarray(turn(stored))


_View = Callable[[NDArray[np.uint8]], NDArray[np.uint8]]
# EXIF orientation -> the numpy view showing the stored rows and columns upright.
_UPRIGHT_VIEWS: dict[int, _View] = {
    2: lambda p: p[:, ::-1],  # mirrored
    3: lambda p: p[::-1, ::-1],  # upside down
    4: lambda p: p[::-1],  # flipped
    5: lambda p: p.transpose(1, 0, 2),  # transposed
    6: lambda p: p[::-1].transpose(1, 0, 2),  # stored a quarter turn anticlockwise
    7: lambda p: p[::-1, ::-1].transpose(1, 0, 2),  # transversed
    8: lambda p: p[:, ::-1].transpose(1, 0, 2),  # stored a quarter turn clockwise
}


def upright_size(source: Source) -> tuple[int, int]:
    """Width and height as displayed, read from the header only (no pixel decoding)."""
    try:
        with open_image(source) as im:
            _check_pixels(im)
            return _upright_size(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(unreadable_reason(exc)) from exc


def _check_pixels(im: Image.Image) -> None:
    width, height = im.size
    if width * height > MAX_PIXELS:
        raise ImageDecodeError(
            f"the picture is {width} x {height} pixels ({width * height / 1e6:.0f} MP), more "
            f"than the {MAX_PIXELS / 1e6:.0f} MP this station decodes: no school camera takes "
            "such a photo (resize it, or take it again)"
        )


def unreadable_reason(exc: BaseException) -> str:
    """The message for a file that cannot be read, in words (never an object's repr)."""
    if isinstance(exc, UnidentifiedImageError):
        return "cannot read picture: it is not a JPEG, PNG or HEIC picture, or it is damaged"
    return f"cannot read picture: {_OBJECT_REPR.sub('the file', str(exc))}"


def open_image(source: Source) -> Image.Image:
    """Open lazily (header only) from a path or bytes; the caller closes it."""
    return Image.open(_stream(source))


def _stream(source: Source) -> IO[bytes] | Path:
    return io.BytesIO(source) if isinstance(source, bytes) else Path(os.fspath(source))


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
